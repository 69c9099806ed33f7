// faultlinectl's campaign file parser on arbitrary text: it must not crash, an error must name
// the file, and an accepted campaign must survive a print/parse round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "controller/cli/campaign_file.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<faultline::v1::CampaignSpec> spec =
      faultline::controller::cli::ParseCampaignText(text, "fuzz.textproto");
  if (!spec.ok()) {
    if (!absl::StartsWith(spec.status().message(), "fuzz.textproto:")) std::abort();
    return 0;
  }
  std::string printed;
  if (!google::protobuf::TextFormat::PrintToString(*spec, &printed)) std::abort();
  absl::StatusOr<faultline::v1::CampaignSpec> again =
      faultline::controller::cli::ParseCampaignText(printed, "printed.textproto");
  if (!again.ok()) std::abort();
  if (!google::protobuf::util::MessageDifferencer::Equivalent(*spec, *again)) std::abort();
  return 0;
}
