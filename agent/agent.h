// The agent daemon's control loop: registers with the controller, heartbeats, long-polls for
// work, runs each assignment in a benchmark child while renewing its lease, and delivers results
// through the on-disk spool so none is lost while the controller is unreachable.
#ifndef FAULTLINE_AGENT_AGENT_H_
#define FAULTLINE_AGENT_AGENT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/backoff.h"
#include "agent/benchmark_executor.h"
#include "agent/result_spool.h"
#include "grpcpp/grpcpp.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"

namespace faultline::agent {

struct AgentOptions {
  std::string agent_id;
  std::vector<std::string> tags;
  std::string agent_version;
  v1::HostFingerprint host;
  std::vector<v1::BenchmarkSpec> catalog;
  std::string spool_dir;
  // Stop after this many jobs (run, failed or abandoned); 0 runs until drained.
  int max_jobs = 0;
  // PollWork wait_seconds (1..60).
  uint32_t poll_wait_seconds = 20;
  // How benchmark children are started; `executor.host` is overwritten with `host`.
  ExecutorOptions executor;
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  // Deadline of every RPC except PollWork, which gets poll_wait_seconds on top.
  absl::Duration rpc_timeout = absl::Seconds(10);
  // What the agent's metrics watch (agent/main.cc connects them to Prometheus). Any may be
  // empty; they are called from the agent's threads without its lock held.
  struct Observers {
    std::function<void(v1::AgentState)> state_changed;
    std::function<void()> job_started;
    std::function<void(const std::string& benchmark, v1::RunState result,
                       absl::Duration elapsed)>
        job_finished;
    std::function<void(int64_t count)> spooled_results;
    std::function<void()> reconnected;
  };
  Observers observers;
  // Kernel provisioning. Labels of kernels this host can boot into on request, the command
  // that does it (run as `/bin/sh -c COMMAND faultline-provision LABEL`, e.g. a script that
  // kexecs or reboots into that kernel), and how to read the fingerprint afterwards. When the
  // command returns, the agent re-fingerprints and re-registers; if it reboots the host instead,
  // the job's lease lapses, the job is requeued, and the agent, back on the new kernel, is
  // given it like any other job.
  std::vector<std::string> provisionable_kernels;
  std::string provision_command;
  absl::Duration provision_timeout = absl::Minutes(15);
  std::function<absl::StatusOr<v1::HostFingerprint>()> refingerprint;
  // A stub on a new channel of its own, for retrying a failed lease renewal without waiting for
  // the shared channel's reconnect backoff. May be empty (retries then use the shared stub).
  std::function<std::unique_ptr<v1::AgentService::StubInterface>()> fresh_stub;
};

class Agent {
 public:
  Agent(AgentOptions options, std::unique_ptr<v1::AgentService::StubInterface> stub);
  ~Agent();

  // Runs until max_jobs jobs are handled or a drain is requested. Errors only for what makes the
  // agent unable to work at all (bad options, an unusable spool directory, a registration the
  // controller refuses for good: an invalid argument, a permission denied).
  absl::Status Run();

  // Thread-safe. The first request drains: no new work is taken, the running job finishes and
  // its result is delivered (or left spooled). A second request abandons the running job
  // (kills its child) as well.
  void RequestDrain();

  int jobs_handled() const { return jobs_handled_.load(); }

 private:
  v1::RegisterRequest MakeRegisterRequest() const;
  // INVALID_ARGUMENT naming the field when the controller would refuse the registration.
  absl::Status CheckRegisterRequest() const;
  // On failure, `retry_after` (if given) gets the controller's retry hint, if it sent one.
  absl::Status RegisterOnce(std::optional<absl::Duration>* retry_after = nullptr);
  // Boots `label` with the provisioning command and re-registers; the error says why not.
  absl::Status Provision(const std::string& label);
  v1::HostFingerprint CurrentHost() const;
  // Retries RegisterOnce with backoff until it succeeds, the controller refuses it for good
  // (that error), or a drain is requested (CANCELLED).
  absl::Status RegisterWithRetry();
  void HeartbeatLoop();
  // One PollWork call; runs the assignment if one came.
  void PollOnce(Backoff* backoff);
  void HandleAssignment(const v1::Assignment& assignment);
  void RenewLoop(const v1::Assignment& assignment);
  // Reports every spooled result in order; stops early (leaving the rest spooled) only while
  // draining.
  void DeliverSpool();
  // Sleeps for `d` or until a drain is requested; true if drained.
  bool SleepOrDrain(absl::Duration d);
  bool draining() const;
  void SetState(v1::AgentState state, const std::string& job_id);

  const AgentOptions options_;
  const std::unique_ptr<v1::AgentService::StubInterface> stub_;
  const BenchmarkExecutor executor_;
  std::unique_ptr<ResultSpool> spool_;

  mutable absl::Mutex mu_;
  // The host as last fingerprinted; changes when the agent provisions another kernel.
  v1::HostFingerprint host_ ABSL_GUARDED_BY(mu_);
  int drain_requests_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_heartbeat_ ABSL_GUARDED_BY(mu_) = false;
  bool deliver_spool_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_renewal_ ABSL_GUARDED_BY(mu_) = false;
  v1::AgentState state_ ABSL_GUARDED_BY(mu_) = v1::AGENT_STATE_IDLE;
  std::string job_id_ ABSL_GUARDED_BY(mu_);
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mu_) = absl::Seconds(10);
  absl::Duration lease_length_ ABSL_GUARDED_BY(mu_) = absl::Seconds(60);
  grpc::ClientContext* poll_context_ ABSL_GUARDED_BY(mu_) = nullptr;

  // Set to kill the running benchmark child: the lease was lost, or a second drain request.
  std::atomic<bool> abandon_{false};
  // The current job's run has ended; its lease is still renewed until the result is delivered.
  std::atomic<bool> run_finished_{false};
  std::atomic<int> jobs_handled_{0};
};

}  // namespace faultline::agent

#endif  // FAULTLINE_AGENT_AGENT_H_
