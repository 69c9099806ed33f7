// AnalysisService messages <-> the analysis over stored runs (controller/runs): selectors,
// comparisons, histories and gates.
#ifndef FAULTLINE_CONTROLLER_SERVICE_RUNS_PROTO_H_
#define FAULTLINE_CONTROLLER_SERVICE_RUNS_PROTO_H_

#include "controller/runs/gate_runner.h"
#include "controller/runs/kernel_comparison.h"
#include "controller/runs/metric_history.h"
#include "proto/faultline/v1/analysis.pb.h"

namespace faultline::controller::service {

runs::RunSelector RunSelectorFromProto(const v1::ResultSelector& selector);
// Unknown values (refused by request validation first) are kAuto.
runs::ReplicationUnit ReplicationUnitFromProto(v1::ReplicationUnit unit);
v1::CompareResponse CompareResponseToProto(const runs::KernelComparison& comparison);

// Unset fields take the API's defaults: policy name "gate", a one-hour campaign timeout.
runs::GateSpec GateSpecFromProto(const v1::GateRequest& request);
v1::GateResponse GateResponseToProto(const runs::GateReport& report);

// Unset fields take the library's defaults; the limit is capped at a million runs.
runs::HistoryQuery HistoryQueryFromProto(const v1::ChangePointsRequest& request);
v1::ChangePointsResponse ChangePointsResponseToProto(const runs::MetricHistory& history);

}  // namespace faultline::controller::service

#endif  // FAULTLINE_CONTROLLER_SERVICE_RUNS_PROTO_H_
