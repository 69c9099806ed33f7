// A log-linear latency histogram (HDR-style): bounded relative error, mergeable, and cheap
// enough to record into from a benchmark's hot loop (no allocation after construction).
#ifndef FAULTLINE_AGENT_BENCH_HISTOGRAM_H_
#define FAULTLINE_AGENT_BENCH_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace faultline::agent::bench {

// Bucket index of v >= 1: with e = floor(log2(v)) and m = the top `sub_bucket_bits` bits of the
// mantissa below the leading one, index = e * 2^sub_bucket_bits + m. Values < 1 go to index 0.
// This is the scheme faultline.v1.Histogram documents.
class Histogram {
 public:
  explicit Histogram(uint32_t sub_bucket_bits = 5);

  void Record(uint64_t value);
  void Merge(const Histogram& other);  // Requires equal sub_bucket_bits.

  // Value at quantile q in [0, 1]: the midpoint of the bucket holding it, clamped to
  // [min, max]. 0 when empty.
  double Quantile(double q) const;

  uint32_t sub_bucket_bits() const { return sub_bucket_bits_; }
  uint64_t total_count() const { return total_count_; }
  uint64_t min() const { return min_; }
  uint64_t max() const { return max_; }
  double sum() const { return sum_; }
  double Mean() const { return total_count_ ? sum_ / total_count_ : 0; }
  // Dense counts by bucket index.
  const std::vector<uint64_t>& counts() const { return counts_; }

  // Rebuilds a histogram from its parts, e.g. copied out of a benchmark worker process through
  // shared memory. `counts` is dense by bucket index; entries past the histogram's range are
  // ignored.
  static Histogram FromParts(uint32_t sub_bucket_bits, const uint64_t* counts, size_t num_counts,
                             uint64_t min, uint64_t max, double sum);

  // Number of buckets a histogram with `sub_bucket_bits` holds (covers every uint64_t).
  static uint32_t NumBuckets(uint32_t sub_bucket_bits);
  // Largest supported sub_bucket_bits; larger requests are clamped to it.
  static constexpr uint32_t kMaxSubBucketBits = 10;

  // Inclusive lower and exclusive upper bound of bucket `index`.
  static uint64_t BucketLower(uint32_t index, uint32_t sub_bucket_bits);
  static uint64_t BucketUpper(uint32_t index, uint32_t sub_bucket_bits);
  static uint32_t BucketIndex(uint64_t value, uint32_t sub_bucket_bits);

 private:
  uint32_t sub_bucket_bits_;
  std::vector<uint64_t> counts_;
  uint64_t total_count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_HISTOGRAM_H_
