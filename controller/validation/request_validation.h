// Shape checks for every RPC request, run before a handler touches the domain or the store.
//
// Each function takes one request message and returns OK, or INVALID_ARGUMENT whose message
// starts with the offending field's path in the request and says what was wrong, e.g.
// "result.repetitions[3].metrics: 300 metrics, at most 256". Checks here need nothing but the
// request: whether an agent is registered or a lease still held is the domain's business.
// A request these accept may still be refused by the domain (unknown campaign, no matching
// agent), but never for a bound listed here.
#ifndef FAULTLINE_CONTROLLER_REQUEST_VALIDATION_H_
#define FAULTLINE_CONTROLLER_REQUEST_VALIDATION_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/faultline/v1/agent_service.pb.h"
#include "proto/faultline/v1/analysis.pb.h"
#include "proto/faultline/v1/campaign_service.pb.h"

namespace faultline::controller {

// Bounds live in their own namespace so handler files keep their local constants.
namespace limits {

// --- Bounds. Each sits well above what real use needs and well below what hurts the controller
// (store rows, memory per request, scans per query). ---

// Identifiers (agent, campaign, job, lease ids): the controller makes "c-000012",
// "c-000012/j-0007" and 32 hex digits; agents default to the hostname (at most 64).
inline constexpr size_t kMaxIdentifierLength = 128;
// Names of benchmarks, metrics, parameters, counters, histograms, tags, labels: short
// lower-case words in every benchmark we ship (the longest is under 40).
inline constexpr size_t kMaxNameLength = 128;
// Globs over labels, releases and host classes; the campaign planner allows the same.
inline constexpr size_t kMaxPatternLength = 256;
// One-line descriptive text: host and kernel strings (uname -v, CPU model), versions, units,
// descriptions, parameter values, campaign label values.
inline constexpr size_t kMaxTextLength = 1024;
// The kernel command line: COMMAND_LINE_SIZE is 2048 on x86-64 and 4096 on arm64.
inline constexpr size_t kMaxCmdlineLength = 4096;
// A failed run's diagnostic: the tail of the benchmark's stderr. Same as JobReports::Options.
inline constexpr size_t kMaxDiagnosticBytes = 64 * 1024;
// A gate policy is one rule per line; real ones have a dozen.
inline constexpr size_t kMaxPolicyBytes = 64 * 1024;

// Register: our agents ship about a dozen benchmarks, each with a handful of parameters and
// metrics; hosts report a few dozen sysctls and features.
inline constexpr int kMaxCatalogEntries = 1024;
inline constexpr int kMaxParamsPerBenchmark = 64;
inline constexpr int kMaxMetricsPerBenchmark = 256;
inline constexpr int kMaxAllowedValues = 256;
inline constexpr int kMaxAgentTags = 64;
inline constexpr int kMaxProvisionableKernels = 64;
inline constexpr int kMaxHostSysctls = 256;
inline constexpr int kMaxHostFeatures = 256;

// ReportResult: one run. Repetitions match the campaign limit (1000); a repetition of our
// benchmarks reports under 10 metrics, about 10 counters and at most 2 histograms.
inline constexpr int kMaxResultRepetitions = 1000;
inline constexpr int kMaxMetricsPerRepetition = 256;
inline constexpr int kMaxCountersPerRepetition = 256;
inline constexpr int kMaxHistogramsPerRepetition = 32;
// Histograms use at most 10 sub-bucket bits (agent/bench/histogram.h), which gives 64 * 2^10
// buckets covering every uint64_t.
inline constexpr uint32_t kMaxHistogramSubBucketBits = 10;
inline constexpr int kMaxHistogramBuckets = 64 << kMaxHistogramSubBucketBits;
// Non-empty buckets over all histograms of one result: a latency histogram fills a few hundred,
// so 1000 repetitions x 2 histograms stay far below this. Bounds the stored row.
inline constexpr int kMaxHistogramBucketsPerResult = 4'000'000;
// Parameters of one invocation or run: our widest benchmark takes 6.
inline constexpr int kMaxParamsPerInvocation = 64;

// Campaigns: targets, suite size, repetitions, warm-up and timeouts are the planner's limits
// (campaign_planner.h); these bound the rest of a spec.
inline constexpr int kMaxTargetHostTags = 32;
inline constexpr int kMaxTargetAgentIds = 64;
inline constexpr int kMaxCampaignLabels = 64;

// Page sizes and waits the API documents.
inline constexpr uint32_t kMaxPollWaitSeconds = 60;
inline constexpr uint32_t kMaxListCampaigns = 1000;
inline constexpr uint32_t kMaxQueryResults = 10000;
inline constexpr uint32_t kMaxChangePointRuns = 100000;
// A gate waits this long at most for each campaign it runs: a week of a busy fleet.
inline constexpr uint32_t kMaxGateTimeoutSeconds = 7 * 24 * 3600;
// CompareOptions.min_samples_per_side: more than a campaign can ever produce per side is a typo.
inline constexpr uint32_t kMaxMinSamplesPerSide = 1'000'000;

}  // namespace limits

// --- AgentService ---
absl::Status ValidateRegisterRequest(const v1::RegisterRequest& request);
absl::Status ValidateHeartbeatRequest(const v1::HeartbeatRequest& request);
absl::Status ValidatePollWorkRequest(const v1::PollWorkRequest& request);
absl::Status ValidateRenewLeaseRequest(const v1::RenewLeaseRequest& request);
absl::Status ValidateReportResultRequest(const v1::ReportResultRequest& request);

// --- CampaignService ---
absl::Status ValidateSubmitCampaignRequest(const v1::SubmitCampaignRequest& request);
absl::Status ValidateGetCampaignRequest(const v1::GetCampaignRequest& request);
absl::Status ValidateListCampaignsRequest(const v1::ListCampaignsRequest& request);
absl::Status ValidateCancelCampaignRequest(const v1::CancelCampaignRequest& request);
absl::Status ValidateWatchCampaignRequest(const v1::WatchCampaignRequest& request);
absl::Status ValidateListAgentsRequest(const v1::ListAgentsRequest& request);
absl::Status ValidateQueryResultsRequest(const v1::QueryResultsRequest& request);

// --- AnalysisService ---
absl::Status ValidateCompareRequest(const v1::CompareRequest& request);
absl::Status ValidateChangePointsRequest(const v1::ChangePointsRequest& request);
// Also parses the policy: a parse error reads "policy: line 3: ...".
absl::Status ValidateGateRequest(const v1::GateRequest& request);

// Building blocks, exposed for the domain code and tests that check single fields.

// 1..kMaxIdentifierLength characters of [A-Za-z0-9._:@/-] (`required`), or that or empty.
absl::Status ValidateIdentifier(absl::string_view value, absl::string_view field, bool required);
// A CampaignSpec's shape under `field` (e.g. "spec"): everything PlanCampaign checks that does
// not depend on the registered agents, plus string and map bounds. `targets_required` is false
// for a gate's campaign, whose targets the controller makes.
absl::Status ValidateCampaignSpecShape(const v1::CampaignSpec& spec, const std::string& field,
                                       bool targets_required);

}  // namespace faultline::controller

#endif  // FAULTLINE_CONTROLLER_REQUEST_VALIDATION_H_
