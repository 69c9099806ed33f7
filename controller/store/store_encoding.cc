#include "controller/store/store_encoding.h"

namespace faultline::controller::store {

std::string JobStateName(v1::JobState state) {
  switch (state) {
    case v1::JOB_STATE_QUEUED:
      return "queued";
    case v1::JOB_STATE_RUNNING:
      return "running";
    case v1::JOB_STATE_SUCCEEDED:
      return "succeeded";
    case v1::JOB_STATE_FAILED:
      return "failed";
    case v1::JOB_STATE_CANCELLED:
      return "cancelled";
    case v1::JOB_STATE_SKIPPED:
      return "skipped";
    default:
      return "unspecified";
  }
}

v1::JobState ParseJobState(const std::string& name) {
  if (name == "queued") return v1::JOB_STATE_QUEUED;
  if (name == "running") return v1::JOB_STATE_RUNNING;
  if (name == "succeeded") return v1::JOB_STATE_SUCCEEDED;
  if (name == "failed") return v1::JOB_STATE_FAILED;
  if (name == "cancelled") return v1::JOB_STATE_CANCELLED;
  if (name == "skipped") return v1::JOB_STATE_SKIPPED;
  return v1::JOB_STATE_UNSPECIFIED;
}

std::string RunStateName(v1::RunState state) {
  switch (state) {
    case v1::RUN_STATE_OK:
      return "ok";
    case v1::RUN_STATE_FAILED:
      return "failed";
    case v1::RUN_STATE_SKIPPED:
      return "skipped";
    case v1::RUN_STATE_TIMED_OUT:
      return "timed_out";
    case v1::RUN_STATE_CRASHED:
      return "crashed";
    case v1::RUN_STATE_REFUSED:
      return "refused";
    default:
      return "unspecified";
  }
}

std::string DirectionName(v1::Direction direction) {
  switch (direction) {
    case v1::DIRECTION_LOWER_IS_BETTER:
      return "lower_is_better";
    case v1::DIRECTION_HIGHER_IS_BETTER:
      return "higher_is_better";
    case v1::DIRECTION_NEUTRAL:
      return "neutral";
    default:
      return "unspecified";
  }
}

v1::Direction ParseDirection(const std::string& name) {
  if (name == "lower_is_better") return v1::DIRECTION_LOWER_IS_BETTER;
  if (name == "higher_is_better") return v1::DIRECTION_HIGHER_IS_BETTER;
  if (name == "neutral") return v1::DIRECTION_NEUTRAL;
  return v1::DIRECTION_UNSPECIFIED;
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp out;
  int64_t seconds = absl::ToUnixSeconds(t);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return out;
}

}  // namespace faultline::controller::store
