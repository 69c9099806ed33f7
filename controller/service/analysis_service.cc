#include "controller/service/analysis_service.h"

#include <utility>

#include "controller/analysis/sequential_plan.h"
#include "controller/runs/rounds_until_decided.h"
#include "controller/service/analysis_proto.h"
#include "controller/service/handler.h"
#include "controller/service/runs_proto.h"
#include "controller/service/sequential_proto.h"
#include "controller/validation/request_validation.h"

namespace faultline::controller::service {

AnalysisServiceImpl::AnalysisServiceImpl(store::Store* store, runs::GateThreads* gates,
                                         const security::CallAuthorizer* authorizer)
    : store_(store), authorizer_(authorizer), gates_(gates) {}

grpc::ServerUnaryReactor* AnalysisServiceImpl::Compare(grpc::CallbackServerContext* ctx,
                                                       const v1::CompareRequest* request,
                                                       v1::CompareResponse* response) {
  if (absl::Status refused = CheckCall(*ctx, *authorizer_, security::Permission::kQuery,
                                       *request, &validation::ValidateCompareRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  const analysis::CompareOptions options = CompareOptionsFromProto(request->options());
  const analysis::SequentialLook look = SequentialLookFromProto(request->look());
  absl::StatusOr<runs::KernelComparison> c = runs::CompareKernels(
      store_, RunSelectorFromProto(request->baseline()), RunSelectorFromProto(request->candidate()),
      request->has_look() ? analysis::CompareOptionsAtLook(options, look) : options,
      ReplicationUnitFromProto(request->options().replication_unit()),
      {request->options().metrics().begin(), request->options().metrics().end()});
  if (c.ok()) {
    *response = CompareResponseToProto(*c);
    *response->mutable_options()->mutable_metrics() = request->options().metrics();
    if (request->has_look()) {
      LookRecordToProto(runs::RecordLook(c->suite, look, options.fdr_level,
                                         runs::BlockUnitName(c->replication_unit)),
                        response->mutable_look());
    }
  }
  return FinishNow(ctx, c.status());
}

grpc::ServerUnaryReactor* AnalysisServiceImpl::ChangePoints(
    grpc::CallbackServerContext* ctx, const v1::ChangePointsRequest* request,
    v1::ChangePointsResponse* response) {
  if (absl::Status refused = CheckCall(*ctx, *authorizer_, security::Permission::kQuery,
                                       *request, &validation::ValidateChangePointsRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  absl::StatusOr<runs::MetricHistory> history =
      runs::FindMetricChangePoints(store_, HistoryQueryFromProto(*request));
  if (history.ok()) *response = ChangePointsResponseToProto(*history);
  return FinishNow(ctx, history.status());
}

grpc::ServerUnaryReactor* AnalysisServiceImpl::Gate(grpc::CallbackServerContext* ctx,
                                                    const v1::GateRequest* request,
                                                    v1::GateResponse* response) {
  if (absl::Status refused = CheckCall(*ctx, *authorizer_, security::Permission::kSubmit,
                                       *request, &validation::ValidateGateRequest);
      !refused.ok()) {
    return FinishNow(ctx, refused);
  }
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::Status started = gates_->Start(
      GateSpecFromProto(*request), [ctx] { return ctx->IsCancelled(); },
      [reactor, response](absl::StatusOr<runs::GateReport> report) {
        if (report.ok()) *response = GateResponseToProto(*report);
        reactor->Finish(ToGrpcStatus(report.status()));
      });
  if (!started.ok()) reactor->Finish(ToGrpcStatus(started));
  return reactor;
}

}  // namespace faultline::controller::service
