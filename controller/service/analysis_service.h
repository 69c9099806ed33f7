// faultline.v1.AnalysisService over gRPC's callback API: converts the requests and calls the
// analysis over stored runs (kernel_comparison, metric_history; gates through GateThreads,
// since a gate may wait for campaigns for a long time).
#ifndef FAULTLINE_CONTROLLER_SERVICE_ANALYSIS_SERVICE_H_
#define FAULTLINE_CONTROLLER_SERVICE_ANALYSIS_SERVICE_H_

#include "controller/runs/gate_threads.h"
#include "controller/security/call_authorizer.h"
#include "controller/store/store.h"
#include "proto/faultline/v1/analysis.grpc.pb.h"

namespace faultline::controller::service {

class AnalysisServiceImpl final : public v1::AnalysisService::CallbackService {
 public:
  AnalysisServiceImpl(store::Store* store, runs::GateThreads* gates,
                      const security::CallAuthorizer* authorizer);

  grpc::ServerUnaryReactor* Compare(grpc::CallbackServerContext* ctx,
                                    const v1::CompareRequest* request,
                                    v1::CompareResponse* response) override;
  grpc::ServerUnaryReactor* ChangePoints(grpc::CallbackServerContext* ctx,
                                         const v1::ChangePointsRequest* request,
                                         v1::ChangePointsResponse* response) override;
  grpc::ServerUnaryReactor* Gate(grpc::CallbackServerContext* ctx,
                                 const v1::GateRequest* request,
                                 v1::GateResponse* response) override;

 private:
  store::Store* const store_;
  const security::CallAuthorizer* const authorizer_;
  runs::GateThreads* const gates_;
};

}  // namespace faultline::controller::service

#endif  // FAULTLINE_CONTROLLER_SERVICE_ANALYSIS_SERVICE_H_
