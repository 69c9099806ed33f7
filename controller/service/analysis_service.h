// faultline.v1.AnalysisService over gRPC's callback API: translates protos and calls the
// analysis domain (kernel_comparison, metric_history, gate_runner). Gates can wait for
// campaigns for a long time, so each runs on its own thread; Shutdown cancels them.
#ifndef FAULTLINE_CONTROLLER_SERVICE_ANALYSIS_SERVICE_H_
#define FAULTLINE_CONTROLLER_SERVICE_ANALYSIS_SERVICE_H_

#include <list>
#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "controller/runs/gate_runner.h"
#include "controller/runs/kernel_comparison.h"
#include "controller/runs/metric_history.h"
#include "controller/security/call_authorizer.h"
#include "controller/store/store.h"
#include "proto/faultline/v1/analysis.grpc.pb.h"

namespace faultline::controller {

class AnalysisServiceImpl final : public v1::AnalysisService::CallbackService {
 public:
  AnalysisServiceImpl(Store* store, GateRunner* gates,
                      const security::CallAuthorizer* authorizer);
  ~AnalysisServiceImpl() override;

  grpc::ServerUnaryReactor* Compare(grpc::CallbackServerContext* ctx,
                                    const v1::CompareRequest* request,
                                    v1::CompareResponse* response) override;
  grpc::ServerUnaryReactor* ChangePoints(grpc::CallbackServerContext* ctx,
                                         const v1::ChangePointsRequest* request,
                                         v1::ChangePointsResponse* response) override;
  grpc::ServerUnaryReactor* Gate(grpc::CallbackServerContext* ctx,
                                 const v1::GateRequest* request,
                                 v1::GateResponse* response) override;

  // Makes running gates give up (CANCELLED; their campaigns are cancelled) and joins them.
  void Shutdown();

 private:
  struct GateThread {
    std::thread thread;
    bool done = false;
  };
  void JoinFinishedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Store* const store_;
  const security::CallAuthorizer* const authorizer_;
  GateRunner* const gates_;
  absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::list<GateThread> threads_ ABSL_GUARDED_BY(mu_);
};

// Proto <-> domain translations (exposed for tests).
RunSelector RunSelectorFromProto(const v1::ResultSelector& selector);
v1::CompareResponse CompareResponseToProto(const KernelComparison& comparison);
v1::GateResponse GateResponseToProto(const GateReport& report);

}  // namespace faultline::controller

#endif  // FAULTLINE_CONTROLLER_SERVICE_ANALYSIS_SERVICE_H_
