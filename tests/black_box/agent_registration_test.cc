// An agent whose registration the controller must refuse (too many tags, a tag too long, a
// label that is not UTF-8) exits at once with the reason and a non-zero status instead of
// retrying forever; a valid agent beside it registers as usual.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/local_fleet.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using testing::LocalFleet;

class AgentRegistrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fleet_ = std::make_unique<LocalFleet>(testing::MakeTempDir("agent-registration"));
    ASSERT_TRUE(fleet_->StartController().ok()) << fleet_->Logs();
  }

  // Runs an agent with `flags` to completion, at most 20 s (a retrying agent never ends).
  testing::CommandResult RunAgent(const std::string& id, const std::vector<std::string>& flags) {
    std::vector<std::string> argv = {testing::RunfilePath("agent/faultline-agent"), "--plaintext",
                                     "--controller=" + fleet_->address(), "--agent_id=" + id,
                                     "--spool_dir=" + fleet_->dir() + "/spool-" + id};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return testing::RunCommand(argv, absl::Seconds(20));
  }

  std::unique_ptr<LocalFleet> fleet_;
};

TEST_F(AgentRegistrationTest, SixtyFiveTagsExitNonZeroWithinSeconds) {
  std::vector<std::string> tags;
  for (int i = 0; i < 65; ++i) tags.push_back(absl::StrCat("t", i));
  const absl::Time start = absl::Now();
  testing::CommandResult agent = RunAgent("many-tags", {"--tags=" + absl::StrJoin(tags, ",")});
  EXPECT_EQ(agent.exit_code, 2) << agent.errors;
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));
  EXPECT_THAT(agent.errors, HasSubstr("tags: 65 tags, at most 64"));
  EXPECT_THAT(agent.errors, ::testing::Not(HasSubstr("retrying")));
}

TEST_F(AgentRegistrationTest, OverlongTagExitsNonZeroNamingIt) {
  testing::CommandResult agent = RunAgent("long-tag", {"--tags=ok," + std::string(129, 'x')});
  EXPECT_EQ(agent.exit_code, 2) << agent.errors;
  EXPECT_THAT(agent.errors, HasSubstr("tags[1]: 129 characters, at most 128"));
}

TEST_F(AgentRegistrationTest, NonUtf8LabelAndTagExitNonZeroNamingThem) {
  testing::CommandResult label = RunAgent("bad-label", {"--kernel_label=patched/\xff\xfe"});
  EXPECT_EQ(label.exit_code, 2) << label.errors;
  EXPECT_THAT(label.errors, HasSubstr("host.kernel_label: not valid UTF-8"));

  testing::CommandResult tag = RunAgent("bad-tag", {"--tags=rack-\xc3"});
  EXPECT_EQ(tag.exit_code, 2) << tag.errors;
  EXPECT_THAT(tag.errors, HasSubstr("tags[0]: not valid UTF-8"));

  // None of them registered; a sane agent still does.
  ASSERT_TRUE(fleet_->StartAgent({"sane", "stock", {}, ""}).ok()) << fleet_->Logs();
  testing::CommandResult agents = fleet_->Ctl({"agents", "--all"});
  EXPECT_THAT(agents.output, HasSubstr("sane"));
  EXPECT_THAT(agents.output, ::testing::Not(HasSubstr("bad-label")));
  EXPECT_THAT(agents.output, ::testing::Not(HasSubstr("many-tags")));
}

}  // namespace
}  // namespace faultline
