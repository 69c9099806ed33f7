// Conversions between the analysis API's messages (proto/faultline/v1/analysis.proto) and the
// statistics library's structs (controller/analysis), shared by the service and faultlinectl
// (which renders responses with controller/analysis/report_text.h).
#ifndef FAULTLINE_CONTROLLER_SERVICE_ANALYSIS_PROTO_H_
#define FAULTLINE_CONTROLLER_SERVICE_ANALYSIS_PROTO_H_

#include <vector>

#include "controller/analysis/compare.h"
#include "controller/analysis/gate.h"
#include "controller/analysis/latency_quantiles.h"
#include "controller/analysis/profile_diff.h"
#include "proto/faultline/v1/analysis.pb.h"

namespace faultline::controller::service {

// Zero fields take the library's defaults.
analysis::CompareOptions CompareOptionsFromProto(const v1::CompareOptions& options);
v1::CompareOptions CompareOptionsToProto(const analysis::CompareOptions& options);

v1::Verdict VerdictToProto(analysis::Verdict verdict);
analysis::Verdict VerdictFromProto(v1::Verdict verdict);
v1::GateOutcome GateOutcomeToProto(analysis::GateOutcome outcome);
analysis::GateOutcome GateOutcomeFromProto(v1::GateOutcome outcome);

// The statistics fields only (samples, params and agents are the caller's).
void MetricComparisonToProto(const analysis::MetricComparison& in, v1::MetricComparison* out);
analysis::MetricComparison MetricComparisonFromProto(const v1::MetricComparison& in);

void DistributionToProto(const analysis::LatencyDistribution& in, v1::DistributionComparison* out);
analysis::LatencyDistribution DistributionFromProto(const v1::DistributionComparison& in);

analysis::SuiteComparison SuiteComparisonFromProto(const v1::CompareResponse& response);
// The response's counters as a suite of neutral metrics (options as the response's).
analysis::SuiteComparison CounterSuiteFromProto(const v1::CompareResponse& response);
// Everything but params.
void ProfileChangeToProto(const analysis::ProfileChange& in, v1::ProfileChange* out);
std::vector<analysis::ProfileChange> ProfileChangesFromProto(const v1::CompareResponse& response);
void GateRulesToProto(const analysis::GateResult& result, v1::GateResponse* out);
// Rules and comparison of a response (confirmations are not part of analysis::GateResult).
analysis::GateResult GateResultFromProto(const v1::GateResponse& response);

}  // namespace faultline::controller::service

#endif  // FAULTLINE_CONTROLLER_SERVICE_ANALYSIS_PROTO_H_
