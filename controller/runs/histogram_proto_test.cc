#include "controller/runs/histogram_proto.h"

#include <cmath>

#include "agent/catalog_proto.h"
#include "gtest/gtest.h"

namespace faultline::controller::runs {
namespace {

using agent::bench::Histogram;

// The sparse form the agent stores, by the agent's own writer.
v1::Histogram ToProto(const Histogram& h) { return agent::HistogramToProto(h, "ns"); }

TEST(HistogramFromProtoTest, QuantilesAreTheRecordedHistogramsWithinTheBucketError) {
  Histogram recorded(5);
  for (uint64_t v = 1; v <= 100000; ++v) recorded.Record(v);
  const Histogram stored = HistogramFromProto(ToProto(recorded));
  EXPECT_EQ(stored.total_count(), 100000u);
  EXPECT_EQ(stored.min(), 1u);
  EXPECT_EQ(stored.max(), 100000u);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    EXPECT_EQ(stored.Quantile(q), recorded.Quantile(q)) << q;
    // With 5 sub-bucket bits a bucket spans at most 1/32 of its lower bound.
    EXPECT_NEAR(stored.Quantile(q), q * 100000, q * 100000 / 32) << q;
  }
  // The ends are bucket midpoints too (the curves in reports use min and max there).
  EXPECT_EQ(stored.Quantile(1), recorded.Quantile(1));
  EXPECT_EQ(stored.Quantile(0), recorded.Quantile(0));
}

TEST(HistogramFromProtoTest, KnownBucketsAndClamping) {
  // 90 values in [1000, 1031] and 10 in [4096, 4223] (5 sub-bucket bits): p50 is the first
  // bucket's midpoint, p99 the second's; min and max clamp them.
  Histogram recorded(5);
  for (int i = 0; i < 90; ++i) recorded.Record(1000 + i % 8);
  for (int i = 0; i < 10; ++i) recorded.Record(4100);
  const Histogram stored = HistogramFromProto(ToProto(recorded));
  const uint32_t low = Histogram::BucketIndex(1000, 5);
  EXPECT_EQ(stored.Quantile(0.5),
            (Histogram::BucketLower(low, 5) + Histogram::BucketUpper(low, 5)) / 2.0);
  EXPECT_EQ(stored.Quantile(0.99), 4100);  // the bucket's midpoint is above max: clamped
}

TEST(HistogramFromProtoTest, MalformedEntriesAreIgnoredNotTrusted) {
  v1::Histogram h;
  h.set_sub_bucket_bits(40);  // clamped to the library's maximum
  h.add_bucket_index(5);
  h.add_count(3);
  h.add_bucket_index(1u << 30);  // past the range
  h.add_count(7);
  h.add_count(9);  // no index
  h.set_min(1);
  h.set_max(5);
  const Histogram stored = HistogramFromProto(h);
  EXPECT_EQ(stored.sub_bucket_bits(), Histogram::kMaxSubBucketBits);
  EXPECT_EQ(stored.total_count(), 3u);
  EXPECT_EQ(HistogramFromProto(v1::Histogram()).total_count(), 0u);
  EXPECT_EQ(HistogramFromProto(v1::Histogram()).Quantile(0.5), 0);
}

}  // namespace
}  // namespace faultline::controller::runs
