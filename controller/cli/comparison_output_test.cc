#include "controller/cli/comparison_output.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace faultline::controller::cli {
namespace {

using ::testing::HasSubstr;

v1::CompareResponse Response() {
  v1::CompareResponse r;
  r.mutable_options()->set_confidence(0.95);
  r.mutable_options()->set_fdr_level(0.01);
  r.mutable_options()->set_min_effect(0);
  r.set_replication_unit(v1::REPLICATION_UNIT_BOOT);
  v1::MetricComparison* m = r.add_metrics();
  m->set_benchmark("fault_anon");
  (*m->mutable_params())["region_mib"].set_int_value(64);
  m->set_metric("ns_per_fault");
  m->set_unit("ns");
  m->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
  m->set_tested(true);
  m->set_baseline_count(12);
  m->set_baseline_blocks(6);
  m->set_baseline_median(1000.5);
  m->set_candidate_count(12);
  m->set_candidate_blocks(6);
  m->set_candidate_median(1051);
  m->set_ratio(1.05);
  m->set_ratio_lower(1.03);
  m->set_ratio_upper(1.07);
  m->set_p_value(0.0022);
  m->set_q_value(0.0044);
  m->set_verdict(v1::VERDICT_REGRESSION);
  m->set_reason("+5.0%, beyond the 0.0% minimum effect, \"significant\"");
  for (int i = 0; i < 12; ++i) {
    m->add_baseline_samples(1000 + i);
    m->add_baseline_sample_blocks(i / 2);
  }
  v1::MetricComparison* missing = r.add_metrics();
  missing->set_benchmark("fault_anon");
  missing->set_metric("vma_lock_retries");
  missing->set_direction(v1::DIRECTION_NEUTRAL);
  missing->set_baseline_count(12);
  missing->set_ratio(std::numeric_limits<double>::quiet_NaN());
  missing->set_verdict(v1::VERDICT_INCONCLUSIVE);
  missing->set_reason("B: not measured");
  r.add_warnings("baseline: every run is from one boot");
  return r;
}

TEST(ComparisonOutputTest, JsonParsesBackToTheSameComparison) {
  const std::string json = FormatComparisonJson(Response());
  v1::CompareResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok()) << json;
  ASSERT_EQ(parsed.metrics_size(), 2);
  const v1::MetricComparison& m = parsed.metrics(0);
  EXPECT_EQ(m.reason(), "+5.0%, beyond the 0.0% minimum effect, \"significant\"");
  EXPECT_EQ(m.ratio_lower(), 1.03);
  EXPECT_EQ(m.baseline_blocks(), 6u);
  EXPECT_EQ(m.baseline_sample_blocks(11), 5u);
  EXPECT_EQ(m.params().at("region_mib").int_value(), 64);
  EXPECT_TRUE(std::isnan(parsed.metrics(1).ratio()));
  EXPECT_EQ(parsed.replication_unit(), v1::REPLICATION_UNIT_BOOT);
  // An explicit zero minimum effect survives (presence, not value, marks it set).
  EXPECT_TRUE(parsed.options().has_min_effect());
  EXPECT_THAT(json, HasSubstr("\"min_effect\": 0"));
  // Zero-valued numbers are printed too, so a reader needs no defaults table.
  EXPECT_THAT(json, HasSubstr("\"candidate_count\": 0"));
  EXPECT_EQ(parsed.warnings(0), "baseline: every run is from one boot");
}

// Splits one CSV line (RFC 4180 quoting).
std::vector<std::string> CsvFields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

TEST(ComparisonOutputTest, CsvHasEveryStatisticAndTheReason) {
  const std::string csv = FormatComparisonCsv(Response());
  const std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << csv;
  const std::vector<std::string> header = CsvFields(lines[0]);
  const std::vector<std::string> row = CsvFields(lines[1]);
  ASSERT_EQ(row.size(), header.size()) << lines[1];
  auto cell = [&](const std::vector<std::string>& r, const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return r[i];
    }
    return std::string("(no column ") + name + ")";
  };
  EXPECT_EQ(cell(row, "params"), "region_mib=64");
  EXPECT_EQ(cell(row, "direction"), "lower_is_better");
  EXPECT_EQ(cell(row, "a_blocks"), "6");
  EXPECT_EQ(std::stod(cell(row, "ratio_lower")), 1.03);  // %.17g: round-trips exactly
  EXPECT_EQ(std::stod(cell(row, "q")), 0.0044);
  EXPECT_EQ(cell(row, "verdict"), "regression");
  EXPECT_EQ(cell(row, "block_unit"), "boot");
  EXPECT_EQ(cell(row, "min_effect"), "0");
  EXPECT_EQ(cell(row, "reason"), "+5.0%, beyond the 0.0% minimum effect, \"significant\"");
  const std::vector<std::string> missing = CsvFields(lines[2]);
  ASSERT_EQ(missing.size(), header.size());
  EXPECT_EQ(cell(missing, "ratio"), "nan");
  EXPECT_EQ(cell(missing, "reason"), "B: not measured");
}

TEST(ComparisonOutputTest, CsvHasARowPerHistogramQuantile) {
  v1::CompareResponse r = Response();
  v1::DistributionComparison* d = r.add_distributions();
  d->set_benchmark("fault_anon");
  d->set_histogram("fault_latency_ns");
  d->set_unit("ns");
  d->set_baseline_blocks(6);
  d->set_candidate_blocks(6);
  d->set_reason("");
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    v1::QuantileComparison* pq = d->add_quantiles();
    pq->set_quantile(q);
    pq->set_baseline(1000);
    pq->set_candidate(1100);
    pq->set_ratio(1.1);
    pq->set_ratio_lower(1.05);
    pq->set_ratio_upper(1.16);
    pq->set_p_value(0.0022);
    for (int b = 0; b < 6; ++b) pq->add_baseline_blocks(1000);
  }
  const std::string csv = FormatComparisonCsv(r);
  const std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u + 2 + 4) << csv;
  const std::vector<std::string> header = CsvFields(lines[0]);
  const std::vector<std::string> p999 = CsvFields(lines[6]);
  ASSERT_EQ(p999.size(), header.size()) << lines[6];
  auto cell = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return p999[i];
    }
    return std::string("(no column ") + name + ")";
  };
  EXPECT_EQ(cell("metric"), "fault_latency_ns.p99.9");
  EXPECT_EQ(cell("tested"), "false");
  EXPECT_EQ(cell("verdict"), "not_tested");
  EXPECT_EQ(cell("a_blocks"), "6");
  EXPECT_EQ(std::stod(cell("b_median")), 1100);
  EXPECT_EQ(std::stod(cell("ratio_upper")), 1.16);
  EXPECT_EQ(std::stod(cell("p")), 0.0022);
  EXPECT_EQ(cell("q"), "nan");
  EXPECT_EQ(cell("block_unit"), "boot");
}

TEST(ComparisonOutputTest, CsvHasCounterAndProfileRowsToldApartByKind) {
  v1::CompareResponse r = Response();
  v1::MetricComparison* counter = r.add_counters();
  counter->set_benchmark("fault_anon");
  counter->set_metric("mmap_lock.faulter.read_acquisitions");
  counter->set_unit("count");
  counter->set_direction(v1::DIRECTION_NEUTRAL);
  counter->set_baseline_mean(4096);
  counter->set_candidate_mean(8);
  counter->set_shifted(true);
  counter->set_verdict(v1::VERDICT_NO_CHANGE);
  v1::ProfileChange* p = r.add_profile_changes();
  p->set_benchmark("fault_anon");
  (*p->mutable_params())["region_mib"].set_int_value(64);
  p->set_function("lock_mm_and_find_vma");
  p->set_baseline_profiles(5);
  p->set_candidate_profiles(4);
  p->set_baseline_total_share(0.3);
  p->set_candidate_total_share(0.03);
  p->set_baseline_self_share(0.01);
  p->set_candidate_self_share(0.002);
  p->set_baseline_total_sd(0.03);
  const std::string csv = FormatComparisonCsv(r);
  const std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 6u) << csv;  // header, 2 metrics, 1 counter, 2 profile shares
  const std::vector<std::string> header = CsvFields(lines[0]);
  EXPECT_EQ(header.back(), "kind");
  auto cell = [&](size_t line, const std::string& name) {
    const std::vector<std::string> row = CsvFields(lines[line]);
    EXPECT_EQ(row.size(), header.size()) << lines[line];
    for (size_t i = 0; i < header.size() && i < row.size(); ++i) {
      if (header[i] == name) return row[i];
    }
    return std::string("(no column ") + name + ")";
  };
  EXPECT_EQ(cell(1, "kind"), "metric");
  EXPECT_EQ(cell(3, "kind"), "counter");
  EXPECT_EQ(cell(3, "metric"), "mmap_lock.faulter.read_acquisitions");
  EXPECT_EQ(cell(3, "b_mean"), "8");
  EXPECT_EQ(cell(3, "shifted"), "true");
  EXPECT_EQ(cell(4, "kind"), "profile");
  EXPECT_EQ(cell(4, "metric"), "profile.total_share.lock_mm_and_find_vma");
  EXPECT_EQ(cell(4, "params"), "region_mib=64");
  EXPECT_EQ(std::stod(cell(4, "a_mean")), 0.3);
  EXPECT_EQ(std::stod(cell(4, "b_mean")), 0.03);
  EXPECT_EQ(cell(4, "a_repetitions"), "5");
  EXPECT_EQ(cell(4, "b_repetitions"), "4");
  EXPECT_NEAR(std::stod(cell(4, "a_cv")), 0.1, 1e-12);
  EXPECT_NEAR(std::stod(cell(4, "ratio")), 0.1, 1e-12);
  EXPECT_EQ(cell(4, "verdict"), "");
  EXPECT_EQ(cell(5, "metric"), "profile.self_share.lock_mm_and_find_vma");
  EXPECT_EQ(std::stod(cell(5, "b_mean")), 0.002);
}

v1::KernelsComparison Kernels() {
  v1::KernelsComparison k;
  k.set_baseline_name("kernel_label=stock");
  k.mutable_baseline()->set_kernel_label("stock");
  for (const char* label : {"patched/x", "patched/y"}) {
    v1::CandidateComparison* c = k.add_candidates();
    c->set_name(std::string("kernel_label=") + label);
    c->mutable_selector()->set_kernel_label(label);
    *c->mutable_comparison() = Response();
  }
  k.mutable_candidates(1)->mutable_comparison()->mutable_metrics(0)->set_verdict(
      v1::VERDICT_NO_CHANGE);
  return k;
}

TEST(ComparisonOutputTest, KernelsJsonParsesBackWithEveryCandidate) {
  v1::KernelsComparison parsed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(FormatKernelsJson(Kernels()), &parsed).ok());
  ASSERT_EQ(parsed.candidates_size(), 2);
  EXPECT_EQ(parsed.baseline().kernel_label(), "stock");
  EXPECT_EQ(parsed.candidates(1).name(), "kernel_label=patched/y");
  EXPECT_EQ(parsed.candidates(0).comparison().metrics(0).verdict(), v1::VERDICT_REGRESSION);
  EXPECT_EQ(parsed.candidates(1).comparison().metrics(0).verdict(), v1::VERDICT_NO_CHANGE);
}

TEST(ComparisonOutputTest, KernelsCsvHasARowPerCandidateAndMetric) {
  const std::string csv = FormatKernelsCsv(Kernels());
  const std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << csv;
  const std::vector<std::string> header = CsvFields(lines[0]);
  EXPECT_EQ(header[0], "candidate");
  // The pair's columns follow, unchanged.
  EXPECT_EQ(lines[0].substr(std::string("candidate,").size()),
            FormatComparisonCsv(Response()).substr(0, lines[0].size() - 10));
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> row = CsvFields(lines[i]);
    ASSERT_EQ(row.size(), header.size()) << lines[i];
    EXPECT_EQ(row[0], i <= 2 ? "kernel_label=patched/x" : "kernel_label=patched/y");
  }
  EXPECT_NE(lines[3].find(",no_change,"), std::string::npos) << lines[3];
}

}  // namespace
}  // namespace faultline::controller::cli
