// Campaigns that run until they can decide (controller/runs/rounds_until_decided.h) <-> the API's
// SequentialLookAt, SequentialLook and SequentialOutcome; shared by the service and faultlinectl
// submit, which runs the loop itself.
#ifndef FAULTLINE_CONTROLLER_SERVICE_SEQUENTIAL_PROTO_H_
#define FAULTLINE_CONTROLLER_SERVICE_SEQUENTIAL_PROTO_H_

#include <string>
#include <vector>

#include "controller/analysis/sequential_plan.h"
#include "controller/runs/rounds_until_decided.h"
#include "proto/faultline/v1/analysis.pb.h"

namespace faultline::controller::service {

analysis::SequentialLook SequentialLookFromProto(const v1::SequentialLookAt& look);
void SequentialLookToProto(const analysis::SequentialLook& look, v1::SequentialLookAt* out);
void LookRecordToProto(const runs::LookRecord& record, v1::SequentialLook* out);
v1::SequentialOutcome RoundsReportToProto(const runs::RoundsReport& report,
                                          const std::vector<std::string>& campaign_ids);

// For terminals and CI logs: one line per look, "until decided: look 2 at 13 of 16 rounds per
// side (level 0.0043, 20 s): out_of_budget: REASON", then "until decided: 13 rounds in 2 looks
// (campaigns c-1 c-2); STOP_REASON".
std::string FormatSequentialOutcome(const v1::SequentialOutcome& outcome);

}  // namespace faultline::controller::service

#endif  // FAULTLINE_CONTROLLER_SERVICE_SEQUENTIAL_PROTO_H_
