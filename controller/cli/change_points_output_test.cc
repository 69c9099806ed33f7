#include "controller/cli/change_points_output.h"

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace faultline::controller::cli {
namespace {

using ::testing::HasSubstr;

v1::ChangePointsResponse Series() {
  v1::ChangePointsResponse r;
  r.set_unit("ns");
  r.set_direction(v1::DIRECTION_LOWER_IS_BETTER);
  r.set_host_class("x86_64-test-2cpu");
  for (int i = 0; i < 6; ++i) {
    v1::SeriesPoint* p = r.add_points();
    p->set_value(i < 3 ? 100 : 110);
    p->set_kernel_label(i < 3 ? "stock" : "patched/x");
    p->set_kernel_release("6.1.0");
    p->set_run_id(10 + i);
    p->set_runs(1);
    p->mutable_time()->set_seconds(1700000000 + 60 * i);
  }
  v1::ChangePointReport* c = r.add_change_points();
  c->set_index(3);
  c->set_kernel_label("patched/x");
  c->set_kernel_release("6.1.0");
  c->set_mean_before(100);
  c->set_mean_after(110);
  c->set_relative_change(0.1);
  c->set_p_value(0.0004);
  c->set_raw_p_value(0.0001);
  c->set_verdict(v1::VERDICT_REGRESSION);
  *c->mutable_time() = r.points(3).time();
  return r;
}

TEST(ChangePointsOutputTest, TableMarksTheFirstPointAfterTheChange) {
  const std::string table = FormatChangePointsTable(Series(), "fault_anon ns_per_fault");
  EXPECT_THAT(table, HasSubstr("fault_anon ns_per_fault (ns, lower is better) on host class "
                               "x86_64-test-2cpu: 6 points, 1 change point"));
  EXPECT_THAT(table, HasSubstr("<- +10.0% regression"));
  EXPECT_THAT(table, HasSubstr("change point at #3, first on patched/x (6.1.0) at "
                               "2023-11-14 22:16:20: 100 -> 110 ns (+10.0%), p = 0.0004"));
  // Header and six points, the change marked on the fourth (run 13).
  EXPECT_THAT(table, HasSubstr("\n3  13   2023-11-14 22:16:20  patched/x (6.1.0)  1     110    "
                               "<- +10.0% regression\n"));
}

TEST(ChangePointsOutputTest, NoChangeSaysSo) {
  v1::ChangePointsResponse r = Series();
  r.clear_change_points();
  EXPECT_THAT(FormatChangePointsTable(r, "x y"),
              HasSubstr("no change point at the requested significance"));
}

TEST(ChangePointsOutputTest, JsonRoundTrips) {
  v1::ChangePointsResponse parsed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(FormatChangePointsJson(Series()), &parsed).ok());
  EXPECT_EQ(parsed.points_size(), 6);
  EXPECT_EQ(parsed.change_points(0).index(), 3u);
  EXPECT_EQ(parsed.change_points(0).verdict(), v1::VERDICT_REGRESSION);
}

}  // namespace
}  // namespace faultline::controller::cli
