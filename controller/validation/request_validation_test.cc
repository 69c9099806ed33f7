#include "controller/validation/request_validation.h"

#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace faultline::controller::validation {
namespace {

using ::testing::StartsWith;

template <typename Message>
Message Parse(const std::string& text) {
  Message m;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &m)) << text;
  return m;
}

// INVALID_ARGUMENT whose message starts with "<field>: ".
#define EXPECT_INVALID(status, field)                                              \
  do {                                                                             \
    const absl::Status s_ = (status);                                              \
    EXPECT_EQ(s_.code(), absl::StatusCode::kInvalidArgument) << s_;                \
    EXPECT_THAT(std::string(s_.message()), StartsWith(std::string(field) + ": ")); \
  } while (false)

// --- Identifiers ---

TEST(IdentifierTest, AcceptsWhatTheControllerAndAgentsMake) {
  for (const char* id : {"c-000012", "c-000012/j-0007", "0123456789abcdef0123456789abcdef",
                         "host-1.lab:a_b", "user@example", "x86-a"}) {
    EXPECT_TRUE(ValidateIdentifier(id, "f", true).ok()) << id;
  }
  EXPECT_TRUE(ValidateIdentifier("", "f", false).ok());
  EXPECT_TRUE(ValidateIdentifier(std::string(limits::kMaxIdentifierLength, 'a'), "f", true).ok());
}

TEST(IdentifierTest, RefusesEmptyLongAndOddCharacters) {
  EXPECT_INVALID(ValidateIdentifier("", "job_id", true), "job_id");
  EXPECT_INVALID(
      ValidateIdentifier(std::string(limits::kMaxIdentifierLength + 1, 'a'), "job_id", true),
      "job_id");
  for (const char* id : {"a b", "a\nb", "a;b", "a*", "\xc3\xa9"}) {
    EXPECT_INVALID(ValidateIdentifier(id, "lease_id", true), "lease_id");
  }
}

TEST(IdentifierTest, AgentIdsAreNarrower) {
  EXPECT_TRUE(ValidateAgentId("host-1.lab:a_b", "agent_id").ok());
  EXPECT_INVALID(ValidateAgentId("", "--agent_id"), "--agent_id");
  EXPECT_INVALID(ValidateAgentId(std::string(limits::kMaxIdentifierLength + 1, 'a'), "agent_id"),
                 "agent_id");
  // Identifiers the controller makes may hold '@' and '/'; agent ids may not.
  for (const char* id : {"host 1", "user@example", "c-1/j-2", "a*"}) {
    EXPECT_INVALID(ValidateAgentId(id, "agent_id"), "agent_id");
  }
}

// --- AgentService ---

v1::RegisterRequest GoodRegister() {
  return Parse<v1::RegisterRequest>(R"pb(
    agent_id: "box-1"
    host {
      hostname: "box-1"
      arch: ARCH_X86_64
      kernel_release: "6.1.0-27-cloud-amd64"
      kernel_label: "stock"
      page_size: 4096
      virtualization: VIRTUALIZATION_HARDWARE
      sysctls { key: "vm.overcommit_memory" value: "0" }
      features: "perf_events"
    }
    catalog {
      name: "fault_anon"
      params {
        name: "region_mib"
        type: PARAM_TYPE_INT
        min { int_value: 1 }
        max { int_value: 4096 }
      }
      params {
        name: "mode"
        type: PARAM_TYPE_ENUM
        allowed_values: "thread"
        allowed_values: "process"
      }
      metrics { name: "ns_per_fault" unit: "ns" direction: DIRECTION_LOWER_IS_BETTER }
    }
    tags: "lab"
    agent_version: "0.1.0"
    provisionable_kernels: "patched/v3"
  )pb");
}

TEST(RegisterTest, ValidPasses) { EXPECT_TRUE(ValidateRegisterRequest(GoodRegister()).ok()); }

TEST(RegisterTest, EachBoundNamesItsField) {
  auto with = [](auto mutate) {
    v1::RegisterRequest r = GoodRegister();
    mutate(r);
    return ValidateRegisterRequest(r);
  };
  EXPECT_INVALID(with([](auto& r) { r.clear_agent_id(); }), "agent_id");
  EXPECT_INVALID(with([](auto& r) { r.set_agent_id("box/1"); }), "agent_id");
  EXPECT_INVALID(with([](auto& r) { r.set_agent_id(std::string(129, 'a')); }), "agent_id");
  EXPECT_INVALID(with([](auto& r) { r.mutable_host()->clear_arch(); }), "host.arch");
  EXPECT_INVALID(with([](auto& r) { r.mutable_host()->set_arch(static_cast<v1::Arch>(9)); }),
                 "host.arch");
  EXPECT_INVALID(with([](auto& r) { r.mutable_host()->clear_kernel_release(); }),
                 "host.kernel_release");
  EXPECT_INVALID(with([](auto& r) {
                   r.mutable_host()->set_virtualization(static_cast<v1::Virtualization>(7));
                 }),
                 "host.virtualization");
  EXPECT_INVALID(with([](auto& r) {
                   r.mutable_host()->set_virtualization(v1::VIRTUALIZATION_EMULATED_ICOUNT);
                   r.mutable_host()->set_icount_shift(limits::kMaxIcountShift + 1);
                 }),
                 "host.icount_shift");
  EXPECT_INVALID(with([](auto& r) { r.mutable_host()->set_icount_shift(3); }),
                 "host.icount_shift");
  EXPECT_INVALID(with([](auto& r) {
                   r.mutable_host()->set_cmdline(std::string(limits::kMaxCmdlineLength + 1, 'x'));
                 }),
                 "host.cmdline");
  EXPECT_INVALID(with([](auto& r) {
                   r.mutable_host()->set_cpu_model(std::string(limits::kMaxTextLength + 1, 'x'));
                 }),
                 "host.cpu_model");
  EXPECT_INVALID(with([](auto& r) { r.mutable_host()->set_page_size(5000); }), "host.page_size");
  EXPECT_INVALID(with([](auto& r) {
                   for (int i = 0; i <= limits::kMaxHostSysctls; ++i) {
                     (*r.mutable_host()->mutable_sysctls())["vm.k" + std::to_string(i)] = "1";
                   }
                 }),
                 "host.sysctls");
  EXPECT_INVALID(with([](auto& r) {
                   (*r.mutable_host()->mutable_sysctls())["vm.x"] =
                       std::string(limits::kMaxTextLength + 1, '1');
                 }),
                 "host.sysctls[\"vm.x\"]");
  EXPECT_INVALID(with([](auto& r) {
                   for (int i = 0; i <= limits::kMaxHostFeatures; ++i)
                     r.mutable_host()->add_features("f");
                 }),
                 "host.features");
  EXPECT_INVALID(with([](auto& r) {
                   for (int i = 0; i < limits::kMaxCatalogEntries; ++i)
                     *r.add_catalog() = r.catalog(0);
                 }),
                 "catalog");
  EXPECT_INVALID(with([](auto& r) { r.mutable_catalog(0)->clear_name(); }), "catalog[0].name");
  EXPECT_INVALID(with([](auto& r) { r.mutable_catalog(0)->set_name("fault anon"); }),
                 "catalog[0].name");
  EXPECT_INVALID(with([](auto& r) {
                   for (int i = 0; i < limits::kMaxParamsPerBenchmark; ++i) {
                     *r.mutable_catalog(0)->add_params() = r.catalog(0).params(0);
                   }
                 }),
                 "catalog[0].params");
  EXPECT_INVALID(with([](auto& r) { r.mutable_catalog(0)->mutable_params(1)->clear_name(); }),
                 "catalog[0].params[1].name");
  EXPECT_INVALID(with([](auto& r) { r.mutable_catalog(0)->mutable_params(1)->clear_type(); }),
                 "catalog[0].params[1].type");
  EXPECT_INVALID(with([](auto& r) {
                   r.mutable_catalog(0)->mutable_params(0)->mutable_max()->set_double_value(
                       std::numeric_limits<double>::infinity());
                 }),
                 "catalog[0].params[0].max");
  EXPECT_INVALID(with([](auto& r) {
                   for (int i = 0; i < limits::kMaxAllowedValues; ++i) {
                     r.mutable_catalog(0)->mutable_params(1)->add_allowed_values("v");
                   }
                 }),
                 "catalog[0].params[1].allowed_values");
  EXPECT_INVALID(
      with([](auto& r) {
        r.mutable_catalog(0)->mutable_metrics(0)->set_direction(static_cast<v1::Direction>(17));
      }),
      "catalog[0].metrics[0].direction");
  EXPECT_INVALID(with([](auto& r) {
                   for (int i = 0; i < limits::kMaxMetricsPerBenchmark; ++i) {
                     *r.mutable_catalog(0)->add_metrics() = r.catalog(0).metrics(0);
                   }
                 }),
                 "catalog[0].metrics");
  EXPECT_INVALID(with([](auto& r) {
                   for (int i = 0; i < limits::kMaxAgentTags; ++i) r.add_tags("t");
                 }),
                 "tags");
  EXPECT_INVALID(with([](auto& r) { r.add_tags(""); }), "tags[1]");
  EXPECT_INVALID(with([](auto& r) { r.add_tags(std::string(limits::kMaxNameLength + 1, 't')); }),
                 "tags[1]");
  EXPECT_INVALID(
      with([](auto& r) { r.set_agent_version(std::string(limits::kMaxNameLength + 1, 'v')); }),
      "agent_version");
  EXPECT_INVALID(with([](auto& r) {
                   for (int i = 0; i < limits::kMaxProvisionableKernels; ++i) {
                     r.add_provisionable_kernels("k");
                   }
                 }),
                 "provisionable_kernels");
}

TEST(HeartbeatTest, ValidPassesAndBoundsNameFields) {
  auto beat = Parse<v1::HeartbeatRequest>(R"pb(agent_id: "box-1"
                                               state: AGENT_STATE_RUNNING
                                               job_id: "c-000001/j-0001")pb");
  EXPECT_TRUE(ValidateHeartbeatRequest(beat).ok());
  v1::HeartbeatRequest r = beat;
  r.set_agent_id("");
  EXPECT_INVALID(ValidateHeartbeatRequest(r), "agent_id");
  r = beat;
  r.clear_state();
  EXPECT_INVALID(ValidateHeartbeatRequest(r), "state");
  r.set_state(static_cast<v1::AgentState>(42));
  EXPECT_INVALID(ValidateHeartbeatRequest(r), "state");
  r.set_state(v1::AGENT_STATE_LOST);
  EXPECT_INVALID(ValidateHeartbeatRequest(r), "state");
  r = beat;
  r.set_job_id("c-1/j 1");
  EXPECT_INVALID(ValidateHeartbeatRequest(r), "job_id");
}

TEST(PollWorkTest, ValidPassesAndBoundsNameFields) {
  auto poll = Parse<v1::PollWorkRequest>(R"pb(agent_id: "box-1" wait_seconds: 60)pb");
  EXPECT_TRUE(ValidatePollWorkRequest(poll).ok());
  poll.set_wait_seconds(61);
  EXPECT_INVALID(ValidatePollWorkRequest(poll), "wait_seconds");
  poll.set_wait_seconds(0);
  poll.set_agent_id("box 1");
  EXPECT_INVALID(ValidatePollWorkRequest(poll), "agent_id");
}

TEST(RenewLeaseTest, ValidPassesAndBoundsNameFields) {
  auto renew = Parse<v1::RenewLeaseRequest>(
      R"pb(agent_id: "box-1" job_id: "c-000001/j-0001" lease_id: "00ff" progress: 0.5)pb");
  EXPECT_TRUE(ValidateRenewLeaseRequest(renew).ok());
  v1::RenewLeaseRequest r = renew;
  r.clear_job_id();
  EXPECT_INVALID(ValidateRenewLeaseRequest(r), "job_id");
  r = renew;
  r.clear_lease_id();
  EXPECT_INVALID(ValidateRenewLeaseRequest(r), "lease_id");
  r = renew;
  r.clear_agent_id();
  EXPECT_INVALID(ValidateRenewLeaseRequest(r), "agent_id");
  for (double p : {-0.1, 1.5, std::nan("")}) {
    r = renew;
    r.set_progress(p);
    EXPECT_INVALID(ValidateRenewLeaseRequest(r), "progress");
  }
}

v1::ReportResultRequest GoodReport() {
  return Parse<v1::ReportResultRequest>(R"pb(
    agent_id: "box-1"
    job_id: "c-000001/j-0001"
    attempt: 1
    lease_id: "00ff"
    result {
      benchmark: "fault_anon"
      state: RUN_STATE_OK
      warmup: 1
      timer_overhead_ns: 18.5
      params {
        key: "region_mib"
        value { int_value: 64 }
      }
      host { arch: ARCH_X86_64 kernel_release: "6.1.0" }
      repetitions {
        index: 0
        wall_ns: 1000000
        metrics { name: "ns_per_fault" unit: "ns" direction: DIRECTION_LOWER_IS_BETTER value: 500 }
        counters { key: "rusage.minflt" value: 16384 }
        unavailable_counters: "perf.page_faults"
        histograms {
          name: "fault_latency_ns"
          histogram {
            unit: "ns"
            sub_bucket_bits: 5
            bucket_index: [ 300, 301, 400 ]
            count: [ 5, 7, 1 ]
            total_count: 13
            min: 400
            max: 2000
            sum: 9000
          }
        }
      }
    }
  )pb");
}

TEST(ReportResultTest, ValidPasses) {
  EXPECT_TRUE(ValidateReportResultRequest(GoodReport()).ok());
  v1::ReportResultRequest failed = GoodReport();
  failed.mutable_result()->set_state(v1::RUN_STATE_FAILED);
  failed.mutable_result()->clear_repetitions();
  failed.mutable_result()->set_diagnostic(std::string(limits::kMaxDiagnosticBytes, 'e'));
  EXPECT_TRUE(ValidateReportResultRequest(failed).ok());
}

TEST(ReportResultTest, EachBoundNamesItsField) {
  auto with = [](auto mutate) {
    v1::ReportResultRequest r = GoodReport();
    mutate(r);
    return ValidateReportResultRequest(r);
  };
  auto rep = [](v1::ReportResultRequest& r) { return r.mutable_result()->mutable_repetitions(0); };
  auto hist = [rep](v1::ReportResultRequest& r) {
    return rep(r)->mutable_histograms(0)->mutable_histogram();
  };
  EXPECT_INVALID(with([](auto& r) { r.clear_agent_id(); }), "agent_id");
  EXPECT_INVALID(with([](auto& r) { r.clear_job_id(); }), "job_id");
  EXPECT_INVALID(with([](auto& r) { r.set_job_id(std::string(200, 'j')); }), "job_id");
  EXPECT_INVALID(with([](auto& r) { r.clear_attempt(); }), "attempt");
  EXPECT_INVALID(with([](auto& r) { r.set_lease_id("lease 1"); }), "lease_id");
  EXPECT_INVALID(with([](auto& r) { r.mutable_result()->clear_state(); }), "result.state");
  EXPECT_INVALID(
      with([](auto& r) { r.mutable_result()->set_state(static_cast<v1::RunState>(99)); }),
      "result.state");
  EXPECT_INVALID(with([](auto& r) {
                   r.mutable_result()->set_benchmark(std::string(limits::kMaxNameLength + 1, 'b'));
                 }),
                 "result.benchmark");
  EXPECT_INVALID(
      with([](auto& r) {
        r.mutable_result()->set_diagnostic(std::string(limits::kMaxDiagnosticBytes + 1, 'e'));
      }),
      "result.diagnostic");
  EXPECT_INVALID(with([](auto& r) {
                   for (int i = 0; i < limits::kMaxResultRepetitions; ++i) {
                     *r.mutable_result()->add_repetitions() = r.result().repetitions(0);
                   }
                 }),
                 "result.repetitions");
  EXPECT_INVALID(with([](auto& r) { r.mutable_result()->clear_repetitions(); }),
                 "result.repetitions");
  EXPECT_INVALID(with([](auto& r) {
                   for (int i = 0; i <= limits::kMaxParamsPerInvocation; ++i) {
                     (*r.mutable_result()->mutable_params())["p" + std::to_string(i)];
                   }
                 }),
                 "result.params");
  EXPECT_INVALID(with([](auto& r) {
                   (*r.mutable_result()->mutable_params())["mode"].set_enum_value(
                       std::string(limits::kMaxNameLength + 1, 'm'));
                 }),
                 "result.params[\"mode\"]");
  EXPECT_INVALID(with([&](auto& r) {
                   for (int i = 0; i < limits::kMaxMetricsPerRepetition; ++i) {
                     *rep(r)->add_metrics() = rep(r)->metrics(0);
                   }
                 }),
                 "result.repetitions[0].metrics");
  EXPECT_INVALID(with([&](auto& r) { rep(r)->mutable_metrics(0)->clear_name(); }),
                 "result.repetitions[0].metrics[0].name");
  EXPECT_INVALID(with([&](auto& r) {
                   rep(r)->mutable_metrics(0)->set_value(std::numeric_limits<double>::infinity());
                 }),
                 "result.repetitions[0].metrics[0].value");
  EXPECT_INVALID(with([&](auto& r) {
                   rep(r)->mutable_metrics(0)->set_direction(static_cast<v1::Direction>(8));
                 }),
                 "result.repetitions[0].metrics[0].direction");
  EXPECT_INVALID(with([&](auto& r) {
                   for (int i = 0; i <= limits::kMaxCountersPerRepetition; ++i) {
                     (*rep(r)->mutable_counters())["c" + std::to_string(i)] = i;
                   }
                 }),
                 "result.repetitions[0].counters");
  EXPECT_INVALID(with([&](auto& r) { rep(r)->add_unavailable_counters(""); }),
                 "result.repetitions[0].unavailable_counters[1]");
  EXPECT_INVALID(with([&](auto& r) {
                   for (int i = 0; i < limits::kMaxHistogramsPerRepetition; ++i) {
                     *rep(r)->add_histograms() = rep(r)->histograms(0);
                   }
                 }),
                 "result.repetitions[0].histograms");
  EXPECT_INVALID(with([&](auto& r) { rep(r)->mutable_histograms(0)->clear_name(); }),
                 "result.repetitions[0].histograms[0].name");
  EXPECT_INVALID(with([&](auto& r) { hist(r)->set_sub_bucket_bits(11); }),
                 "result.repetitions[0].histograms[0].histogram.sub_bucket_bits");
  EXPECT_INVALID(with([&](auto& r) { hist(r)->add_count(1); }),
                 "result.repetitions[0].histograms[0].histogram.count");
  EXPECT_INVALID(with([&](auto& r) { hist(r)->set_bucket_index(1, 300); }),
                 "result.repetitions[0].histograms[0].histogram.bucket_index[1]");
  EXPECT_INVALID(with([&](auto& r) { hist(r)->set_bucket_index(2, 64 << 5); }),
                 "result.repetitions[0].histograms[0].histogram.bucket_index[2]");
  EXPECT_INVALID(with([&](auto& r) {
                   hist(r)->clear_bucket_index();
                   hist(r)->clear_count();
                   hist(r)->set_sub_bucket_bits(limits::kMaxHistogramSubBucketBits);
                   for (int i = 0; i <= limits::kMaxHistogramBuckets; ++i) {
                     hist(r)->add_bucket_index(i);
                     hist(r)->add_count(1);
                   }
                 }),
                 "result.repetitions[0].histograms[0].histogram.bucket_index");
  EXPECT_INVALID(with([&](auto& r) { hist(r)->set_sum(std::nan("")); }),
                 "result.repetitions[0].histograms[0].histogram.sum");
  EXPECT_INVALID(with([&](auto& r) { rep(r)->set_wall_ns(-1); }), "result.repetitions[0].wall_ns");
  EXPECT_INVALID(
      with([](auto& r) { r.mutable_result()->mutable_host()->set_arch(static_cast<v1::Arch>(5)); }),
      "result.host.arch");
  EXPECT_INVALID(with([](auto& r) { r.mutable_result()->set_timer_overhead_ns(-1); }),
                 "result.timer_overhead_ns");
  EXPECT_INVALID(with([](auto& r) { r.mutable_result()->set_warmup(101); }), "result.warmup");
  EXPECT_INVALID(with([](auto& r) {
                   v1::KernelProfile* p = r.mutable_result()->mutable_profile();
                   p->set_samples(10);
                   p->set_kernel_samples(11);
                 }),
                 "result.profile.kernel_samples");
  EXPECT_INVALID(with([](auto& r) {
                   v1::KernelProfile* p = r.mutable_result()->mutable_profile();
                   p->set_samples(10);
                   p->set_kernel_samples(10);
                   for (int i = 0; i < 65; ++i) {
                     p->add_symbols()->set_name(absl::StrCat("f", i));
                   }
                 }),
                 "result.profile.symbols");
  EXPECT_INVALID(with([](auto& r) { r.mutable_result()->mutable_profile()->add_symbols(); }),
                 "result.profile.symbols[0].name");
}

TEST(ReportResultTest, HistogramBucketsAreBoundedAcrossTheResult) {
  v1::ReportResultRequest r = GoodReport();
  v1::Histogram* h =
      r.mutable_result()->mutable_repetitions(0)->mutable_histograms(0)->mutable_histogram();
  h->clear_bucket_index();
  h->clear_count();
  h->set_sub_bucket_bits(limits::kMaxHistogramSubBucketBits);
  for (int i = 0; i < limits::kMaxHistogramBuckets; ++i) {
    h->add_bucket_index(i);
    h->add_count(1);
  }
  const int reps = limits::kMaxHistogramBucketsPerResult / limits::kMaxHistogramBuckets + 1;
  ASSERT_LE(reps, limits::kMaxResultRepetitions);
  for (int i = 1; i < reps; ++i) {
    v1::Repetition* rep = r.mutable_result()->add_repetitions();
    *rep = r.result().repetitions(0);
    rep->set_index(static_cast<uint32_t>(i));
  }
  EXPECT_INVALID(ValidateReportResultRequest(r),
                 absl::StrCat("result.repetitions[", reps - 1, "].histograms"));
}

// The store keys samples by (repetition, metric name), so each appears once.
TEST(ReportResultTest, RepetitionsAndTheirMetricsAppearOnce) {
  v1::ReportResultRequest r = GoodReport();
  const std::string last =
      absl::StrCat("result.repetitions[", r.result().repetitions_size(), "]");
  v1::Repetition* again = r.mutable_result()->add_repetitions();
  *again = r.result().repetitions(0);
  EXPECT_INVALID(ValidateReportResultRequest(r), last + ".index");
  again->set_index(1000);
  EXPECT_TRUE(ValidateReportResultRequest(r).ok());
  *again->add_metrics() = again->metrics(0);
  EXPECT_INVALID(ValidateReportResultRequest(r),
                 absl::StrCat(last, ".metrics[", again->metrics_size() - 1, "].name"));
}

// --- CampaignService ---

v1::SubmitCampaignRequest GoodSubmit() {
  return Parse<v1::SubmitCampaignRequest>(R"pb(
    spec {
      name: "ab"
      repetitions: 5
      priority: PRIORITY_INTERACTIVE
      interleave: true
      labels { key: "pipeline" value: "kernel-6.12-upgrade" }
      suite {
        benchmark: "fault_anon"
        warmup: 1
        timeout_seconds: 600
        params {
          key: "region_mib"
          value { int_value: 64 }
        }
      }
      targets { name: "stock" kernel_label: "stock" host_tags: "lab" agent_ids: "box-1" }
      targets { name: "patched" kernel_label: "patched/*" arch: ARCH_X86_64 }
    }
  )pb");
}

TEST(SubmitCampaignTest, ValidPasses) {
  EXPECT_TRUE(ValidateSubmitCampaignRequest(GoodSubmit()).ok());
}

TEST(SubmitCampaignTest, EachBoundNamesItsField) {
  auto with = [](auto mutate) {
    v1::SubmitCampaignRequest r = GoodSubmit();
    mutate(*r.mutable_spec());
    return ValidateSubmitCampaignRequest(r);
  };
  EXPECT_INVALID(with([](auto& s) { s.clear_name(); }), "spec.name");
  EXPECT_INVALID(with([](auto& s) { s.set_name(std::string(limits::kMaxNameLength + 1, 'n')); }),
                 "spec.name");
  EXPECT_INVALID(with([](auto& s) { s.clear_suite(); }), "spec.suite");
  EXPECT_INVALID(with([](auto& s) {
                   for (int i = 0; i < 256; ++i) *s.add_suite() = s.suite(0);
                 }),
                 "spec.suite");
  EXPECT_INVALID(with([](auto& s) { s.mutable_suite(0)->clear_benchmark(); }),
                 "spec.suite[0].benchmark");
  EXPECT_INVALID(with([](auto& s) { s.mutable_suite(0)->set_repetitions(1001); }),
                 "spec.suite[0].repetitions");
  EXPECT_INVALID(with([](auto& s) { s.mutable_suite(0)->set_warmup(101); }),
                 "spec.suite[0].warmup");
  EXPECT_INVALID(with([](auto& s) { s.mutable_suite(0)->set_timeout_seconds(86401); }),
                 "spec.suite[0].timeout_seconds");
  EXPECT_INVALID(with([](auto& s) { s.mutable_suite(0)->set_trace_repetitions(101); }),
                 "spec.suite[0].trace_repetitions");
  EXPECT_INVALID(with([](auto& s) { s.mutable_suite(0)->set_profile_repetitions(101); }),
                 "spec.suite[0].profile_repetitions");
  EXPECT_INVALID(with([](auto& s) {
                   (*s.mutable_suite(0)->mutable_params())["ratio"].set_double_value(std::nan(""));
                 }),
                 "spec.suite[0].params[\"ratio\"]");
  EXPECT_INVALID(
      with([](auto& s) { (*s.mutable_suite(0)->mutable_params())[std::string(200, 'k')]; }),
      "spec.suite[0].params[<200-character key>]");
  EXPECT_INVALID(with([](auto& s) { s.clear_targets(); }), "spec.targets");
  EXPECT_INVALID(with([](auto& s) {
                   for (int i = 0; i < 64; ++i) *s.add_targets() = s.targets(1);
                 }),
                 "spec.targets");
  EXPECT_INVALID(with([](auto& s) { s.mutable_targets(1)->set_arch(static_cast<v1::Arch>(3)); }),
                 "spec.targets[1].arch");
  EXPECT_INVALID(
      with([](auto& s) {
        s.mutable_targets(1)->set_host_class(std::string(limits::kMaxPatternLength + 1, '*'));
      }),
      "spec.targets[1].host_class");
  EXPECT_INVALID(with([](auto& s) {
                   for (int i = 0; i < limits::kMaxTargetHostTags; ++i)
                     s.mutable_targets(0)->add_host_tags("t");
                 }),
                 "spec.targets[0].host_tags");
  EXPECT_INVALID(with([](auto& s) { s.mutable_targets(0)->add_agent_ids("a b"); }),
                 "spec.targets[0].agent_ids[1]");
  EXPECT_INVALID(with([](auto& s) { s.set_repetitions(1001); }), "spec.repetitions");
  EXPECT_INVALID(with([](auto& s) { s.set_priority(static_cast<v1::Priority>(12)); }),
                 "spec.priority");
  EXPECT_INVALID(with([](auto& s) {
                   for (int i = 0; i < limits::kMaxCampaignLabels; ++i) {
                     (*s.mutable_labels())["l" + std::to_string(i)] = "v";
                   }
                 }),
                 "spec.labels");
  EXPECT_INVALID(with([](auto& s) {
                   (*s.mutable_labels())["pipeline"] = std::string(limits::kMaxTextLength + 1, 'v');
                 }),
                 "spec.labels[\"pipeline\"]");
}

TEST(CampaignIdRequestsTest, RequireAWellFormedId) {
  v1::GetCampaignRequest get;
  EXPECT_INVALID(ValidateGetCampaignRequest(get), "campaign_id");
  get.set_campaign_id("c-000012");
  EXPECT_TRUE(ValidateGetCampaignRequest(get).ok());
  v1::CancelCampaignRequest cancel;
  cancel.set_campaign_id("c-0000 12");
  EXPECT_INVALID(ValidateCancelCampaignRequest(cancel), "campaign_id");
  cancel.set_campaign_id("c-000012");
  EXPECT_TRUE(ValidateCancelCampaignRequest(cancel).ok());
  v1::WatchCampaignRequest watch;
  watch.set_campaign_id(std::string(limits::kMaxIdentifierLength + 1, 'c'));
  EXPECT_INVALID(ValidateWatchCampaignRequest(watch), "campaign_id");
  watch.set_campaign_id("c-000012");
  EXPECT_TRUE(ValidateWatchCampaignRequest(watch).ok());
}

TEST(ListTest, PageSizesAreBounded) {
  v1::ListCampaignsRequest list;
  list.set_limit(limits::kMaxListCampaigns);
  EXPECT_TRUE(ValidateListCampaignsRequest(list).ok());
  list.set_limit(limits::kMaxListCampaigns + 1);
  EXPECT_INVALID(ValidateListCampaignsRequest(list), "limit");
  EXPECT_TRUE(ValidateListAgentsRequest(v1::ListAgentsRequest()).ok());
}

TEST(QueryResultsTest, ValidPassesAndBoundsNameFields) {
  auto query = Parse<v1::QueryResultsRequest>(
      R"pb(campaign_id: "c-000001"
           benchmark: "fault_anon"
           arch: ARCH_ARM64
           kernel_label: "patched/*"
           agent_id: "box-1"
           limit: 10000)pb");
  EXPECT_TRUE(ValidateQueryResultsRequest(query).ok());
  EXPECT_TRUE(ValidateQueryResultsRequest(v1::QueryResultsRequest()).ok());
  v1::QueryResultsRequest r = query;
  r.set_limit(10001);
  EXPECT_INVALID(ValidateQueryResultsRequest(r), "limit");
  r = query;
  r.set_arch(static_cast<v1::Arch>(4));
  EXPECT_INVALID(ValidateQueryResultsRequest(r), "arch");
  r = query;
  r.set_campaign_id("c 1");
  EXPECT_INVALID(ValidateQueryResultsRequest(r), "campaign_id");
  r = query;
  r.set_kernel_label(std::string(limits::kMaxPatternLength + 1, '*'));
  EXPECT_INVALID(ValidateQueryResultsRequest(r), "kernel_label");
  r = query;
  r.set_agent_id("box/1");
  EXPECT_INVALID(ValidateQueryResultsRequest(r), "agent_id");
  r = query;
  r.set_benchmark(std::string(limits::kMaxNameLength + 1, 'b'));
  EXPECT_INVALID(ValidateQueryResultsRequest(r), "benchmark");
}

// --- AnalysisService ---

TEST(CompareTest, ValidPassesAndBoundsNameFields) {
  auto compare = Parse<v1::CompareRequest>(R"pb(
    baseline { campaign_id: "c-000001" target_name: "stock" }
    candidate { kernel_label: "patched/*" arch: ARCH_X86_64 benchmark: "fault_*" }
    options {
      confidence: 0.99
      fdr_level: 0.05
      min_effect: 0.01
      max_cv: 0.2
      min_samples_per_side: 3
    }
  )pb");
  EXPECT_TRUE(ValidateCompareRequest(compare).ok());
  v1::CompareRequest r = compare;
  r.clear_baseline();
  EXPECT_INVALID(ValidateCompareRequest(r), "baseline");
  r = compare;
  r.mutable_candidate()->set_arch(static_cast<v1::Arch>(9));
  EXPECT_INVALID(ValidateCompareRequest(r), "candidate.arch");
  r = compare;
  r.mutable_candidate()->set_host_class(std::string(limits::kMaxPatternLength + 1, 'h'));
  EXPECT_INVALID(ValidateCompareRequest(r), "candidate.host_class");
  r = compare;
  r.mutable_baseline()->set_campaign_id("c;1");
  EXPECT_INVALID(ValidateCompareRequest(r), "baseline.campaign_id");
  // The agent is a glob: every boot of a lab machine is an agent of its own.
  r = compare;
  r.mutable_baseline()->set_agent_id("lab-x86_64-vm0-b*-run1");
  EXPECT_TRUE(ValidateCompareRequest(r).ok());
  r.mutable_baseline()->set_agent_id(std::string(limits::kMaxIdentifierLength + 1, 'a'));
  EXPECT_INVALID(ValidateCompareRequest(r), "baseline.agent_id");
  for (double c : {1.0, -0.5, std::nan("")}) {
    r = compare;
    r.mutable_options()->set_confidence(c);
    EXPECT_INVALID(ValidateCompareRequest(r), "options.confidence");
  }
  r = compare;
  r.mutable_options()->set_fdr_level(2);
  EXPECT_INVALID(ValidateCompareRequest(r), "options.fdr_level");
  r = compare;
  r.mutable_options()->set_min_effect(1);
  EXPECT_INVALID(ValidateCompareRequest(r), "options.min_effect");
  r = compare;
  r.mutable_options()->set_max_cv(-1);
  EXPECT_INVALID(ValidateCompareRequest(r), "options.max_cv");
  r = compare;
  r.mutable_options()->set_min_samples_per_side(1);
  EXPECT_INVALID(ValidateCompareRequest(r), "options.min_samples_per_side");
  r = compare;
  r.mutable_options()->add_metrics("fault_anon:ns_per_fault");
  r.mutable_options()->add_metrics("*:mmap_lock_*");
  EXPECT_TRUE(ValidateCompareRequest(r).ok());
  r.mutable_options()->add_metrics("");
  EXPECT_INVALID(ValidateCompareRequest(r), "options.metrics[2]");
  r = compare;
  r.mutable_options()->add_metrics(std::string(257, 'x'));
  EXPECT_INVALID(ValidateCompareRequest(r), "options.metrics[0]");
  r = compare;
  for (int i = 0; i < 65; ++i) r.mutable_options()->add_metrics("m");
  EXPECT_INVALID(ValidateCompareRequest(r), "options.metrics");
}

TEST(ChangePointsTest, ValidPassesAndBoundsNameFields) {
  auto cp = Parse<v1::ChangePointsRequest>(R"pb(
    benchmark: "fault_anon"
    metric: "ns_per_fault"
    arch: ARCH_X86_64
    host_class: "epyc-*"
    order: ORDER_BY_KERNEL
    max_p_value: 0.01
    limit: 100000
    params {
      key: "threads"
      value { int_value: 2 }
    }
  )pb");
  EXPECT_TRUE(ValidateChangePointsRequest(cp).ok());
  v1::ChangePointsRequest r = cp;
  r.clear_benchmark();
  EXPECT_INVALID(ValidateChangePointsRequest(r), "benchmark");
  r = cp;
  r.clear_metric();
  EXPECT_INVALID(ValidateChangePointsRequest(r), "metric");
  r = cp;
  r.set_order(static_cast<v1::ChangePointsRequest::Order>(5));
  EXPECT_INVALID(ValidateChangePointsRequest(r), "order");
  r = cp;
  r.set_max_p_value(1);
  EXPECT_INVALID(ValidateChangePointsRequest(r), "max_p_value");
  r = cp;
  r.set_limit(100001);
  EXPECT_INVALID(ValidateChangePointsRequest(r), "limit");
  r = cp;
  r.set_arch(static_cast<v1::Arch>(5));
  EXPECT_INVALID(ValidateChangePointsRequest(r), "arch");
  r = cp;
  (*r.mutable_params())[""].set_int_value(1);
  EXPECT_INVALID(ValidateChangePointsRequest(r), "params[\"\"]");
}

v1::GateRequest GoodGate() {
  return Parse<v1::GateRequest>(R"pb(
    policy: "# budget\nfault_anon ns_per_fault 3% 0.99\n"
    policy_name: "mm-upgrade"
    baseline { kernel_label: "stock" }
    candidate { kernel_label: "patched/*" }
    timeout_seconds: 3600
  )pb");
}

TEST(GateTest, ValidPasses) {
  EXPECT_TRUE(ValidateGateRequest(GoodGate()).ok());
  // A gate that runs its campaign: the spec has no targets and may leave a side unset.
  v1::GateRequest r = GoodGate();
  r.clear_baseline();
  r.mutable_campaign()->add_suite()->set_benchmark("fault_anon");
  EXPECT_TRUE(ValidateGateRequest(r).ok()) << ValidateGateRequest(r);
}

TEST(GateTest, PolicyErrorsNameThePolicyAndLine) {
  v1::GateRequest r = GoodGate();
  r.set_policy("# budget\nfault_anon ns_per_fault lots\n");
  const absl::Status s = ValidateGateRequest(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              StartsWith("policy: line 2: max_regression 'lots': expected a percentage"));
  r.set_policy("# nothing\n");
  EXPECT_INVALID(ValidateGateRequest(r), "policy");
  r.clear_policy();
  EXPECT_INVALID(ValidateGateRequest(r), "policy");
  r.set_policy(std::string(limits::kMaxPolicyBytes + 1, '#'));
  EXPECT_INVALID(ValidateGateRequest(r), "policy");
}

TEST(GateTest, EachBoundNamesItsField) {
  auto with = [](auto mutate) {
    v1::GateRequest r = GoodGate();
    mutate(r);
    return ValidateGateRequest(r);
  };
  EXPECT_INVALID(with([](auto& r) { r.set_policy_name("mm upgrade"); }), "policy_name");
  EXPECT_INVALID(with([](auto& r) { r.set_policy_name("a:b"); }), "policy_name");
  EXPECT_INVALID(with([](auto& r) { r.set_policy_name(std::string(129, 'p')); }), "policy_name");
  EXPECT_INVALID(with([](auto& r) { r.clear_candidate(); }), "candidate");
  EXPECT_INVALID(with([](auto& r) { r.mutable_baseline()->set_agent_id("a b"); }),
                 "baseline.agent_id");
  EXPECT_INVALID(with([](auto& r) { r.mutable_options()->set_confidence(7); }),
                 "options.confidence");
  EXPECT_INVALID(with([](auto& r) { r.set_timeout_seconds(limits::kMaxGateTimeoutSeconds + 1); }),
                 "timeout_seconds");
  EXPECT_INVALID(with([](auto& r) { r.mutable_campaign()->set_repetitions(5); }), "campaign.suite");
  EXPECT_INVALID(with([](auto& r) {
                   r.mutable_campaign()->add_suite()->set_benchmark("fault_anon");
                   r.mutable_campaign()->mutable_suite(0)->set_warmup(1000);
                 }),
                 "campaign.suite[0].warmup");
}

TEST(CompareTest, SequentialLookNamesItsField) {
  v1::CompareRequest r;
  r.mutable_baseline()->set_kernel_label("stock");
  r.mutable_candidate()->set_kernel_label("patched/*");
  r.mutable_look()->set_rounds(5);
  r.mutable_look()->set_max_rounds(14);
  EXPECT_TRUE(ValidateCompareRequest(r).ok()) << ValidateCompareRequest(r);
  r.mutable_look()->set_previous_rounds(5);
  EXPECT_INVALID(ValidateCompareRequest(r), "look.previous_rounds");
  r.mutable_look()->set_previous_rounds(0);
  r.mutable_look()->set_rounds(15);
  EXPECT_INVALID(ValidateCompareRequest(r), "look.rounds");
  r.mutable_look()->set_max_rounds(limits::kMaxSequentialRounds + 1);
  EXPECT_INVALID(ValidateCompareRequest(r), "look.max_rounds");
  r.mutable_look()->set_max_rounds(0);
  r.mutable_look()->set_rounds(0);
  EXPECT_INVALID(ValidateCompareRequest(r), "look.max_rounds");
}

TEST(GateTest, SequentialPlanNamesItsField) {
  v1::GateRequest r = GoodGate();
  r.mutable_campaign()->add_suite()->set_benchmark("fault_anon");
  r.mutable_sequential()->set_max_rounds(30);
  EXPECT_TRUE(ValidateGateRequest(r).ok()) << ValidateGateRequest(r);
  r.mutable_sequential()->set_max_rounds(0);
  r.mutable_sequential()->set_budget_seconds(900);
  EXPECT_TRUE(ValidateGateRequest(r).ok()) << ValidateGateRequest(r);
  r.mutable_sequential()->set_budget_seconds(0);
  EXPECT_INVALID(ValidateGateRequest(r), "sequential");  // bounds nothing
  r.mutable_sequential()->set_max_rounds(limits::kMaxSequentialRounds + 1);
  EXPECT_INVALID(ValidateGateRequest(r), "sequential.max_rounds");
  r.mutable_sequential()->set_max_rounds(30);
  r.mutable_sequential()->set_budget_seconds(limits::kMaxSequentialBudgetSeconds + 1);
  EXPECT_INVALID(ValidateGateRequest(r), "sequential.budget_seconds");
  // Rounds are added to a campaign the gate runs, not to stored results.
  r = GoodGate();
  r.mutable_sequential()->set_max_rounds(30);
  EXPECT_INVALID(ValidateGateRequest(r), "sequential");
}

TEST(Utf8Test, NamesTheFirstInvalidStringAtAnyDepth) {
  v1::SubmitCampaignRequest request;
  v1::CampaignSpec* spec = request.mutable_spec();
  spec->set_name("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");  // two-, three-, four-byte forms
  spec->add_targets()->set_kernel_label("stock");
  EXPECT_TRUE(ValidateUtf8Strings(request, "").ok());
  spec->add_targets()->set_kernel_label("patched/\xff\xfe");
  absl::Status s = ValidateUtf8Strings(request, "");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "spec.targets[1].kernel_label: not valid UTF-8");
  // Truncated, overlong, surrogate and beyond U+10FFFF forms are refused like protobuf does.
  for (const char* bad : {"\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    v1::RegisterRequest r;
    r.add_tags("ok");
    r.add_tags(bad);
    EXPECT_EQ(ValidateUtf8Strings(r, "").message(), "tags[1]: not valid UTF-8") << bad;
  }
}

}  // namespace
}  // namespace faultline::controller::validation
