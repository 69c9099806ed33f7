#include "controller/runs/kernel_comparison.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/runs/latency_distributions.h"
#include "controller/runs/metric_direction.h"
#include "controller/scheduling/glob.h"
#include "controller/scheduling/param_validation.h"
#include "proto/faultline/v1/repetitions.h"

namespace faultline::controller::runs {
namespace {

// Enough for a long history; QueryRuns is bounded so a huge store cannot exhaust memory.
constexpr int kMaxRuns = 100000;

bool HasGlobChars(const std::string& s) { return s.find_first_of("*?") != std::string::npos; }

std::map<std::string, v1::ParamValue> ParamsOf(const v1::RunResult& result) {
  return {result.params().begin(), result.params().end()};
}

// Samples of one (invocation, metric) on both sides while collecting.
struct Accumulator {
  std::string benchmark_name;
  std::map<std::string, v1::ParamValue> params;
  std::string metric;
  std::string unit;
  int direction = 0;
  std::vector<double> values[2];
  std::vector<int> blocks[2];
  // The host noise guard's mark on each sample's repetition (analysis::BlockSummaries).
  std::vector<bool> disturbed[2];
  std::map<std::string, int> block_index[2];  // block key -> 0-based block of this metric's side
  std::set<std::string> agents[2];
};

using AccumulatorMap = std::map<std::tuple<std::string, std::string, std::string>, Accumulator>;

std::string BootKey(const store::StoredRunRecord& run) {
  const std::string& boot = run.result.host().boot_id();
  if (boot.empty()) return absl::StrCat("run:", run.run_id);
  return absl::StrCat(run.agent_id, "/", boot);
}


// Distinct (agent, boot) of the runs that carry a boot_id.
std::set<std::string> Boots(const std::vector<store::StoredRunRecord>& runs) {
  std::set<std::string> boots;
  for (const store::StoredRunRecord& run : runs) {
    if (!run.result.host().boot_id().empty()) boots.insert(BootKey(run));
  }
  return boots;
}

// What a run's nanoseconds are: real time, or (a qemu -icount guest) 2^shift per executed
// instruction. Two clocks are never compared: their ratio is neither the kernel's nor the
// hardware's, and a host class set by hand could otherwise hide the difference.
std::string ClockOf(const v1::HostFingerprint& host) {
  if (host.virtualization() != v1::VIRTUALIZATION_EMULATED_ICOUNT) return "real time";
  return absl::StrCat("icount shift ", host.icount_shift());
}

std::string DisplayName(const std::map<std::string, std::set<std::string>>& param_sets,
                        const std::string& benchmark, const std::string& canonical) {
  auto it = param_sets.find(benchmark);
  return it != param_sets.end() && it->second.size() > 1
             ? absl::StrCat(benchmark, "[", canonical, "]")
             : benchmark;
}

// The accumulated samples as comparison inputs; `warnings` (when given) hears of figures
// measured on one side only.
std::vector<ComparedMetric> ToCompared(
    AccumulatorMap& acc, const std::map<std::string, std::set<std::string>>& param_sets,
    std::vector<std::string>* warnings) {
  std::vector<ComparedMetric> metrics;
  for (auto& [key, a] : acc) {
    ComparedMetric m;
    m.benchmark_name = a.benchmark_name;
    m.params = a.params;
    const std::string& canonical = std::get<1>(key);
    m.samples.benchmark = DisplayName(param_sets, a.benchmark_name, canonical);
    m.samples.metric = a.metric;
    m.samples.unit = a.unit;
    m.samples.direction = runs::DirectionFromProto(static_cast<v1::Direction>(a.direction));
    m.samples.baseline = std::move(a.values[0]);
    m.samples.candidate = std::move(a.values[1]);
    m.samples.baseline_blocks = std::move(a.blocks[0]);
    m.samples.candidate_blocks = std::move(a.blocks[1]);
    m.samples.baseline_disturbed = std::move(a.disturbed[0]);
    m.samples.candidate_disturbed = std::move(a.disturbed[1]);
    m.baseline_agents.assign(a.agents[0].begin(), a.agents[0].end());
    m.candidate_agents.assign(a.agents[1].begin(), a.agents[1].end());
    if (warnings != nullptr && (m.samples.baseline.empty() || m.samples.candidate.empty())) {
      warnings->push_back(absl::StrCat(m.samples.benchmark, " ", m.samples.metric,
                                       ": measured on the ",
                                       m.samples.baseline.empty() ? "candidate" : "baseline",
                                       " side only"));
    }
    metrics.push_back(std::move(m));
  }
  return metrics;
}

}  // namespace

std::string BlockKeyOf(const store::StoredRunRecord& run, ReplicationUnit unit) {
  if (unit == ReplicationUnit::kBoot) return BootKey(run);
  return absl::StrCat("run:", run.run_id);
}

std::string BlockUnitName(ReplicationUnit unit) {
  return unit == ReplicationUnit::kBoot ? "boot" : "run";
}

bool RunSelector::empty() const {
  return campaign_id.empty() && campaign_ids.empty() && target_name.empty() && kernel_label.empty() &&
         kernel_release.empty() && arch == 0 && host_class.empty() && benchmark.empty() &&
         agent_id.empty();
}

std::string DescribeSelector(const RunSelector& s) {
  std::vector<std::string> parts;
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) parts.push_back(absl::StrCat(key, "=", value));
  };
  add("campaign", s.campaign_id);
  add("campaigns", absl::StrJoin(s.campaign_ids, "+"));
  add("target", s.target_name);
  add("kernel_label", s.kernel_label);
  add("kernel_release", s.kernel_release);
  if (s.arch != 0 && v1::Arch_IsValid(s.arch)) {
    std::string arch = v1::Arch_Name(static_cast<v1::Arch>(s.arch));
    add("arch", absl::AsciiStrToLower(arch.substr(std::string("ARCH_").size())));
  }
  add("host_class", s.host_class);
  add("benchmark", s.benchmark);
  add("agent", s.agent_id);
  return parts.empty() ? "(everything)" : absl::StrJoin(parts, ",");
}

absl::StatusOr<std::vector<store::StoredRunRecord>> SelectRuns(store::Store* store,
                                                               const RunSelector& selector,
                                                               const std::string& field) {
  if (selector.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": empty selector; set a campaign, kernel label or other filter"));
  }
  if (!v1::Arch_IsValid(selector.arch)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".arch: unknown architecture ", selector.arch));
  }
  store::RunQuery query;
  if (!HasGlobChars(selector.benchmark)) query.benchmark = selector.benchmark;
  query.arch = selector.arch;
  query.kernel_label_glob = selector.kernel_label;
  if (!HasGlobChars(selector.agent_id)) query.agent_id = selector.agent_id;
  query.limit = kMaxRuns;
  std::vector<std::string> campaigns = selector.campaign_ids;
  if (!selector.campaign_id.empty() || campaigns.empty()) {
    campaigns.insert(campaigns.begin(), selector.campaign_id);
  }
  std::vector<store::StoredRunRecord> runs;
  for (const std::string& campaign : std::set<std::string>(campaigns.begin(), campaigns.end())) {
    query.campaign_id = campaign;
    absl::StatusOr<std::vector<store::StoredRunRecord>> some = store->QueryRuns(query);
    if (!some.ok()) return some.status();
    for (store::StoredRunRecord& run : *some) runs.push_back(std::move(run));
  }
  std::vector<store::StoredRunRecord> kept;
  for (store::StoredRunRecord& run : runs) {
    const v1::RunResult& r = run.result;
    if (r.state() != v1::RUN_STATE_OK) continue;
    if (!selector.target_name.empty() && run.target_name != selector.target_name) continue;
    if (!selector.kernel_release.empty() && r.host().kernel_release() != selector.kernel_release) {
      continue;
    }
    if (!scheduling::GlobMatch(selector.host_class, r.host().host_class())) continue;
    if (!scheduling::GlobMatch(selector.benchmark, r.benchmark())) continue;
    // A lab run's boots are one agent each (lab-x86_64-vm0-b2-RUN): a glob takes them all.
    if (!scheduling::GlobMatch(selector.agent_id, run.agent_id)) continue;
    kept.push_back(std::move(run));
  }
  // The store answers newest first; samples are kept in the order they were measured.
  std::sort(kept.begin(), kept.end(),
            [](const store::StoredRunRecord& a, const store::StoredRunRecord& b) {
              return a.run_id < b.run_id;
            });
  return kept;
}

std::string CanonicalParams(const std::map<std::string, v1::ParamValue>& params) {
  std::vector<std::string> parts;
  for (const auto& [name, value] : params) {
    parts.push_back(absl::StrCat(name, "=", scheduling::FormatParamValue(value)));
  }
  return absl::StrJoin(parts, ",");
}

absl::StatusOr<KernelComparison> CollectComparison(
    const std::vector<store::StoredRunRecord>& baseline,
    const std::vector<store::StoredRunRecord>& candidate, ReplicationUnit unit) {
  KernelComparison out;
  const std::vector<store::StoredRunRecord>* sides[2] = {&baseline, &candidate};
  const char* side_names[2] = {"baseline", "candidate"};
  std::string host_class[2];
  std::set<std::string> clocks[2];
  std::vector<std::string> labels[2];
  // (benchmark, params, metric) -> samples; std::map keeps the report order stable.
  AccumulatorMap acc;
  AccumulatorMap counter_acc;
  std::map<std::pair<std::string, std::string>, ComparedProfiles> profiles;
  std::map<std::string, std::set<std::string>> param_sets;  // benchmark -> canonical params
  for (int side = 0; side < 2; ++side) {
    if (sides[side]->empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(side_names[side], ": no successful runs match the selector"));
    }
  }
  const std::set<std::string> boots[2] = {Boots(baseline), Boots(candidate)};
  if (unit == ReplicationUnit::kAuto) {
    // Boots are the better unit (they vary the boot-time layout too) wherever the campaign
    // replicated them; a side measured in one boot would then have a single block.
    unit = boots[0].size() >= 2 && boots[1].size() >= 2 ? ReplicationUnit::kBoot
                                                       : ReplicationUnit::kRun;
  }
  out.replication_unit = unit;
  for (int side = 0; side < 2; ++side) {
    if (unit == ReplicationUnit::kRun && sides[side]->size() >= 2 && boots[side].size() == 1 &&
        !sides[side]->front().result.host().boot_id().empty()) {
      out.warnings.push_back(absl::StrCat(
          side_names[side], ": every run is from one boot of agent ", sides[side]->front().agent_id,
          "; differences between boots are not sampled, so a change may be that boot's"));
    }
  }
  for (int side = 0; side < 2; ++side) {
    std::set<std::string> classes, kernel_labels;
    for (const store::StoredRunRecord& run : *sides[side]) {
      const v1::RunResult& r = run.result;
      classes.insert(r.host().host_class());
      clocks[side].insert(ClockOf(r.host()));
      kernel_labels.insert(r.host().kernel_label());
      std::map<std::string, v1::ParamValue> params = ParamsOf(r);
      const std::string canonical = CanonicalParams(params);
      param_sets[r.benchmark()].insert(canonical);
      const std::string block_key = BlockKeyOf(run, unit);
      auto add = [&](AccumulatorMap& into, const v1::Repetition& rep, const std::string& name,
                     const std::string& unit_name, int direction, double value) {
        Accumulator& a = into[{r.benchmark(), canonical, name}];
        if (a.metric.empty()) {
          a.benchmark_name = r.benchmark();
          a.params = params;
          a.metric = name;
          a.unit = unit_name;
          a.direction = direction;
        }
        a.values[side].push_back(value);
        a.disturbed[side].push_back(rep.disturbances_size() > 0);
        auto [block, fresh] = a.block_index[side].try_emplace(
            block_key, static_cast<int>(a.block_index[side].size()));
        a.blocks[side].push_back(block->second);
        a.agents[side].insert(run.agent_id);
      };
      for (const v1::Repetition* rep : v1::AllRepetitions(r)) {
        for (const v1::MetricValue& m : rep->metrics()) {
          add(acc, *rep, m.name(), m.unit(), m.direction(), m.value());
        }
        for (const auto& [name, value] : rep->counters()) {
          add(counter_acc, *rep, name, "count", v1::DIRECTION_NEUTRAL,
              static_cast<double>(value));
        }
      }
      ComparedProfiles& p = profiles[{r.benchmark(), canonical}];
      p.benchmark_name = r.benchmark();
      p.params = params;
      if (r.profile().samples() > 0) {
        analysis::RunProfile run_profile;
        run_profile.samples = r.profile().samples();
        for (const v1::ProfileSymbol& f : r.profile().symbols()) {
          run_profile.functions[f.name()] = {f.self_samples(), f.total_samples()};
        }
        p.runs[side].push_back(std::move(run_profile));
      } else if (!r.profile().unavailable_reason().empty()) {
        p.unavailable[side].insert(r.profile().unavailable_reason());
      }
    }
    if (classes.size() > 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          side_names[side], ": the selected runs span host classes ",
          absl::StrJoin(classes, ", "),
          "; results are only comparable within one, so add host_class=<one of them>"));
    }
    host_class[side] = *classes.begin();
    labels[side].assign(kernel_labels.begin(), kernel_labels.end());
  }
  if (clocks[0].size() > 1 || clocks[1].size() > 1 || clocks[0] != clocks[1]) {
    return absl::FailedPreconditionError(absl::StrCat(
        "baseline's times are ", absl::StrJoin(clocks[0], " and "), ", candidate's ",
        absl::StrJoin(clocks[1], " and "),
        ": an instruction-counting guest's (qemu -icount) are comparable only with another's of "
        "the same shift"));
  }
  out.baseline_runs = static_cast<int>(baseline.size());
  out.candidate_runs = static_cast<int>(candidate.size());
  out.baseline_host_class = host_class[0];
  out.candidate_host_class = host_class[1];
  out.baseline_kernel_labels = labels[0];
  out.candidate_kernel_labels = labels[1];
  if (host_class[0] != host_class[1]) {
    out.warnings.push_back(absl::StrCat("baseline ran on host class ", host_class[0],
                                        " but candidate on ", host_class[1],
                                        ": differences may be the hardware's, not the kernel's"));
  }
  std::vector<ComparedMetric> metrics = ToCompared(acc, param_sets, &out.warnings);
  std::vector<ComparedMetric> counters = ToCompared(counter_acc, param_sets, nullptr);
  for (auto& [key, p] : profiles) {
    p.benchmark = DisplayName(param_sets, p.benchmark_name, key.second);
    for (int side = 0; side < 2; ++side) {
      if (p.runs[side].empty() && !p.unavailable[side].empty()) {
        out.warnings.push_back(absl::StrCat(
            p.benchmark, ": no kernel profile on the ", side_names[side], " side (",
            absl::StrJoin(p.unavailable[side], "; "), ")"));
      }
    }
    out.profiles.push_back(std::move(p));
  }
  for (auto* list : {&metrics, &counters}) {
    std::stable_sort(list->begin(), list->end(),
                     [](const ComparedMetric& a, const ComparedMetric& b) {
                       return std::tie(a.samples.benchmark, a.samples.metric) <
                              std::tie(b.samples.benchmark, b.samples.metric);
                     });
  }
  out.metrics = std::move(metrics);
  out.counters = std::move(counters);
  return out;
}

absl::StatusOr<KernelComparison> CompareKernels(store::Store* store, const RunSelector& baseline,
                                                const RunSelector& candidate,
                                                const analysis::CompareOptions& options,
                                                ReplicationUnit unit,
                                                const std::vector<std::string>& metric_globs) {
  if (absl::Status s = analysis::ValidateCompareOptions(options); !s.ok()) return s;
  absl::StatusOr<std::vector<store::StoredRunRecord>> a = SelectRuns(store, baseline, "baseline");
  if (!a.ok()) return a.status();
  absl::StatusOr<std::vector<store::StoredRunRecord>> b = SelectRuns(store, candidate, "candidate");
  if (!b.ok()) return b.status();
  absl::StatusOr<KernelComparison> comparison = CollectComparison(*a, *b, unit);
  if (!comparison.ok()) return comparison.status();
  if (absl::Status s = KeepMetrics(metric_globs, &*comparison); !s.ok()) return s;
  std::vector<analysis::MetricSamples> inputs;
  for (const ComparedMetric& m : comparison->metrics) inputs.push_back(m.samples);
  analysis::CompareOptions blocked = options;
  blocked.block_unit = BlockUnitName(comparison->replication_unit);
  absl::StatusOr<analysis::SuiteComparison> suite = analysis::CompareSuite(inputs, blocked);
  if (!suite.ok()) return suite.status();
  comparison->suite = std::move(*suite);
  // Named metrics were asked for; histograms are not among them.
  if (metric_globs.empty()) {
    comparison->distributions =
        CompareLatencyDistributions(*a, *b, *comparison, blocked.confidence);
  }
  if (absl::Status s = CompareCountersAndProfiles(blocked, &*comparison); !s.ok()) return s;
  return comparison;
}

absl::Status CompareCountersAndProfiles(const analysis::CompareOptions& options,
                                        KernelComparison* comparison) {
  std::vector<analysis::MetricSamples> inputs;
  for (const ComparedMetric& m : comparison->counters) inputs.push_back(m.samples);
  // Counters are neutral: reported with their shift, never tested against the metrics' FDR
  // family; the median ratio's bootstrap would only cost time.
  analysis::CompareOptions counter_options = options;
  counter_options.bootstrap_resamples = 0;
  absl::StatusOr<analysis::SuiteComparison> counters =
      analysis::CompareSuite(inputs, counter_options);
  if (!counters.ok()) return counters.status();
  comparison->counter_suite = std::move(*counters);
  comparison->profile_changes.clear();
  for (const ComparedProfiles& p : comparison->profiles) {
    for (analysis::ProfileChange& change :
         analysis::DiffProfiles(p.benchmark, p.runs[0], p.runs[1], kProfileChangesPerInvocation)) {
      comparison->profile_changes.push_back(std::move(change));
    }
  }
  return absl::OkStatus();
}

absl::Status KeepMetrics(const std::vector<std::string>& globs, KernelComparison* comparison) {
  if (globs.empty()) return absl::OkStatus();
  auto wanted = [&globs](const ComparedMetric& m) {
    for (const std::string& glob : globs) {
      const bool qualified = glob.find(':') != std::string::npos;
      if (!qualified && scheduling::GlobMatch(glob, m.samples.metric)) return true;
      if (qualified &&
          (scheduling::GlobMatch(glob, absl::StrCat(m.samples.benchmark, ":", m.samples.metric)) ||
           scheduling::GlobMatch(glob, absl::StrCat(m.benchmark_name, ":", m.samples.metric)))) {
        return true;
      }
    }
    return false;
  };
  std::vector<ComparedMetric> kept;
  std::set<std::string> measured;
  for (ComparedMetric& m : comparison->metrics) {
    measured.insert(absl::StrCat(m.samples.benchmark, ":", m.samples.metric));
    if (wanted(m)) kept.push_back(std::move(m));
  }
  if (kept.empty()) {
    std::vector<std::string> some(measured.begin(), measured.end());
    if (some.size() > 12) some.resize(12);
    return absl::FailedPreconditionError(absl::StrCat(
        "options.metrics: ", absl::StrJoin(globs, ", "), " matches none of the ",
        measured.size(), " metrics the selected runs measured (",
        absl::StrJoin(some, ", "), measured.size() > some.size() ? ", ..." : "", ")"));
  }
  comparison->metrics = std::move(kept);
  return absl::OkStatus();
}

int FindComparedMetric(const KernelComparison& comparison, const std::string& benchmark_name,
                       const std::string& canonical_params, const std::string& metric) {
  for (size_t i = 0; i < comparison.metrics.size(); ++i) {
    const ComparedMetric& m = comparison.metrics[i];
    if (m.benchmark_name == benchmark_name && m.samples.metric == metric &&
        CanonicalParams(m.params) == canonical_params) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace faultline::controller::runs
