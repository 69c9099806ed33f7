// Stored histograms (faultline.v1.Histogram, sparse) as the benchmark library's histogram
// (agent/bench/histogram.h), whose Quantile is the one home of the quantile rule (the midpoint
// of the bucket holding the rank, clamped to [min, max]) for the agent's own metrics and for the
// controller's comparisons alike.
#ifndef FAULTLINE_CONTROLLER_RUNS_HISTOGRAM_PROTO_H_
#define FAULTLINE_CONTROLLER_RUNS_HISTOGRAM_PROTO_H_

#include "agent/bench/histogram.h"
#include "proto/faultline/v1/benchmark.pb.h"

namespace faultline::controller::runs {

// Dense counts from the sparse arrays (entries past the histogram's range, or a count without an
// index, are ignored, as FromParts ignores them); min and max rounded to whole units.
agent::bench::Histogram HistogramFromProto(const v1::Histogram& histogram);

}  // namespace faultline::controller::runs

#endif  // FAULTLINE_CONTROLLER_RUNS_HISTOGRAM_PROTO_H_
