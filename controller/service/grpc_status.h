// absl::Status <-> grpc::Status, so domain code speaks absl and only services see gRPC.
#ifndef FAULTLINE_CONTROLLER_GRPC_STATUS_H_
#define FAULTLINE_CONTROLLER_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/support/status.h"

namespace faultline::controller {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

inline google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t nanos = absl::ToUnixNanos(t);
  ts.set_seconds(nanos / 1000000000);
  ts.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return ts;
}

}  // namespace faultline::controller

#endif  // FAULTLINE_CONTROLLER_GRPC_STATUS_H_
