#include "controller/runs/latency_distributions.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "agent/bench/histogram.h"
#include "controller/runs/histogram_proto.h"

namespace faultline::controller::runs {
namespace {

using agent::bench::Histogram;

// One block's histograms: all repetitions', and the undisturbed ones'.
struct BlockHistograms {
  Histogram all;
  Histogram undisturbed;
};

struct Accumulator {
  std::string benchmark_name;
  std::string canonical_params;
  std::string histogram;
  std::string unit;
  // Per side, blocks in order of first appearance.
  std::vector<std::string> order[2];
  std::map<std::string, BlockHistograms> blocks[2];
};

void Merge(Histogram* into, const Histogram& h) {
  if (into->total_count() == 0 && into->sub_bucket_bits() != h.sub_bucket_bits()) {
    *into = Histogram(h.sub_bucket_bits());
  }
  into->Merge(h);
}

// The block's histogram as its metrics would summarise it (see the header).
const Histogram& Summary(const BlockHistograms& b) {
  return b.undisturbed.total_count() > 0 ? b.undisturbed : b.all;
}

double CurveValue(const Histogram& h, double q) {
  if (q <= 0) return static_cast<double>(h.min());
  if (q >= 1) return static_cast<double>(h.max());
  return h.Quantile(q);
}

}  // namespace

std::vector<analysis::LatencyDistribution> CompareLatencyDistributions(
    const std::vector<store::StoredRunRecord>& baseline,
    const std::vector<store::StoredRunRecord>& candidate, const KernelComparison& comparison,
    double confidence) {
  // (benchmark, canonical params, histogram) -> blocks; std::map keeps the order stable.
  std::map<std::tuple<std::string, std::string, std::string>, Accumulator> acc;
  const std::vector<store::StoredRunRecord>* sides[2] = {&baseline, &candidate};
  for (int side = 0; side < 2; ++side) {
    for (const store::StoredRunRecord& run : *sides[side]) {
      const v1::RunResult& r = run.result;
      const std::string canonical =
          CanonicalParams({r.params().begin(), r.params().end()});
      const std::string block = BlockKeyOf(run, comparison.replication_unit);
      // Measured repetitions only: tracing repetitions run with tracepoints on.
      for (const v1::Repetition& rep : r.repetitions()) {
        for (const v1::NamedHistogram& named : rep.histograms()) {
          Accumulator& a = acc[{r.benchmark(), canonical, named.name()}];
          if (a.histogram.empty()) {
            a.benchmark_name = r.benchmark();
            a.canonical_params = canonical;
            a.histogram = named.name();
            a.unit = named.histogram().unit();
          }
          auto [it, fresh] = a.blocks[side].try_emplace(block);
          if (fresh) a.order[side].push_back(block);
          const Histogram h = HistogramFromProto(named.histogram());
          Merge(&it->second.all, h);
          if (rep.disturbances_size() == 0) Merge(&it->second.undisturbed, h);
        }
      }
    }
  }
  const std::string unit_name = BlockUnitName(comparison.replication_unit);
  const std::vector<double> curve = analysis::CurveQuantiles();
  std::vector<analysis::LatencyDistribution> out;
  for (auto& [key, a] : acc) {
    analysis::LatencyDistribution d;
    d.benchmark = a.benchmark_name;
    for (const ComparedMetric& m : comparison.metrics) {
      if (m.benchmark_name == a.benchmark_name && CanonicalParams(m.params) == a.canonical_params) {
        d.benchmark = m.samples.benchmark;
        break;
      }
    }
    d.histogram = a.histogram;
    d.unit = a.unit;
    d.curve_quantiles = curve;
    std::vector<const Histogram*> summaries[2];
    Histogram merged[2];
    for (int side = 0; side < 2; ++side) {
      for (const std::string& block : a.order[side]) {
        const Histogram& h = Summary(a.blocks[side][block]);
        if (h.total_count() == 0) continue;
        summaries[side].push_back(&h);
        Merge(&merged[side], h);
      }
      std::vector<double>& side_curve = side == 0 ? d.baseline_curve : d.candidate_curve;
      if (merged[side].total_count() > 0) {
        for (double q : curve) side_curve.push_back(CurveValue(merged[side], q));
      }
    }
    d.baseline_blocks = static_cast<int>(summaries[0].size());
    d.candidate_blocks = static_cast<int>(summaries[1].size());
    d.baseline_values = merged[0].total_count();
    d.candidate_values = merged[1].total_count();
    for (double quantile : analysis::kReportedQuantiles) {
      analysis::QuantileComparison q;
      q.quantile = quantile;
      for (const Histogram* h : summaries[0]) q.baseline_blocks.push_back(h->Quantile(quantile));
      for (const Histogram* h : summaries[1]) q.candidate_blocks.push_back(h->Quantile(quantile));
      const std::string reason = analysis::CompareQuantileBlocks(confidence, unit_name, &q);
      if (d.reason.empty()) d.reason = reason;
      d.quantiles.push_back(std::move(q));
    }
    out.push_back(std::move(d));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const analysis::LatencyDistribution& x,
                      const analysis::LatencyDistribution& y) {
                     return std::tie(x.benchmark, x.histogram) < std::tie(y.benchmark, y.histogram);
                   });
  return out;
}

}  // namespace faultline::controller::runs
