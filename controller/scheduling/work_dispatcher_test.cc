// The long-poll cap: a herd of polls over max_parked is turned away instead of queued.
#include "controller/scheduling/work_dispatcher.h"

#include <atomic>
#include <cstdio>
#include <memory>

#include "absl/synchronization/notification.h"
#include "controller/store/sqlite_store.h"
#include "gtest/gtest.h"

namespace faultline::controller::scheduling {
namespace {

class WorkDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = ::testing::TempDir() + "/work_dispatcher_test_" +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                             ".db";
    std::remove(path.c_str());
    auto store = store::SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    scheduler_ = std::make_unique<Scheduler>(store_.get(), Scheduler::Options{}, RealClock());
  }

  static std::shared_ptr<const store::AgentRecord> Agent(int i) {
    auto a = std::make_shared<store::AgentRecord>();
    a->agent_id = "a" + std::to_string(i);
    a->host.set_arch(v1::ARCH_X86_64);
    a->host.set_kernel_release("6.18.0");
    a->host.set_kernel_label("stock");
    return a;
  }

  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(WorkDispatcherTest, PollsOverTheCapAreRefusedAndTheRestStayParked) {
  WorkDispatcher dispatcher(scheduler_.get(), RealClock(), absl::Milliseconds(10),
                            /*max_parked=*/8);
  std::atomic<int> finished{0};
  int accepted = 0;
  for (int i = 0; i < 20; ++i) {
    // Wake the sweeper between polls so the cap also holds while a sweep has the batch out.
    dispatcher.Notify();
    accepted += dispatcher.Wait(Agent(i), absl::Now() + absl::Seconds(30),
                                [&](absl::StatusOr<std::optional<LeasedJob>>) { ++finished; });
  }
  EXPECT_EQ(accepted, 8);
  EXPECT_EQ(dispatcher.parked(), 8u);
  EXPECT_EQ(finished.load(), 0);  // Refused polls are the caller's to answer.
  dispatcher.Shutdown();
  EXPECT_EQ(finished.load(), 8);
}

TEST_F(WorkDispatcherTest, ACapFreesUpAsParkedPollsEnd) {
  WorkDispatcher dispatcher(scheduler_.get(), RealClock(), absl::Seconds(30), /*max_parked=*/1);
  absl::Notification ended;
  ASSERT_TRUE(dispatcher.Wait(Agent(1), absl::Now() + absl::Milliseconds(200),
                              [&](absl::StatusOr<std::optional<LeasedJob>>) { ended.Notify(); }));
  EXPECT_FALSE(dispatcher.Wait(Agent(2), absl::Now() + absl::Seconds(30),
                               [](absl::StatusOr<std::optional<LeasedJob>>) {}));
  ASSERT_TRUE(ended.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(dispatcher.Wait(Agent(3), absl::Now() + absl::Seconds(30),
                              [](absl::StatusOr<std::optional<LeasedJob>>) {}));
}

TEST_F(WorkDispatcherTest, UnboundedByDefault) {
  WorkDispatcher dispatcher(scheduler_.get(), RealClock());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(dispatcher.Wait(Agent(i), absl::Now() + absl::Seconds(30),
                                [](absl::StatusOr<std::optional<LeasedJob>>) {}));
  }
  EXPECT_EQ(dispatcher.parked(), 1000u);
}

}  // namespace
}  // namespace faultline::controller::scheduling
