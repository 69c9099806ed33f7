#include "controller/runs/histogram_proto.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace faultline::controller::runs {
namespace {

uint64_t WholeUnits(double v) {
  if (!(v > 0)) return 0;
  if (v >= 1.8e19) return UINT64_MAX;
  return static_cast<uint64_t>(std::llround(v));
}

}  // namespace

agent::bench::Histogram HistogramFromProto(const v1::Histogram& histogram) {
  const uint32_t bits =
      std::min(histogram.sub_bucket_bits(), agent::bench::Histogram::kMaxSubBucketBits);
  std::vector<uint64_t> counts(agent::bench::Histogram::NumBuckets(bits), 0);
  const int n = std::min(histogram.bucket_index_size(), histogram.count_size());
  for (int i = 0; i < n; ++i) {
    const uint32_t index = histogram.bucket_index(i);
    if (index < counts.size()) counts[index] += histogram.count(i);
  }
  return agent::bench::Histogram::FromParts(bits, counts.data(), counts.size(),
                                            WholeUnits(histogram.min()),
                                            WholeUnits(histogram.max()), histogram.sum());
}

}  // namespace faultline::controller::runs
