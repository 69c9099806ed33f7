#include "agent/bench/histogram.h"

#include <cmath>
#include <algorithm>
#include <initializer_list>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace faultline::agent::bench {
namespace {

TEST(HistogramTest, IndexFollowsTheDocumentedFormula) {
  constexpr uint32_t kBits = 5;
  for (uint64_t v : std::initializer_list<uint64_t>{1, 2, 3, 7, 31, 32, 33, 1000, 1500, 123456789,
                                                   (uint64_t{1} << 40) + 12345, UINT64_MAX}) {
    const int e = 63 - __builtin_clzll(v);
    const long double frac = static_cast<long double>(v) / std::ldexp(1.0L, e) - 1;
    const uint64_t m = static_cast<uint64_t>(std::floor(frac * (1 << kBits)));
    EXPECT_EQ(Histogram::BucketIndex(v, kBits), static_cast<uint32_t>(e * 32 + m)) << v;
  }
  EXPECT_EQ(Histogram::BucketIndex(0, kBits), 0u);
}

TEST(HistogramTest, EveryValueLiesInsideItsBucket) {
  std::mt19937_64 rng(42);
  for (uint32_t bits : {0u, 3u, 5u, 7u}) {
    for (int i = 0; i < 20000; ++i) {
      const uint64_t v = rng() >> (rng() % 64);
      if (v == 0) continue;
      const uint32_t index = Histogram::BucketIndex(v, bits);
      EXPECT_LE(Histogram::BucketLower(index, bits), v) << v << " bits " << bits;
      if (index + 1 < Histogram::NumBuckets(bits)) {
        EXPECT_GT(Histogram::BucketUpper(index, bits), v) << v << " bits " << bits;
      }
    }
  }
}

TEST(HistogramTest, RelativeErrorOfQuantilesIsBounded) {
  Histogram h(5);
  std::mt19937_64 rng(7);
  std::vector<uint64_t> values;
  for (int i = 0; i < 100000; ++i) {
    values.push_back(100 + rng() % 1000000);
    h.Record(values.back());
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double exact = values[static_cast<size_t>(std::ceil(q * values.size())) - 1];
    EXPECT_NEAR(h.Quantile(q), exact, exact / 32) << "q=" << q;
  }
  // The extremes are bucket midpoints clamped to [min, max].
  EXPECT_GE(h.Quantile(0), h.min());
  EXPECT_NEAR(h.Quantile(0), h.min(), h.min() / 32.0);
  EXPECT_LE(h.Quantile(1), h.max());
  EXPECT_NEAR(h.Quantile(1), h.max(), h.max() / 32.0);
  EXPECT_EQ(h.total_count(), 100000u);
}

TEST(HistogramTest, EmptyHistogramReportsZero) {
  Histogram h;
  EXPECT_EQ(h.Quantile(0.5), 0);
  EXPECT_EQ(h.Mean(), 0);
  EXPECT_EQ(h.total_count(), 0u);
}

TEST(HistogramTest, MergeAddsCountsAndExtremes) {
  Histogram a, b;
  for (uint64_t v = 1; v <= 100; ++v) a.Record(v);
  for (uint64_t v = 1000; v <= 1100; ++v) b.Record(v);
  a.Merge(b);
  EXPECT_EQ(a.total_count(), 201u);
  EXPECT_EQ(a.min(), 1u);
  EXPECT_EQ(a.max(), 1100u);
  EXPECT_DOUBLE_EQ(a.sum(), 5050 + 101 * 1050);
  EXPECT_GT(a.Quantile(0.75), 999);
}

TEST(HistogramTest, MergeOfDifferentResolutionKeepsCounts) {
  Histogram a(5), b(3);
  for (uint64_t v = 1; v <= 1000; ++v) b.Record(v);
  a.Merge(b);
  EXPECT_EQ(a.total_count(), 1000u);
  uint64_t sum = 0;
  for (uint64_t c : a.counts()) sum += c;
  EXPECT_EQ(sum, 1000u);
}

TEST(HistogramTest, FromPartsRoundTrips) {
  Histogram h(5);
  for (uint64_t v : {5u, 50u, 500u, 5000u}) h.Record(v);
  Histogram copy = Histogram::FromParts(5, h.counts().data(), h.counts().size(), h.min(), h.max(),
                                        h.sum());
  EXPECT_EQ(copy.total_count(), 4u);
  EXPECT_EQ(copy.min(), 5u);
  EXPECT_EQ(copy.max(), 5000u);
  EXPECT_EQ(copy.counts(), h.counts());
  EXPECT_EQ(copy.Quantile(0.5), h.Quantile(0.5));
}

TEST(HistogramTest, HugeSubBucketBitsAreClamped) {
  Histogram h(40);
  EXPECT_EQ(h.sub_bucket_bits(), Histogram::kMaxSubBucketBits);
  h.Record(UINT64_MAX);
  EXPECT_EQ(h.total_count(), 1u);
}

}  // namespace
}  // namespace faultline::agent::bench
