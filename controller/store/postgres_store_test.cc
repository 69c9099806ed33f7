#include "controller/store/postgres_store.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "controller/store/postgres_connection.h"
#include "controller/store/store_conformance_test.h"
#include "gtest/gtest.h"
#include "tests/postgres/postgres_server.h"

namespace faultline::controller::store {
namespace {

using ::faultline::testing::PostgresServer;

// One server for the whole test binary; every test gets its own database on it.
class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<PostgresServer>> server = PostgresServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    absl::MutexLock lock(&mu);
    server_ = *std::move(server);
  }
  void TearDown() override {
    absl::MutexLock lock(&mu);
    server_.reset();
  }

  static absl::StatusOr<std::string> NewDatabase() {
    static std::atomic<int> counter{0};
    absl::MutexLock lock(&mu);
    if (server_ == nullptr) return absl::FailedPreconditionError("PostgreSQL did not start");
    return server_->CreateDatabase(absl::StrCat("store_test_", ++counter));
  }

 private:
  static absl::Mutex mu;
  static std::unique_ptr<PostgresServer> server_ ABSL_GUARDED_BY(mu);
};

absl::Mutex PostgresEnvironment::mu;
std::unique_ptr<PostgresServer> PostgresEnvironment::server_;

const ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

class PostgresBackend : public StoreBackend {
 public:
  explicit PostgresBackend(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  absl::StatusOr<std::unique_ptr<Store>> Open() override {
    absl::StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(conninfo_);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(*std::move(store));
  }
  int KnownSchemaVersion() override { return PostgresDialect().migrations.size(); }
  absl::Status SetSchemaVersion(int version) override {
    absl::StatusOr<std::unique_ptr<PostgresConnection>> db = PostgresConnection::Open(conninfo_);
    if (!db.ok()) return db.status();
    return (*db)->Exec("UPDATE schema_version SET version = ?", {SqlValue::Int(version)}).status();
  }
  absl::Status ExecScript(const std::string& sql) override {
    absl::StatusOr<std::unique_ptr<PostgresConnection>> db = PostgresConnection::Open(conninfo_);
    if (!db.ok()) return db.status();
    return (*db)->ExecScript(sql);
  }
  absl::Status FailInsertsInto(const std::string& table, bool fail) override {
    absl::StatusOr<std::unique_ptr<PostgresConnection>> db = PostgresConnection::Open(conninfo_);
    if (!db.ok()) return db.status();
    if (!fail) return (*db)->ExecScript(absl::StrCat("DROP TRIGGER fail_", table, " ON ", table));
    return (*db)->ExecScript(absl::StrCat(
        "CREATE OR REPLACE FUNCTION injected_failure() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; "
        "CREATE TRIGGER fail_", table, " BEFORE INSERT ON ", table,
        " FOR EACH ROW EXECUTE FUNCTION injected_failure()"));
  }

 private:
  std::string conninfo_;
};

std::unique_ptr<StoreBackend> MakeBackend() {
  absl::StatusOr<std::string> conninfo = PostgresEnvironment::NewDatabase();
  if (!conninfo.ok()) {
    ADD_FAILURE() << conninfo.status();
    return nullptr;
  }
  return std::make_unique<PostgresBackend>(*conninfo);
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformanceTest,
                         ::testing::Values(StoreBackendFactory(&MakeBackend)));

TEST(PostgresStoreTest, ReplicasStartingTogetherMigrateOnce) {
  absl::StatusOr<std::string> conninfo = PostgresEnvironment::NewDatabase();
  ASSERT_TRUE(conninfo.ok()) << conninfo.status();
  constexpr int kReplicas = 4;
  std::vector<absl::StatusOr<std::unique_ptr<PostgresStore>>> stores(kReplicas);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas; ++i) {
    threads.emplace_back([&, i] { stores[i] = PostgresStore::Open(*conninfo); });
  }
  for (auto& t : threads) t.join();
  for (auto& store : stores) {
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->SchemaVersion().value(), (*store)->KnownSchemaVersion());
  }
}

// Dashboards read these tables directly, so the columns carry PostgreSQL's own types.
TEST(PostgresStoreTest, SampleColumnsHaveDashboardFriendlyTypes) {
  absl::StatusOr<std::string> conninfo = PostgresEnvironment::NewDatabase();
  ASSERT_TRUE(conninfo.ok()) << conninfo.status();
  ASSERT_TRUE(PostgresStore::Open(*conninfo).ok());
  absl::StatusOr<std::unique_ptr<PostgresConnection>> db = PostgresConnection::Open(*conninfo);
  ASSERT_TRUE(db.ok()) << db.status();
  absl::StatusOr<SqlRows> rows = (*db)->Query(
      "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
      "WHERE table_name IN ('samples', 'run_summaries', 'runs') ORDER BY 1",
      {});
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::map<std::string, std::string> types;
  for (const SqlRow& row : *rows) types[row[0].AsString()] = row[1].AsString();
  EXPECT_EQ(types["samples.time"], "timestamp with time zone");
  EXPECT_EQ(types["samples.value"], "double precision");
  EXPECT_EQ(types["samples.run_id"], "bigint");
  EXPECT_EQ(types["run_summaries.median"], "double precision");
  EXPECT_EQ(types["runs.started"], "timestamp with time zone");
  EXPECT_EQ(types["runs.result"], "bytea");
}

// A connection the server drops (restart, failover, idle timeout) is reopened on the next call.
TEST(PostgresStoreTest, ReconnectsAfterTheServerDropsTheConnection) {
  absl::StatusOr<std::string> conninfo = PostgresEnvironment::NewDatabase();
  ASSERT_TRUE(conninfo.ok()) << conninfo.status();
  absl::StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(*conninfo);
  ASSERT_TRUE(store.ok()) << store.status();
  v1::CampaignSpec spec;
  spec.set_name("survives");
  absl::StatusOr<v1::Campaign> campaign =
      (*store)->CreateCampaign(spec, std::vector<v1::Job>(2), absl::FromUnixSeconds(1800000000));
  ASSERT_TRUE(campaign.ok()) << campaign.status();

  absl::StatusOr<std::unique_ptr<PostgresConnection>> admin = PostgresConnection::Open(*conninfo);
  ASSERT_TRUE(admin.ok()) << admin.status();
  absl::StatusOr<SqlRows> killed = (*admin)->Query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
      "current_database() AND pid <> pg_backend_pid()",
      {});
  ASSERT_TRUE(killed.ok()) << killed.status();
  ASSERT_EQ(killed->size(), 1u);

  // Wait (bounded) until the backend is gone, so the next call surely meets a dead connection.
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<SqlRows> others = (*admin)->Query(
        "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND "
        "pid <> pg_backend_pid()",
        {});
    ASSERT_TRUE(others.ok()) << others.status();
    if (others->empty()) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  // The call that finds the connection gone fails cleanly; the store reconnects for the next.
  absl::StatusOr<v1::Campaign> during = (*store)->GetCampaign(campaign->id());
  EXPECT_EQ(during.status().code(), absl::StatusCode::kUnavailable) << during.status();
  absl::StatusOr<v1::Campaign> after = (*store)->GetCampaign(campaign->id());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->spec().name(), "survives");
  EXPECT_TRUE((*store)
                  ->LeaseJob(campaign->id() + "/j-0001", "a", "l", absl::InfiniteFuture(),
                             absl::FromUnixSeconds(1800000000))
                  .value_or(false));
}

// Replicas learn of jobs another one queued or requeued from NOTIFY, sent at commit.
TEST(PostgresStoreTest, ListenerWakesOnJobsAnotherReplicaQueuesOrRequeues) {
  absl::StatusOr<std::string> conninfo = PostgresEnvironment::NewDatabase();
  ASSERT_TRUE(conninfo.ok()) << conninfo.status();
  absl::StatusOr<std::unique_ptr<PostgresStore>> writer = PostgresStore::Open(*conninfo);
  ASSERT_TRUE(writer.ok()) << writer.status();
  absl::StatusOr<std::unique_ptr<PostgresStore>> other = PostgresStore::Open(*conninfo);
  ASSERT_TRUE(other.ok()) << other.status();
  absl::StatusOr<std::unique_ptr<QueueListener>> listener = (*other)->ListenForQueuedJobs();
  ASSERT_TRUE(listener.ok()) << listener.status();
  // Bounded waits; a notification arrives in milliseconds.
  const absl::Duration kWait = absl::Seconds(20);
  EXPECT_FALSE((*listener)->Await(absl::Milliseconds(50)).value_or(true));

  const absl::Time now = absl::FromUnixSeconds(1800000000);
  v1::CampaignSpec spec;
  spec.set_name("notified");
  absl::StatusOr<v1::Campaign> campaign =
      (*writer)->CreateCampaign(spec, std::vector<v1::Job>(2), now);
  ASSERT_TRUE(campaign.ok()) << campaign.status();
  EXPECT_TRUE((*listener)->Await(kWait).value_or(false)) << "campaign submitted";

  // A lease queues nothing: no wake-up.
  const std::string job1 = campaign->id() + "/j-0001";
  const std::string job2 = campaign->id() + "/j-0002";
  ASSERT_TRUE((*writer)->LeaseJob(job1, "a", "l1", now + absl::Seconds(1), now).value_or(false));
  ASSERT_TRUE((*writer)->LeaseJob(job2, "a", "l2", now + absl::Hours(1), now).value_or(false));
  EXPECT_FALSE((*listener)->Await(absl::Milliseconds(200)).value_or(true));

  // An expired lease requeues its job.
  ASSERT_EQ((*writer)->ExpireLeases(now + absl::Seconds(2), 3).value_or(0), 1);
  EXPECT_TRUE((*listener)->Await(kWait).value_or(false)) << "lease expired";

  // A failed attempt sent to another host.
  v1::RunResult failed;
  failed.set_state(v1::RUN_STATE_FAILED);
  ASSERT_EQ((*writer)->RecordFailureAndRequeue(job2, 1, "l2", "a", failed, now).value_or(
                ReportOutcome::kStale),
            ReportOutcome::kStored);
  EXPECT_TRUE((*listener)->Await(kWait).value_or(false)) << "failure requeued";

  // Interrupt ends a wait at once (shutdown).
  std::thread interrupter([&] {
    absl::SleepFor(absl::Milliseconds(100));
    (*listener)->Interrupt();
  });
  EXPECT_FALSE((*listener)->Await(absl::Hours(1)).value_or(true));
  interrupter.join();

  // A listener whose connection the server drops says so, so that its owner opens another.
  absl::StatusOr<std::unique_ptr<PostgresConnection>> admin = PostgresConnection::Open(*conninfo);
  ASSERT_TRUE(admin.ok()) << admin.status();
  ASSERT_TRUE((*admin)
                  ->Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                          "datname = current_database() AND query LIKE 'LISTEN%'",
                          {})
                  .ok());
  // The server's goodbye (an error message) may come in a read of its own before end-of-file.
  absl::StatusOr<bool> lost = false;
  for (int i = 0; i < 10 && lost.ok(); ++i) lost = (*listener)->Await(kWait);
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable) << lost.status();
}

TEST(PostgresStoreTest, UnreachableServerIsUnavailable) {
  absl::StatusOr<std::unique_ptr<PostgresStore>> store =
      PostgresStore::Open("host=/nonexistent-socket-dir port=1 dbname=x connect_timeout=2");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(store.status().message(), "cannot connect")) << store.status();
}

}  // namespace
}  // namespace faultline::controller::store
