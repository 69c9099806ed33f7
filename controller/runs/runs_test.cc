// Comparisons, histories and gates over a real SQLite store, with the real Fleet, Campaigns,
// Scheduler and JobReports; a thread stands in for the agents, running each leased job by
// drawing samples from a per-agent distribution (so which host is slow is known exactly).
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "controller/runs/gate_runner.h"
#include "controller/runs/kernel_comparison.h"
#include "controller/runs/metric_history.h"
#include "controller/scheduling/assign_one_for_tests.h"
#include "controller/scheduling/campaign_planner.h"
#include "controller/scheduling/campaigns.h"
#include "controller/scheduling/fleet.h"
#include "controller/scheduling/job_reports.h"
#include "controller/scheduling/scheduler.h"
#include "controller/scheduling/target_matcher.h"
#include "controller/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace faultline::controller::runs {
namespace {

using analysis::GateOutcome;
using analysis::Verdict;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::BenchmarkSpec FaultAnon() {
  v1::BenchmarkSpec spec;
  google::protobuf::TextFormat::ParseFromString(R"pb(
    name: "fault_anon"
    params { name: "region_mib" type: PARAM_TYPE_INT default_value { int_value: 8 }
             min { int_value: 1 } max { int_value: 1024 } }
  )pb", &spec);
  return spec;
}

store::AgentRecord Agent(const std::string& id, const std::string& label,
                         const std::string& host_class = "epyc-2cpu") {
  store::AgentRecord a;
  a.agent_id = id;
  a.host.set_arch(v1::ARCH_X86_64);
  a.host.set_kernel_release("6.18.0");
  a.host.set_kernel_label(label);
  a.host.set_host_class(host_class);
  a.catalog = {FaultAnon()};
  return a;
}

// Runs every job it can lease for `agents`, until stopped. Each repetition reports
// ns_per_fault ~ base * (1 + 1% noise) and faults_per_sec = 1e9 / ns_per_fault.
class FakeAgents {
 public:
  using Base = std::function<double(const store::AgentRecord& agent, const v1::Job& job)>;
  FakeAgents(scheduling::Scheduler* scheduler, scheduling::JobReports* reports,
             std::vector<store::AgentRecord> agents, Base base)
      : scheduler_(scheduler),
        reports_(reports),
        agents_(std::move(agents)),
        base_(std::move(base)),
        thread_([this] { Loop(); }) {}
  ~FakeAgents() {
    stop_ = true;
    thread_.join();
  }
  // Fingerprint override for the results of `agent_id` (e.g. a new kernel release).
  void SetHost(const std::string& agent_id, const v1::HostFingerprint& host) {
    absl::MutexLock lock(&mu_);
    for (store::AgentRecord& a : agents_) {
      if (a.agent_id == agent_id) a.host = host;
    }
  }

 private:
  void Loop() {
    std::mt19937_64 rng(42);
    std::normal_distribution<double> noise(0, 0.01);
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (!stop_ && absl::Now() < deadline) {
      bool worked = false;
      std::vector<store::AgentRecord> agents;
      {
        absl::MutexLock lock(&mu_);
        agents = agents_;
      }
      for (store::AgentRecord& agent : agents) {
        auto leased = scheduling::AssignOne(*scheduler_, agent);
        if (!leased.ok() || !leased->has_value()) continue;
        worked = true;
        {
          // The fingerprint as of now: SetHost may have run since the copy above.
          absl::MutexLock lock(&mu_);
          for (const store::AgentRecord& a : agents_) {
            if (a.agent_id == agent.agent_id) agent.host = a.host;
          }
        }
        const v1::Job& job = (*leased)->job;
        v1::RunResult r;
        r.set_benchmark(job.invocation().benchmark());
        *r.mutable_params() = job.invocation().params();
        r.set_state(v1::RUN_STATE_OK);
        *r.mutable_host() = agent.host;
        r.mutable_started()->set_seconds(1700000000 + ++runs_);
        for (uint32_t i = 0; i < job.invocation().repetitions(); ++i) {
          const double ns = base_(agent, job) * (1 + noise(rng));
          v1::Repetition* rep = r.add_repetitions();
          rep->set_index(i);
          for (auto [name, value, dir] :
               {std::make_tuple("ns_per_fault", ns, v1::DIRECTION_LOWER_IS_BETTER),
                std::make_tuple("faults_per_sec", 1e9 / ns, v1::DIRECTION_HIGHER_IS_BETTER)}) {
            v1::MetricValue* m = rep->add_metrics();
            m->set_name(name);
            m->set_unit(name == std::string("ns_per_fault") ? "ns" : "1/s");
            m->set_direction(dir);
            m->set_value(value);
          }
        }
        (void)reports_->Report(agent.agent_id, job.id(), job.attempt(), (*leased)->lease_id, r);
      }
      if (!worked) absl::SleepFor(absl::Milliseconds(5));
    }
  }

  scheduling::Scheduler* const scheduler_;
  scheduling::JobReports* const reports_;
  absl::Mutex mu_;
  std::vector<store::AgentRecord> agents_ ABSL_GUARDED_BY(mu_);
  const Base base_;
  std::atomic<bool> stop_{false};
  int runs_ = 0;
  std::thread thread_;
};

// Patched kernels are 30% slower on agents whose id is in `slow`.
FakeAgents::Base SlowOn(std::set<std::string> slow) {
  return [slow](const store::AgentRecord& a, const v1::Job&) {
    return slow.count(a.agent_id) ? 1300.0 : 1000.0;
  };
}

class AnalysisDomainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/analysis_domain_test_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db";
    std::remove(path_.c_str());
    auto store = store::SqliteStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    fleet_ = std::make_unique<scheduling::Fleet>(store_.get(), scheduling::Fleet::Options{},
                                                 scheduling::RealClock(), nullptr);
    campaigns_ = std::make_unique<scheduling::Campaigns>(store_.get(), fleet_.get(),
                                                         scheduling::RealClock(), nullptr);
    scheduler_ = std::make_unique<scheduling::Scheduler>(
        store_.get(), scheduling::Scheduler::Options{}, scheduling::RealClock());
    reports_ = std::make_unique<scheduling::JobReports>(
        store_.get(), scheduling::JobReports::Options{}, scheduling::RealClock(), nullptr);
    GateRunner::Options options;
    options.poll_interval = absl::Milliseconds(10);
    gates_ = std::make_unique<GateRunner>(
        store_.get(), fleet_.get(), campaigns_.get(), options,
        [this](const std::string& name, GateOutcome outcome) { verdicts_[name] = outcome; });
  }

  std::vector<store::AgentRecord> Register(const std::vector<store::AgentRecord>& agents) {
    for (const store::AgentRecord& a : agents) EXPECT_TRUE(fleet_->Register(a).ok());
    return agents;
  }

  std::string SubmitAndWait(const std::string& text) {
    v1::CampaignSpec spec;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &spec));
    auto c = campaigns_->Submit(spec);
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) return "";
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      auto now = campaigns_->Get(c->id());
      if (now.ok() && now->state() == v1::CAMPAIGN_STATE_SUCCEEDED) return c->id();
      absl::SleepFor(absl::Milliseconds(5));
    }
    ADD_FAILURE() << "campaign " << c->id() << " did not finish";
    return c->id();
  }

  static RunSelector Side(const std::string& campaign, const std::string& target) {
    RunSelector s;
    s.campaign_id = campaign;
    s.target_name = target;
    return s;
  }

  static RunSelector Label(const std::string& glob) {
    RunSelector s;
    s.kernel_label = glob;
    return s;
  }

  GateSpec Gate(const std::string& policy) {
    GateSpec spec;
    spec.policy_text = policy;
    spec.policy_name = "mm-upgrade";
    spec.baseline = Label("stock");
    spec.candidate = Label("patched/*");
    spec.campaign_timeout = absl::Seconds(30);
    v1::CampaignSpec campaign;
    google::protobuf::TextFormat::ParseFromString(
        R"pb(suite { benchmark: "fault_anon" } repetitions: 10 interleave: true)pb", &campaign);
    spec.campaign = campaign;
    return spec;
  }

  std::string path_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<scheduling::Fleet> fleet_;
  std::unique_ptr<scheduling::Campaigns> campaigns_;
  std::unique_ptr<scheduling::Scheduler> scheduler_;
  std::unique_ptr<scheduling::JobReports> reports_;
  std::unique_ptr<GateRunner> gates_;
  std::map<std::string, GateOutcome> verdicts_;
};

// A stored run of `reps` repetitions of ns_per_fault = `value` by `agent` in boot `boot`.
store::StoredRunRecord BootRun(int64_t id, const std::string& agent, const std::string& boot,
                        double value, int reps) {
  store::StoredRunRecord run;
  run.run_id = id;
  run.agent_id = agent;
  run.result.set_benchmark("fault_anon");
  run.result.set_state(v1::RUN_STATE_OK);
  run.result.mutable_host()->set_host_class("epyc-2cpu");
  run.result.mutable_host()->set_boot_id(boot);
  for (int i = 0; i < reps; ++i) {
    v1::MetricValue* m = run.result.add_repetitions()->add_metrics();
    m->set_name("ns_per_fault");
    m->set_value(value + i);
  }
  return run;
}

TEST(ReplicationUnitTest, BootsAreBlocksWhenBothSidesSpanSeveralBoots) {
  // The lab's rounds: each side boots three times, two runs per boot (a fresh agent id per boot
  // would do the same; here the agent keeps its id across boots).
  std::vector<store::StoredRunRecord> a, b;
  int64_t id = 0;
  for (int boot = 0; boot < 3; ++boot) {
    for (int run = 0; run < 2; ++run) {
      a.push_back(BootRun(++id, "vm0", "a-boot" + std::to_string(boot), 1000, 3));
      b.push_back(BootRun(++id, "vm1", "b-boot" + std::to_string(boot), 1000, 3));
    }
  }
  auto c = CollectComparison(a, b);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->replication_unit, ReplicationUnit::kBoot);
  ASSERT_EQ(c->metrics.size(), 1u);
  // Two runs of 3 repetitions per boot: samples 0-5 are boot 0, 6-11 boot 1, ...
  EXPECT_THAT(c->metrics[0].samples.baseline_blocks,
              ElementsAre(0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2));
  EXPECT_TRUE(c->warnings.empty());

  auto by_run = CollectComparison(a, b, ReplicationUnit::kRun);
  ASSERT_TRUE(by_run.ok());
  EXPECT_EQ(by_run->metrics[0].samples.baseline_blocks.back(), 5);

  // The same boot id on two agents (two agents on one machine) is two blocks.
  std::vector<store::StoredRunRecord> shared = {BootRun(100, "x", "same", 1000, 2),
                                         BootRun(101, "y", "same", 1000, 2)};
  auto two = CollectComparison(shared, b, ReplicationUnit::kBoot);
  ASSERT_TRUE(two.ok());
  EXPECT_THAT(two->metrics[0].samples.baseline_blocks, ElementsAre(0, 0, 1, 1));
}

// BootRun with a tracing repetition (mmap_lock acquisitions per fault and the raw count) and,
// with `profile`, a kernel profile whose lock_mm_and_find_vma share is `retry_share`.
store::StoredRunRecord MechanismRun(int64_t id, double per_fault, int64_t acquisitions,
                                    double retry_share, bool profile) {
  store::StoredRunRecord run = BootRun(id, "vm", "", 1000, 2);
  for (int r = 0; r < 2; ++r) {
    (*run.result.mutable_repetitions(r)->mutable_counters())["rusage.majflt"] = 4096 + id % 3;
  }
  v1::Repetition* traced = run.result.add_tracing_repetitions();
  traced->set_index(2);
  v1::MetricValue* m = traced->add_metrics();
  m->set_name("mmap_lock.faulter.read_acquisitions_per_fault");
  m->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
  m->set_value(per_fault);
  (*traced->mutable_counters())["mmap_lock.faulter.read_acquisitions"] = acquisitions;
  if (!profile) {
    run.result.mutable_profile()->set_unavailable_reason("perf events are turned off");
    return run;
  }
  v1::KernelProfile* p = run.result.mutable_profile();
  p->set_samples(1000);
  p->set_kernel_samples(900);
  for (const auto& [name, total] : {std::pair<const char*, double>{"filemap_fault", 0.5},
                                    {"lock_mm_and_find_vma", retry_share}}) {
    v1::ProfileSymbol* s = p->add_symbols();
    s->set_name(name);
    s->set_total_samples(static_cast<uint64_t>(total * 1000));
    s->set_self_samples(10);
  }
  return run;
}

TEST(CountersAndProfilesTest, RawCountersAreComparedAsNeutralRowsAndProfilesByShare) {
  // Stock retries a major fault under mmap_lock once; patched stays on the per-VMA lock.
  std::vector<store::StoredRunRecord> stock, patched;
  for (int i = 0; i < 6; ++i) {
    stock.push_back(MechanismRun(2 * i + 1, 1.0 + 0.01 * i, 4096 + i, 0.30, true));
    patched.push_back(MechanismRun(2 * i + 2, 0.001 * (i + 1), 4 + i, 0.01, i < 5));
  }
  absl::StatusOr<KernelComparison> c = CollectComparison(stock, patched);
  ASSERT_TRUE(c.ok()) << c.status();
  analysis::CompareOptions options;
  ASSERT_TRUE(CompareCountersAndProfiles(options, &*c).ok());
  // Counters are rows of their own: never among the metrics, never in the verdict counts.
  ASSERT_EQ(c->counters.size(), 2u);
  ASSERT_EQ(c->counter_suite.metrics.size(), 2u);
  const analysis::MetricComparison& acquisitions = c->counter_suite.metrics[0];
  EXPECT_EQ(acquisitions.metric, "mmap_lock.faulter.read_acquisitions");
  EXPECT_EQ(acquisitions.direction, analysis::MetricDirection::kNeutral);
  EXPECT_FALSE(acquisitions.tested);
  EXPECT_TRUE(acquisitions.shifted);
  EXPECT_DOUBLE_EQ(acquisitions.baseline_mean, 4098.5);
  EXPECT_DOUBLE_EQ(acquisitions.candidate_mean, 6.5);
  EXPECT_EQ(c->counter_suite.metrics[1].metric, "rusage.majflt");
  EXPECT_EQ(c->counter_suite.metrics[1].baseline_count, 12);
  for (const ComparedMetric& m : c->metrics) {
    EXPECT_NE(m.samples.metric, "mmap_lock.faulter.read_acquisitions");
  }
  // The profile row that moved most is the retry under mmap_lock: 30% of the samples -> 1%,
  // over the five patched runs that have a profile; the sixth's reason is a warning.
  ASSERT_EQ(c->profile_changes.size(), 2u);
  EXPECT_EQ(c->profile_changes[0].function, "lock_mm_and_find_vma");
  EXPECT_NEAR(c->profile_changes[0].total_change(), -0.29, 1e-9);
  EXPECT_EQ(c->profile_changes[0].baseline_profiles, 6);
  EXPECT_EQ(c->profile_changes[0].candidate_profiles, 5);
  EXPECT_EQ(c->profile_changes[1].function, "filemap_fault");
  EXPECT_NEAR(c->profile_changes[1].total_change(), 0, 1e-9);
  // Only a side with no profile at all is warned about.
  EXPECT_TRUE(c->warnings.empty()) << c->warnings[0];
  for (store::StoredRunRecord& run : patched) {
    run.result.mutable_profile()->Clear();
    run.result.mutable_profile()->set_unavailable_reason("perf events are turned off");
  }
  c = CollectComparison(stock, patched);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(CompareCountersAndProfiles(options, &*c).ok());
  EXPECT_TRUE(c->profile_changes.empty());
  EXPECT_THAT(c->warnings, ElementsAre("fault_anon: no kernel profile on the candidate side "
                                       "(perf events are turned off)"));
}

TEST(ReplicationUnitTest, OneBootPerSideFallsBackToRunsAndSaysSo) {
  std::vector<store::StoredRunRecord> a, b;
  for (int run = 0; run < 6; ++run) {
    a.push_back(BootRun(2 * run + 1, "vm0", "only-a", 1000, 1));
    b.push_back(BootRun(2 * run + 2, "vm1", "only-b", 1000, 1));
  }
  auto c = CollectComparison(a, b);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->replication_unit, ReplicationUnit::kRun);
  ASSERT_EQ(c->warnings.size(), 2u);
  EXPECT_THAT(c->warnings[0], HasSubstr("baseline: every run is from one boot of agent vm0"));
  auto boots = CollectComparison(a, b, ReplicationUnit::kBoot);
  ASSERT_TRUE(boots.ok());
  EXPECT_THAT(boots->metrics[0].samples.baseline_blocks, ElementsAre(0, 0, 0, 0, 0, 0));
}

TEST(CollectComparisonTest, NeverComparesAnIcountGuestWithARealTimeOne) {
  auto runs = [](const std::string& agent, v1::Virtualization virt, uint32_t shift,
                 const std::string& host_class) {
    std::vector<store::StoredRunRecord> side;
    for (int i = 0; i < 3; ++i) {
      side.push_back(BootRun(i + 1, agent, agent + std::to_string(i), 1000, 2));
      side.back().result.mutable_host()->set_virtualization(virt);
      side.back().result.mutable_host()->set_icount_shift(shift);
      side.back().result.mutable_host()->set_host_class(host_class);
    }
    return side;
  };
  const auto tcg = runs("tcg", v1::VIRTUALIZATION_EMULATED, 0, "qemu64-1cpu-tcg");
  const auto icount3 = runs("ic3", v1::VIRTUALIZATION_EMULATED_ICOUNT, 3, "qemu64-1cpu-icount3");
  const auto other3 = runs("ic3b", v1::VIRTUALIZATION_EMULATED_ICOUNT, 3, "qemu64-1cpu-icount3");
  const auto icount2 = runs("ic2", v1::VIRTUALIZATION_EMULATED_ICOUNT, 2, "qemu64-1cpu-icount2");
  // Host classes that differ across the sides are only a warning for real-time machines; a
  // different clock is a refusal, in either order, and for two shifts.
  auto mixed = CollectComparison(tcg, icount3);
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(mixed.status().message(),
              HasSubstr("baseline's times are real time, candidate's icount shift 3"));
  EXPECT_EQ(CollectComparison(icount3, tcg).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CollectComparison(icount3, icount2).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A host class set by hand to the real-time one does not let icount runs in.
  auto disguised = runs("ic3c", v1::VIRTUALIZATION_EMULATED_ICOUNT, 3, "qemu64-1cpu-tcg");
  auto hidden = CollectComparison(tcg, disguised);
  EXPECT_EQ(hidden.status().code(), absl::StatusCode::kFailedPrecondition);
  std::vector<store::StoredRunRecord> both = tcg;
  both.insert(both.end(), disguised.begin(), disguised.end());
  EXPECT_EQ(CollectComparison(both, tcg).status().code(), absl::StatusCode::kFailedPrecondition);
  // Two icount guests of one shift compare as any two machines of one class.
  auto same = CollectComparison(icount3, other3);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->baseline_host_class, "qemu64-1cpu-icount3");
  EXPECT_TRUE(same->warnings.empty());
}

TEST_F(AnalysisDomainTest, ComparesEachInvocationAndMetricOfTwoTargets) {
  auto agents = Register({Agent("stock-1", "stock"), Agent("patched-1", "patched/v3")});
  FakeAgents run(scheduler_.get(), reports_.get(), agents,
                 [](const store::AgentRecord& a, const v1::Job& job) {
                   // Only the 16 MiB invocation regresses.
                   const bool big = job.invocation().params().at("region_mib").int_value() == 16;
                   return a.agent_id == "patched-1" && big ? 1300.0 : 1000.0;
                 });
  const std::string id = SubmitAndWait(R"pb(
    name: "ab" repetitions: 10 interleave: true
    suite { benchmark: "fault_anon" params { key: "region_mib" value { int_value: 8 } } }
    suite { benchmark: "fault_anon" params { key: "region_mib" value { int_value: 16 } } }
    targets { name: "stock" kernel_label: "stock" }
    targets { name: "patched" kernel_label: "patched/*" })pb");

  auto c = CompareKernels(store_.get(), Side(id, "stock"), Side(id, "patched"), {});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->metrics.size(), 4u);
  ASSERT_EQ(c->suite.metrics.size(), 4u);
  EXPECT_EQ(c->baseline_runs, 20);  // interleaved: one run per repetition and invocation
  EXPECT_EQ(c->replication_unit, ReplicationUnit::kRun);
  EXPECT_EQ(c->baseline_host_class, "epyc-2cpu");
  EXPECT_THAT(c->candidate_kernel_labels, ElementsAre("patched/v3"));
  std::map<std::string, const analysis::MetricComparison*> by_name;
  for (const auto& m : c->suite.metrics) by_name[m.benchmark + " " + m.metric] = &m;
  const auto* slow = by_name["fault_anon[region_mib=16] ns_per_fault"];
  ASSERT_NE(slow, nullptr);
  EXPECT_EQ(slow->verdict, Verdict::kRegression);
  EXPECT_EQ(slow->baseline_count, 10);
  EXPECT_GT(slow->ratio_lower, 1.25);
  EXPECT_LT(slow->ratio_upper, 1.35);
  const auto* rate = by_name["fault_anon[region_mib=16] faults_per_sec"];
  ASSERT_NE(rate, nullptr);
  EXPECT_EQ(rate->verdict, Verdict::kRegression);  // fewer faults per second is worse
  EXPECT_EQ(by_name["fault_anon[region_mib=8] ns_per_fault"]->verdict, Verdict::kNoChange);
  for (const ComparedMetric& m : c->metrics) {
    EXPECT_THAT(m.baseline_agents, ElementsAre("stock-1"));
    EXPECT_THAT(m.candidate_agents, ElementsAre("patched-1"));
  }

  // The same runs selected by kernel label instead of campaign target.
  auto by_label = CompareKernels(store_.get(), Label("stock"), Label("patched/*"), {});
  ASSERT_TRUE(by_label.ok()) << by_label.status();
  ASSERT_EQ(by_label->suite.metrics.size(), 4u);
  EXPECT_EQ(by_label->suite.regressions, 2);

  // Asked about one metric, the comparison is of that metric alone: its own q-value is its
  // p-value (a family of one), not diluted by the other three.
  auto one = CompareKernels(store_.get(), Side(id, "stock"), Side(id, "patched"), {},
                            ReplicationUnit::kAuto, {"fault_anon[region_mib=16]:ns_per_fault"});
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->suite.metrics.size(), 1u);
  EXPECT_EQ(one->suite.metrics[0].metric, "ns_per_fault");
  EXPECT_EQ(one->suite.metrics[0].q_value, one->suite.metrics[0].p_value);
  EXPECT_LT(one->suite.metrics[0].q_value, slow->q_value);
  // A bare metric glob takes it from every invocation; the bare benchmark name takes them all.
  auto per_fault = CompareKernels(store_.get(), Side(id, "stock"), Side(id, "patched"), {},
                                  ReplicationUnit::kAuto, {"ns_per_*"});
  ASSERT_TRUE(per_fault.ok()) << per_fault.status();
  EXPECT_EQ(per_fault->suite.metrics.size(), 2u);
  auto by_name_glob = CompareKernels(store_.get(), Side(id, "stock"), Side(id, "patched"), {},
                                     ReplicationUnit::kAuto, {"fault_anon:faults_per_sec"});
  ASSERT_TRUE(by_name_glob.ok()) << by_name_glob.status();
  EXPECT_EQ(by_name_glob->suite.metrics.size(), 2u);
  auto none = CompareKernels(store_.get(), Side(id, "stock"), Side(id, "patched"), {},
                             ReplicationUnit::kAuto, {"mmap_munmap:*"});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(none.status().message(),
              HasSubstr("options.metrics: mmap_munmap:* matches none of the 4 metrics"));
  EXPECT_THAT(none.status().message(), HasSubstr("fault_anon[region_mib=8]:ns_per_fault"));
}

TEST_F(AnalysisDomainTest, SelectorErrorsSayWhatIsWrong) {
  auto agents = Register({Agent("stock-1", "stock"), Agent("other", "stock", "arm-8cpu")});
  FakeAgents run(scheduler_.get(), reports_.get(), agents, SlowOn({}));
  SubmitAndWait(R"pb(name: "sweep" repetitions: 5 suite { benchmark: "fault_anon" }
                     targets { kernel_label: "stock" every_matching_host: true })pb");
  auto empty = CompareKernels(store_.get(), RunSelector{}, Label("stock"), {});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("baseline: empty selector"));
  auto none = CompareKernels(store_.get(), Label("stock"), Label("patched/*"), {});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(none.status().message(), HasSubstr("candidate: no successful runs"));
  auto mixed = CompareKernels(store_.get(), Label("stock"), Label("stock"), {});
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(mixed.status().message(), HasSubstr("span host classes arm-8cpu, epyc-2cpu"));
  RunSelector narrowed = Label("stock");
  narrowed.host_class = "epyc-*";
  EXPECT_TRUE(CompareKernels(store_.get(), narrowed, narrowed, {}).ok());
  analysis::CompareOptions bad;
  bad.min_effect = -1;
  EXPECT_EQ(CompareKernels(store_.get(), narrowed, narrowed, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AnalysisDomainTest, AgentIdsRestrictATarget) {
  auto agents = Register({Agent("a", "stock"), Agent("b", "stock")});
  v1::TargetSelector t;
  t.set_kernel_label("stock");
  t.add_agent_ids("b");
  EXPECT_FALSE(scheduling::AgentMatchesTarget(t, agents[0]));
  EXPECT_TRUE(scheduling::AgentMatchesTarget(t, agents[1]));
  EXPECT_THAT(scheduling::DescribeTarget(t), HasSubstr("agent_ids=b"));
  v1::CampaignSpec spec;
  google::protobuf::TextFormat::ParseFromString(
      R"pb(name: "x" suite { benchmark: "fault_anon" }
           targets { kernel_label: "stock" agent_ids: "nobody" })pb", &spec);
  auto plan = scheduling::PlanCampaign(spec, agents);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(plan.status().message(), HasSubstr("agent_ids=nobody"));
  spec.mutable_targets(0)->add_agent_ids("");
  plan = scheduling::PlanCampaign(spec, agents);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(),
              HasSubstr("spec.targets[0].agent_ids[1]: must be set"));
  spec.mutable_targets(0)->clear_agent_ids();
  spec.mutable_targets(0)->add_agent_ids("b");
  plan = scheduling::PlanCampaign(spec, agents);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->jobs.size(), 1u);
  EXPECT_EQ(plan->jobs[0].target().agent_ids(0), "b");
}

TEST_F(AnalysisDomainTest, GatePassesAnAACampaign) {
  auto agents = Register({Agent("stock-1", "stock"), Agent("patched-1", "patched/v3")});
  FakeAgents run(scheduler_.get(), reports_.get(), agents, SlowOn({}));
  auto report = gates_->Run(Gate("fault_anon ns_per_fault 5%\n* faults_per_sec 5%\n"));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->outcome, GateOutcome::kPass);
  EXPECT_FALSE(report->campaign_id.empty());
  EXPECT_TRUE(report->confirmations.empty());
  EXPECT_EQ(verdicts_["mm-upgrade"], GateOutcome::kPass);
  auto campaign = campaigns_->Get(report->campaign_id);
  ASSERT_TRUE(campaign.ok());
  EXPECT_EQ(campaign->spec().priority(), v1::PRIORITY_GATE);
  EXPECT_EQ(campaign->progress().jobs_total(), 20u);  // interleaved: one job per repetition
}

TEST_F(AnalysisDomainTest, GateFailureConfirmedOnASecondHost) {
  auto agents = Register({Agent("stock-1", "stock"), Agent("patched-1", "patched/v3"),
                          Agent("patched-2", "patched/v3"), Agent("stock-2", "stock"),
                          Agent("elsewhere", "patched/v3", "arm-8cpu")});
  FakeAgents run(scheduler_.get(), reports_.get(), agents, SlowOn({"patched-1", "patched-2"}));
  GateSpec spec = Gate("fault_anon ns_per_fault 5%\n");
  spec.baseline.agent_id = "stock-1";
  spec.candidate.agent_id = "patched-1";
  auto report = gates_->Run(spec);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->original.outcome, GateOutcome::kFail);
  EXPECT_EQ(report->outcome, GateOutcome::kFail);
  ASSERT_EQ(report->confirmations.size(), 1u);
  const GateConfirmation& c = report->confirmations[0];
  EXPECT_EQ(c.metric, "ns_per_fault");
  EXPECT_THAT(c.original_candidate_agents, ElementsAre("patched-1"));
  // The second host is of the same class (not "elsewhere"), for both kernels.
  EXPECT_THAT(c.confirmation_candidate_agents, ElementsAre("patched-2"));
  EXPECT_THAT(c.confirmation_baseline_agents, ElementsAre("stock-2"));
  EXPECT_EQ(c.confirmation_outcome, GateOutcome::kFail);
  ASSERT_TRUE(c.confirmation.has_value());
  EXPECT_GT(c.confirmation->ratio_lower, 1.2);
  EXPECT_THAT(c.reason, HasSubstr("confirmed on patched-2"));
  // The confirmation's runs really came from the second hosts.
  store::RunQuery q;
  q.campaign_id = c.campaign_id;
  auto runs = store_->QueryRuns(q);
  ASSERT_TRUE(runs.ok());
  ASSERT_FALSE(runs->empty());
  for (const store::StoredRunRecord& r : *runs) {
    EXPECT_EQ(r.agent_id, r.target_name == "baseline" ? "stock-2" : "patched-2");
  }
  EXPECT_EQ(verdicts_["mm-upgrade"], GateOutcome::kFail);
}

TEST_F(AnalysisDomainTest, GateFailureNotReproducedIsInconclusive) {
  auto agents = Register({Agent("stock-1", "stock"), Agent("patched-1", "patched/v3"),
                          Agent("patched-2", "patched/v3")});
  FakeAgents run(scheduler_.get(), reports_.get(), agents, SlowOn({"patched-1"}));
  GateSpec spec = Gate("fault_anon ns_per_fault 5%\n");
  spec.candidate.agent_id = "patched-1";
  auto report = gates_->Run(spec);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->original.outcome, GateOutcome::kFail);
  EXPECT_EQ(report->outcome, GateOutcome::kInconclusive);
  ASSERT_EQ(report->confirmations.size(), 1u);
  EXPECT_EQ(report->confirmations[0].confirmation_outcome, GateOutcome::kPass);
  // Only one stock host: the baseline re-runs on it.
  EXPECT_THAT(report->confirmations[0].confirmation_baseline_agents, ElementsAre("stock-1"));
  EXPECT_THAT(report->confirmations[0].reason, HasSubstr("not reproduced on patched-2"));
  EXPECT_EQ(verdicts_["mm-upgrade"], GateOutcome::kInconclusive);
}

TEST_F(AnalysisDomainTest, GateFailureWithoutASecondHostStandsUnconfirmed) {
  auto agents = Register({Agent("stock-1", "stock"), Agent("patched-1", "patched/v3")});
  FakeAgents run(scheduler_.get(), reports_.get(), agents, SlowOn({"patched-1"}));
  auto report = gates_->Run(Gate("fault_anon ns_per_fault 5%\n"));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->outcome, GateOutcome::kFail);
  ASSERT_EQ(report->confirmations.size(), 1u);
  EXPECT_TRUE(report->confirmations[0].campaign_id.empty());
  EXPECT_THAT(report->confirmations[0].reason, HasSubstr("no second live host of class epyc-2cpu"));
}

TEST_F(AnalysisDomainTest, GateErrorsNameTheProblem) {
  Register({Agent("stock-1", "stock")});
  auto bad_policy = gates_->Run(Gate("fault_anon ns_per_fault\n"));
  EXPECT_EQ(bad_policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_policy.status().message(), HasSubstr("policy: line 1: expected"));
  GateSpec with_campaign_selector = Gate("* * 5%\n");
  with_campaign_selector.baseline = Side("c-000001", "stock");
  EXPECT_THAT(gates_->Run(with_campaign_selector).status().message(),
              HasSubstr("must not name a campaign or target"));
  // No patched agent: the campaign cannot be planned, nothing waits.
  auto unplannable = gates_->Run(Gate("* * 5%\n"));
  EXPECT_EQ(unplannable.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(AnalysisDomainTest, ChangePointAttributedToFirstKernelAfterIt) {
  auto agents = Register({Agent("box", "stock")});
  FakeAgents run(scheduler_.get(), reports_.get(), agents,
                 [](const store::AgentRecord& a, const v1::Job&) {
                   // Kernels from 6.1.6 on are 20% slower.
                   return a.host.kernel_release() >= "6.1.6" ? 1200.0 : 1000.0;
                 });
  for (int k = 0; k < 12; ++k) {
    v1::HostFingerprint host = agents[0].host;
    host.set_kernel_release("6.1." + std::to_string(k));
    if (k >= 10) host.set_kernel_release("6.1.9" + std::to_string(k));  // sorts after 6.1.6
    run.SetHost("box", host);
    // A host that booted another kernel registers again, as the agent does after provisioning:
    // results must match the registration.
    store::AgentRecord rebooted = agents[0];
    rebooted.host = host;
    ASSERT_TRUE(fleet_->Register(rebooted).ok());
    SubmitAndWait(R"pb(name: "nightly" repetitions: 5 suite { benchmark: "fault_anon" }
                       targets { kernel_label: "stock" })pb");
  }
  HistoryQuery query;
  query.benchmark = "fault_anon";
  query.metric = "ns_per_fault";
  query.order = HistoryQuery::Order::kByKernel;
  auto history = FindMetricChangePoints(store_.get(), query);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->points.size(), 12u);
  EXPECT_EQ(history->host_class, "epyc-2cpu");
  ASSERT_EQ(history->change_points.size(), 1u);
  const analysis::ChangePoint& cp = history->change_points[0];
  EXPECT_EQ(cp.index, 6);
  EXPECT_EQ(history->points[cp.index].kernel_release, "6.1.6");
  EXPECT_NEAR(cp.relative_change, 0.2, 0.03);

  query.order = HistoryQuery::Order::kByTime;
  query.params["region_mib"].set_int_value(8);
  auto by_time = FindMetricChangePoints(store_.get(), query);
  ASSERT_TRUE(by_time.ok()) << by_time.status();
  EXPECT_EQ(by_time->points.size(), 12u);
  ASSERT_EQ(by_time->change_points.size(), 1u);
  query.params["region_mib"].set_int_value(64);
  EXPECT_TRUE(FindMetricChangePoints(store_.get(), query)->points.empty());
  query.metric.clear();
  EXPECT_EQ(FindMetricChangePoints(store_.get(), query).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace faultline::controller::runs
