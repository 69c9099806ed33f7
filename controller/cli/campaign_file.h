// Campaign files: a faultline.v1.CampaignSpec in protobuf text format (see docs/campaigns.md).
// Text format because it is the API's own schema: every field the API documents can be written,
// and a typo is an error with a line and column rather than a silently ignored key.
#ifndef FAULTLINE_CONTROLLER_CLI_CAMPAIGN_FILE_H_
#define FAULTLINE_CONTROLLER_CLI_CAMPAIGN_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/faultline/v1/campaign.pb.h"

namespace faultline::controller::cli {

// Parses `text`; errors read "<filename>:<line>:<column>: <what was expected>".
absl::StatusOr<v1::CampaignSpec> ParseCampaignText(const std::string& text,
                                                   const std::string& filename);

// Reads and parses a campaign file.
absl::StatusOr<v1::CampaignSpec> ReadCampaignFile(const std::string& path);

}  // namespace faultline::controller::cli

#endif  // FAULTLINE_CONTROLLER_CLI_CAMPAIGN_FILE_H_
