// How enum values and times are spelled in the database: lower-case words rather than enum
// numbers, so that dashboards and ad-hoc SQL read naturally. Architectures are spelled by
// proto/faultline/v1/enum_names.h, as everywhere else.
#ifndef FAULTLINE_CONTROLLER_STORE_STORE_ENCODING_H_
#define FAULTLINE_CONTROLLER_STORE_STORE_ENCODING_H_

#include <string>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "proto/faultline/v1/benchmark.pb.h"
#include "proto/faultline/v1/campaign.pb.h"
#include "proto/faultline/v1/host.pb.h"

namespace faultline::controller::store {

// "queued", "running", "succeeded", "failed", "cancelled", "skipped".
std::string JobStateName(v1::JobState state);
v1::JobState ParseJobState(const std::string& name);

// "ok", "failed", "skipped", "timed_out", "crashed", "refused", "unspecified".
std::string RunStateName(v1::RunState state);

// "lower_is_better", "higher_is_better", "neutral", "unspecified".
std::string DirectionName(v1::Direction direction);
v1::Direction ParseDirection(const std::string& name);

absl::Time FromProtoTime(const google::protobuf::Timestamp& t);
google::protobuf::Timestamp ToProtoTime(absl::Time t);

}  // namespace faultline::controller::store

#endif  // FAULTLINE_CONTROLLER_STORE_STORE_ENCODING_H_
