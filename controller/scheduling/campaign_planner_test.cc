#include "controller/scheduling/campaign_planner.h"

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace faultline::controller::scheduling {
namespace {

using ::testing::HasSubstr;

v1::BenchmarkSpec FaultAnonSpec() {
  v1::BenchmarkSpec spec;
  google::protobuf::TextFormat::ParseFromString(R"pb(
    name: "fault_anon"
    params {
      name: "region_mib" type: PARAM_TYPE_INT
      default_value { int_value: 64 } min { int_value: 1 } max { int_value: 4096 }
    }
    params {
      name: "mode" type: PARAM_TYPE_ENUM default_value { enum_value: "thread" }
      allowed_values: "thread" allowed_values: "process"
    }
  )pb", &spec);
  return spec;
}

store::AgentRecord Agent(const std::string& id, v1::Arch arch, const std::string& label,
                         const std::string& host_class = "x86-class") {
  store::AgentRecord a;
  a.agent_id = id;
  a.host.set_arch(arch);
  a.host.set_kernel_label(label);
  a.host.set_kernel_release("6.1.0-27-cloud-amd64");
  a.host.set_host_class(host_class);
  a.catalog.push_back(FaultAnonSpec());
  a.tags = {"lab"};
  return a;
}

v1::CampaignSpec Spec(const std::string& text) {
  v1::CampaignSpec spec;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &spec)) << text;
  return spec;
}

TEST(PlanCampaignTest, ExpandsSuiteTimesTargetsWithDefaults) {
  std::vector<store::AgentRecord> agents = {Agent("a1", v1::ARCH_X86_64, "stock"),
                                            Agent("a2", v1::ARCH_X86_64, "patched/v3")};
  auto plan = PlanCampaign(Spec(R"pb(
    name: "ab" repetitions: 7
    suite { benchmark: "fault_anon" params { key: "region_mib" value { int_value: 8 } } }
    targets { kernel_label: "stock" }
    targets { name: "patched" kernel_label: "patched/*" }
  )pb"), agents);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->jobs.size(), 2u);
  EXPECT_EQ(plan->spec.targets(0).name(), "stock");
  EXPECT_EQ(plan->spec.priority(), v1::PRIORITY_INTERACTIVE);
  const v1::Job& job = plan->jobs[1];
  EXPECT_EQ(job.target_index(), 1u);
  EXPECT_EQ(job.invocation().repetitions(), 7u);
  EXPECT_EQ(job.invocation().timeout_seconds(), kDefaultTimeoutSeconds);
  EXPECT_EQ(job.invocation().params().at("region_mib").int_value(), 8);
  // Unset parameters are stored with their defaults, so a run records exactly what it ran.
  EXPECT_EQ(job.invocation().params().at("mode").enum_value(), "thread");
}

TEST(PlanCampaignTest, InterleavesRepetitionsAcrossTargets) {
  std::vector<store::AgentRecord> agents = {Agent("a1", v1::ARCH_X86_64, "stock"),
                                            Agent("a2", v1::ARCH_X86_64, "patched")};
  auto plan = PlanCampaign(Spec(R"pb(
    name: "ab" repetitions: 3 interleave: true
    suite { benchmark: "fault_anon" }
    targets { kernel_label: "stock" } targets { kernel_label: "patched" }
  )pb"), agents);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->jobs.size(), 6u);
  for (size_t i = 0; i < plan->jobs.size(); ++i) {
    EXPECT_EQ(plan->jobs[i].target_index(), i % 2) << "job " << i;
    EXPECT_EQ(plan->jobs[i].invocation().repetitions(), 1u);
    EXPECT_EQ(plan->jobs[i].sequence(), i);
  }
}

TEST(PlanCampaignTest, InterleavesRoundsOfSeveralRepetitions) {
  std::vector<store::AgentRecord> agents = {Agent("a1", v1::ARCH_X86_64, "stock"),
                                     Agent("a2", v1::ARCH_X86_64, "patched")};
  auto plan = PlanCampaign(Spec(R"pb(
    name: "ab" repetitions: 10 interleave: true repetitions_per_job: 4
    suite { benchmark: "fault_anon" }
    targets { kernel_label: "stock" } targets { kernel_label: "patched" }
  )pb"), agents);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // Rounds of 4, 4 and the remaining 2, A then B in each.
  ASSERT_EQ(plan->jobs.size(), 6u);
  const uint32_t expected[] = {4, 4, 4, 4, 2, 2};
  for (size_t i = 0; i < plan->jobs.size(); ++i) {
    EXPECT_EQ(plan->jobs[i].target_index(), i % 2) << "job " << i;
    EXPECT_EQ(plan->jobs[i].invocation().repetitions(), expected[i]) << "job " << i;
  }
}

TEST(PlanCampaignTest, EveryMatchingHostPinsOneJobPerAgent) {
  std::vector<store::AgentRecord> agents = {Agent("a1", v1::ARCH_X86_64, "stock"),
                                            Agent("a2", v1::ARCH_X86_64, "stock"),
                                            Agent("a3", v1::ARCH_ARM64, "stock")};
  auto plan = PlanCampaign(Spec(R"pb(
    name: "sweep" suite { benchmark: "fault_anon" }
    targets { arch: ARCH_X86_64 every_matching_host: true }
  )pb"), agents);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->jobs.size(), 2u);
  EXPECT_EQ(plan->jobs[0].pinned_agent_id(), "a1");
  EXPECT_EQ(plan->jobs[1].pinned_agent_id(), "a2");
}

struct BadCase {
  const char* spec;
  absl::StatusCode code;
  const char* message;
};

class PlanCampaignErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(PlanCampaignErrorTest, NamesTheField) {
  std::vector<store::AgentRecord> agents = {Agent("a1", v1::ARCH_X86_64, "stock")};
  auto plan = PlanCampaign(Spec(GetParam().spec), agents);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), GetParam().code) << plan.status();
  EXPECT_THAT(std::string(plan.status().message()), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PlanCampaignErrorTest,
    ::testing::Values(
        BadCase{R"pb(suite { benchmark: "fault_anon" } targets {})pb",
                absl::StatusCode::kInvalidArgument, "spec.name"},
        BadCase{R"pb(name: "x" targets {})pb", absl::StatusCode::kInvalidArgument,
                "spec.suite: must list"},
        BadCase{R"pb(name: "x" suite { benchmark: "fault_anon" })pb",
                absl::StatusCode::kInvalidArgument, "spec.targets: must list"},
        BadCase{R"pb(name: "x" suite { benchmark: "nope" } targets {})pb",
                absl::StatusCode::kInvalidArgument,
                "spec.suite[0].benchmark: unknown benchmark \"nope\""},
        BadCase{R"pb(name: "x"
                     suite { benchmark: "fault_anon"
                             params { key: "threads" value { int_value: 2 } } }
                     targets {})pb",
                absl::StatusCode::kInvalidArgument,
                "spec.suite[0].params.threads: unknown parameter of fault_anon"},
        BadCase{R"pb(name: "x"
                     suite { benchmark: "fault_anon"
                             params { key: "region_mib" value { int_value: 999999 } } }
                     targets {})pb",
                absl::StatusCode::kInvalidArgument,
                "spec.suite[0].params.region_mib: 999999 is above the maximum 4096"},
        BadCase{R"pb(name: "x"
                     suite { benchmark: "fault_anon"
                             params { key: "region_mib" value { enum_value: "big" } } }
                     targets {})pb",
                absl::StatusCode::kInvalidArgument,
                "spec.suite[0].params.region_mib: must be an integer"},
        BadCase{R"pb(name: "x"
                     suite { benchmark: "fault_anon"
                             params { key: "mode" value { enum_value: "fiber" } } }
                     targets {})pb",
                absl::StatusCode::kInvalidArgument,
                "spec.suite[0].params.mode: \"fiber\" is not one of thread|process"},
        BadCase{R"pb(name: "x" suite { benchmark: "fault_anon" repetitions: 5000 }
                     targets {})pb",
                absl::StatusCode::kInvalidArgument,
                "spec.suite[0].repetitions: 5000 is above the maximum 1000"},
        BadCase{R"pb(name: "x" suite { benchmark: "fault_anon" }
                     targets { arch: ARCH_ARM64 })pb",
                absl::StatusCode::kFailedPrecondition,
                "spec.targets[0]: no registered agent matches arch=ARCH_ARM64"},
        BadCase{R"pb(name: "x" suite { benchmark: "fault_anon" }
                     targets { kernel_label: "stock" } targets { kernel_label: "stock" })pb",
                absl::StatusCode::kInvalidArgument, "spec.targets[1].name"}));

}  // namespace
}  // namespace faultline::controller::scheduling

namespace faultline::controller::scheduling {
namespace {

TEST(PlanCampaignTest, PairedPinsTargetsToOneSharedHostClass) {
  std::vector<store::AgentRecord> agents = {
      Agent("s-small", v1::ARCH_X86_64, "stock", "small"),
      Agent("s-big1", v1::ARCH_X86_64, "stock", "big"),
      Agent("s-big2", v1::ARCH_X86_64, "stock", "big"),
      Agent("p-big", v1::ARCH_X86_64, "patched", "big"),
      Agent("p-small", v1::ARCH_X86_64, "patched", "small"),
      Agent("p-only", v1::ARCH_X86_64, "patched", "odd"),
  };
  auto plan = PlanCampaign(Spec(R"pb(
    name: "ab" paired: true suite { benchmark: "fault_anon" }
    targets { kernel_label: "stock" } targets { kernel_label: "patched" }
  )pb"), agents);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->spec.targets(0).host_class(), "big");
  EXPECT_EQ(plan->spec.targets(1).host_class(), "big");
  for (const v1::Job& job : plan->jobs) EXPECT_EQ(job.target().host_class(), "big");
}

TEST(PlanCampaignTest, PairedWithoutSharedClassIsRefused) {
  std::vector<store::AgentRecord> agents = {Agent("s", v1::ARCH_X86_64, "stock", "a"),
                                            Agent("p", v1::ARCH_X86_64, "patched", "b")};
  auto plan = PlanCampaign(Spec(R"pb(
    name: "ab" paired: true suite { benchmark: "fault_anon" }
    targets { kernel_label: "stock" } targets { kernel_label: "patched" }
  )pb"), agents);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(plan.status().message()), HasSubstr("spec.paired"));
}

}  // namespace
}  // namespace faultline::controller::scheduling
