#include "agent/bench/histogram.h"

#include <algorithm>
#include <cmath>

namespace faultline::agent::bench {
namespace {

int FloorLog2(uint64_t v) { return 63 - __builtin_clzll(v); }

// 2^e * (1 + m / 2^bits), rounded up to an integer and saturated at UINT64_MAX. Bucket bounds
// below 2^bits are fractional; rounding up gives the smallest integer inside the bucket.
uint64_t BoundOf(uint32_t e, uint64_t m, uint32_t bits) {
  unsigned __int128 scaled = static_cast<unsigned __int128>((uint64_t{1} << bits) + m) << e;
  unsigned __int128 value = (scaled + ((uint64_t{1} << bits) - 1)) >> bits;
  if (value > UINT64_MAX) return UINT64_MAX;
  return static_cast<uint64_t>(value);
}

}  // namespace

Histogram::Histogram(uint32_t sub_bucket_bits)
    : sub_bucket_bits_(std::min(sub_bucket_bits, kMaxSubBucketBits)),
      counts_(NumBuckets(sub_bucket_bits_), 0) {}

uint32_t Histogram::NumBuckets(uint32_t sub_bucket_bits) {
  return 64u << std::min(sub_bucket_bits, kMaxSubBucketBits);
}

uint32_t Histogram::BucketIndex(uint64_t value, uint32_t bits) {
  if (value < 1) return 0;
  const uint32_t e = FloorLog2(value);
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  const uint64_t m = e >= bits ? (value >> (e - bits)) & mask : (value << (bits - e)) & mask;
  return (e << bits) + static_cast<uint32_t>(m);
}

uint64_t Histogram::BucketLower(uint32_t index, uint32_t bits) {
  const uint32_t e = index >> bits;
  const uint64_t m = index & ((uint64_t{1} << bits) - 1);
  return BoundOf(e, m, bits);
}

uint64_t Histogram::BucketUpper(uint32_t index, uint32_t bits) {
  const uint32_t e = index >> bits;
  const uint64_t m = index & ((uint64_t{1} << bits) - 1);
  return BoundOf(e, m + 1, bits);
}

void Histogram::Record(uint64_t value) {
  ++counts_[BucketIndex(value, sub_bucket_bits_)];
  ++total_count_;
  if (value < min_) min_ = value;
  if (value > max_) max_ = value;
  sum_ += static_cast<double>(value);
}

void Histogram::Merge(const Histogram& other) {
  if (other.total_count_ == 0) return;
  if (other.sub_bucket_bits_ == sub_bucket_bits_) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  } else {
    // Not meant to happen; re-bucket by lower bound rather than drop data.
    for (uint32_t i = 0; i < other.counts_.size(); ++i) {
      if (other.counts_[i] == 0) continue;
      counts_[BucketIndex(BucketLower(i, other.sub_bucket_bits_), sub_bucket_bits_)] +=
          other.counts_[i];
    }
  }
  total_count_ += other.total_count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

double Histogram::Quantile(double q) const {
  if (total_count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_count_))));
  uint64_t seen = 0;
  for (uint32_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const double mid = (static_cast<double>(BucketLower(i, sub_bucket_bits_)) +
                          static_cast<double>(BucketUpper(i, sub_bucket_bits_))) /
                         2;
      return std::clamp(mid, static_cast<double>(min_), static_cast<double>(max_));
    }
  }
  return static_cast<double>(max_);
}

Histogram Histogram::FromParts(uint32_t sub_bucket_bits, const uint64_t* counts,
                               size_t num_counts, uint64_t min, uint64_t max, double sum) {
  Histogram h(sub_bucket_bits);
  const size_t n = std::min(num_counts, h.counts_.size());
  for (size_t i = 0; i < n; ++i) {
    h.counts_[i] = counts[i];
    h.total_count_ += counts[i];
  }
  if (h.total_count_ > 0) {
    h.min_ = min;
    h.max_ = max;
    h.sum_ = sum;
  }
  return h;
}

}  // namespace faultline::agent::bench
