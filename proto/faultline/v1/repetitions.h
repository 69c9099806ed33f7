// Every repetition of a RunResult in one list: the measured ones, then the tracing ones
// (RunResult.tracing_repetitions). Whoever stores, compares or prints metrics reads both, so
// the mmap_lock figures travel the same path as the timing ones.
#ifndef FAULTLINE_PROTO_FAULTLINE_V1_REPETITIONS_H_
#define FAULTLINE_PROTO_FAULTLINE_V1_REPETITIONS_H_

#include <vector>

#include "proto/faultline/v1/benchmark.pb.h"

namespace faultline::v1 {

inline std::vector<const Repetition*> AllRepetitions(const RunResult& result) {
  std::vector<const Repetition*> all;
  all.reserve(result.repetitions_size() + result.tracing_repetitions_size());
  for (const Repetition& rep : result.repetitions()) all.push_back(&rep);
  for (const Repetition& rep : result.tracing_repetitions()) all.push_back(&rep);
  return all;
}

}  // namespace faultline::v1

#endif  // FAULTLINE_PROTO_FAULTLINE_V1_REPETITIONS_H_
