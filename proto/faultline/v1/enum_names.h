// How the API's enum values are spelled outside protobuf: in the database, in host classes and
// in Prometheus labels. One spelling each, so a dashboard's "arm64" and a host class's "arm64"
// cannot drift apart.
#ifndef FAULTLINE_V1_ENUM_NAMES_H_
#define FAULTLINE_V1_ENUM_NAMES_H_

#include <string>

#include "absl/strings/string_view.h"
#include "proto/faultline/v1/host.pb.h"

namespace faultline::v1 {

// "x86_64", "arm64"; "" for ARCH_UNSPECIFIED (callers that need a word say which).
std::string ArchName(Arch arch);
// The inverse; ARCH_UNSPECIFIED for anything else.
Arch ParseArch(absl::string_view name);

// A label value from an enum value's name: EnumLabel("AGENT_STATE_IDLE", "AGENT_STATE_") is
// "idle"; a name that is only the prefix gives "unknown".
std::string EnumLabel(absl::string_view enum_name, absl::string_view prefix);

}  // namespace faultline::v1

#endif  // FAULTLINE_V1_ENUM_NAMES_H_
