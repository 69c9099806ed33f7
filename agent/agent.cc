#include "agent/agent.h"

#include <algorithm>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/child_process.h"
#include "agent/log.h"
#include "controller/validation/request_validation.h"

namespace faultline::agent {
namespace {

std::chrono::system_clock::time_point Deadline(absl::Duration from_now) {
  return absl::ToChronoTime(absl::Now() + from_now);
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

std::string Round(absl::Duration d) {
  return absl::FormatDuration(absl::Trunc(d, absl::Milliseconds(1)));
}

std::string Describe(const grpc::Status& status) {
  return absl::StrCat("code ", static_cast<int>(status.error_code()), ": ",
                      status.error_message());
}

// The controller's retry hint on a refusal (RESOURCE_EXHAUSTED) or on a poll it turned away:
// "retry-after-ms" trailing metadata, or the same key in the status message.
std::optional<absl::Duration> RetryAfter(const grpc::ClientContext& context,
                                         const grpc::Status& status) {
  constexpr absl::string_view kKey = "retry-after-ms";
  int64_t ms = -1;
  const auto& trailers = context.GetServerTrailingMetadata();
  if (auto it = trailers.find(std::string(kKey)); it != trailers.end()) {
    if (!absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &ms)) ms = -1;
  } else if (const size_t at = status.error_message().rfind(absl::StrCat(kKey, "="));
             at != std::string::npos) {
    const size_t start = at + kKey.size() + 1;
    size_t end = start;
    while (end < status.error_message().size() && end - start < 9 &&
           absl::ascii_isdigit(status.error_message()[end])) {
      ++end;
    }
    if (!absl::SimpleAtoi(status.error_message().substr(start, end - start), &ms)) ms = -1;
  }
  // A hint beyond ten minutes is not believed: the agent's own backoff cap applies instead.
  if (ms < 0 || ms > 600000) return std::nullopt;
  return absl::Milliseconds(ms);
}

// Errors that retrying the same report cannot fix.
bool IsPermanent(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNIMPLEMENTED:
      return true;
    default:
      return false;
  }
}

}  // namespace

Agent::Agent(AgentOptions options, std::unique_ptr<v1::AgentService::StubInterface> stub)
    : options_(std::move(options)),
      stub_(std::move(stub)),
      executor_([this] {
        ExecutorOptions executor = options_.executor;
        executor.host = options_.host;
        return executor;
      }()) {
  absl::MutexLock lock(&mu_);
  host_ = options_.host;
}

Agent::~Agent() = default;

bool Agent::draining() const {
  absl::MutexLock lock(&mu_);
  return drain_requests_ > 0;
}

void Agent::RequestDrain() {
  {
    absl::MutexLock lock(&mu_);
    ++drain_requests_;
    if (poll_context_ != nullptr) poll_context_->TryCancel();
    if (drain_requests_ >= 2) abandon_.store(true);
  }
  if (options_.observers.state_changed) {
    options_.observers.state_changed(v1::AGENT_STATE_DRAINING);
  }
}

bool Agent::SleepOrDrain(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return drain_requests_ > 0; };
  return mu_.AwaitWithTimeout(absl::Condition(&drained), d);
}

void Agent::SetState(v1::AgentState state, const std::string& job_id) {
  {
    absl::MutexLock lock(&mu_);
    state_ = state;
    job_id_ = job_id;
    if (drain_requests_ > 0) state = v1::AGENT_STATE_DRAINING;
  }
  if (options_.observers.state_changed) options_.observers.state_changed(state);
}

v1::HostFingerprint Agent::CurrentHost() const {
  absl::MutexLock lock(&mu_);
  return host_;
}

absl::Status Agent::Provision(const std::string& label) {
  if (options_.provision_command.empty() ||
      std::find(options_.provisionable_kernels.begin(), options_.provisionable_kernels.end(),
                label) == options_.provisionable_kernels.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "required_kernel_label: agent runs kernel label \"", CurrentHost().kernel_label(),
        "\" and cannot provision \"", label, "\""));
  }
  Log("provisioning kernel ", label, " with: ", options_.provision_command);
  SetState(v1::AGENT_STATE_PROVISIONING, "");
  ChildOptions child;
  child.argv = {"/bin/sh", "-c", options_.provision_command, "faultline-provision", label};
  child.timeout = options_.provision_timeout;
  absl::StatusOr<ChildResult> ran = RunChild(child);
  if (!ran.ok()) return ran.status();
  if (ran->ending != ChildResult::Ending::kExited || ran->exit_code != 0) {
    return absl::InternalError(absl::StrCat("provisioning ", label, " failed (exit ",
                                            ran->exit_code, "): ", ran->stderr_tail));
  }
  if (!options_.refingerprint) {
    return absl::FailedPreconditionError("provisioning: no way to re-read the fingerprint");
  }
  absl::StatusOr<v1::HostFingerprint> host = options_.refingerprint();
  if (!host.ok()) return host.status();
  if (host->kernel_label() != label) {
    return absl::InternalError(absl::StrCat("provisioning ", label, " finished but the host runs \"",
                                            host->kernel_label(), "\""));
  }
  {
    absl::MutexLock lock(&mu_);
    host_ = *host;
  }
  if (absl::Status registered = RegisterWithRetry(); !registered.ok()) return registered;
  Log("now on kernel ", host->kernel_release(), " label ", label);
  return absl::OkStatus();
}

v1::RegisterRequest Agent::MakeRegisterRequest() const {
  v1::RegisterRequest request;
  request.set_agent_id(options_.agent_id);
  *request.mutable_host() = CurrentHost();
  for (const std::string& label : options_.provisionable_kernels) {
    request.add_provisionable_kernels(label);
  }
  for (const v1::BenchmarkSpec& spec : options_.catalog) *request.add_catalog() = spec;
  for (const std::string& tag : options_.tags) request.add_tags(tag);
  request.set_agent_version(options_.agent_version);
  return request;
}

absl::Status Agent::CheckRegisterRequest() const {
  // The controller's own checks, run before dialing: a request it must refuse (too many tags, a
  // label too long or not UTF-8) is a configuration error no retry can fix.
  const v1::RegisterRequest request = MakeRegisterRequest();
  absl::Status utf8 = controller::validation::ValidateUtf8Strings(request, "");
  if (!utf8.ok()) return utf8;
  return controller::validation::ValidateRegisterRequest(request);
}

absl::Status Agent::RegisterOnce(std::optional<absl::Duration>* retry_after) {
  const v1::RegisterRequest request = MakeRegisterRequest();
  v1::RegisterResponse response;
  grpc::ClientContext context;
  context.set_deadline(Deadline(options_.rpc_timeout));
  grpc::Status status = stub_->Register(&context, request, &response);
  if (!status.ok()) {
    if (retry_after != nullptr) *retry_after = RetryAfter(context, status);
    // gRPC and absl share code numbers: callers can tell a refusal from an outage.
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat("Register: ", Describe(status)));
  }
  absl::MutexLock lock(&mu_);
  if (response.heartbeat_interval_seconds() > 0) {
    heartbeat_interval_ = absl::Seconds(response.heartbeat_interval_seconds());
  }
  if (response.lease_seconds() > 0) lease_length_ = absl::Seconds(response.lease_seconds());
  Log("registered as ", options_.agent_id, " (heartbeat every ",
      absl::FormatDuration(heartbeat_interval_), ", lease ", absl::FormatDuration(lease_length_),
      ")");
  return absl::OkStatus();
}

absl::Status Agent::RegisterWithRetry() {
  Backoff backoff(options_.initial_backoff, options_.max_backoff);
  while (!draining()) {
    std::optional<absl::Duration> retry_after;
    absl::Status status = RegisterOnce(&retry_after);
    if (status.ok()) return status;
    if (IsPermanent(static_cast<grpc::StatusCode>(status.code()))) return status;
    // Full jitter: a fleet that lost its controller at once comes back spread out, and no
    // sooner than a busy controller asked.
    const absl::Duration wait = backoff.NextFullJitter(retry_after);
    Log(status.message(), "; retrying in ", Round(wait));
    if (SleepOrDrain(wait)) break;
  }
  return absl::CancelledError("drained before registering");
}

void Agent::HeartbeatLoop() {
  bool disconnected = false;
  while (true) {
    v1::HeartbeatRequest request;
    absl::Duration interval;
    {
      absl::MutexLock lock(&mu_);
      interval = heartbeat_interval_;
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_heartbeat_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), interval)) return;
      request.set_agent_id(options_.agent_id);
      request.set_state(drain_requests_ > 0 ? v1::AGENT_STATE_DRAINING : state_);
      request.set_job_id(job_id_);
    }
    request.set_spooled_results(static_cast<uint32_t>(spool_->Count()));
    if (options_.observers.spooled_results) {
      options_.observers.spooled_results(request.spooled_results());
    }
    v1::HeartbeatResponse response;
    grpc::ClientContext context;
    context.set_deadline(Deadline(options_.rpc_timeout));
    grpc::Status status = stub_->Heartbeat(&context, request, &response);
    if (!status.ok()) {
      if (!disconnected) Log("Heartbeat failed: ", Describe(status));
      disconnected = true;
      continue;
    }
    bool reconnected = disconnected;
    disconnected = false;
    if (response.reregister()) {
      Log("controller asked for re-registration");
      absl::Status registered = RegisterOnce();
      if (!registered.ok()) {
        Log(registered.message());
        continue;
      }
      reconnected = true;
    }
    if (reconnected) {
      if (options_.observers.reconnected) options_.observers.reconnected();
      absl::MutexLock lock(&mu_);
      deliver_spool_ = true;
    }
  }
}

absl::Status Agent::Run() {
  if (absl::Status status = controller::validation::ValidateAgentId(options_.agent_id, "agent_id");
      !status.ok()) {
    return status;
  }
  if (options_.poll_wait_seconds < 1 || options_.poll_wait_seconds > 60) {
    return absl::InvalidArgumentError(absl::StrCat("poll_wait_seconds: must be 1..60, got ",
                                                   options_.poll_wait_seconds));
  }
  absl::StatusOr<std::unique_ptr<ResultSpool>> spool = ResultSpool::Open(options_.spool_dir);
  if (!spool.ok()) return spool.status();
  spool_ = *std::move(spool);
  const v1::HostFingerprint host = CurrentHost();
  Log("agent ", options_.agent_id, " (", host.host_class(), ", kernel ",
      host.kernel_release(), " label ", host.kernel_label(), "), catalog of ",
      options_.catalog.size(), " benchmarks, ", spool_->Count(), " spooled results");

  if (absl::Status request = CheckRegisterRequest(); !request.ok()) return request;
  if (absl::Status registered = RegisterWithRetry(); !registered.ok()) {
    if (!absl::IsCancelled(registered)) return registered;
    Log(registered.message());
    return absl::OkStatus();
  }
  std::thread heartbeat([this] { HeartbeatLoop(); });
  DeliverSpool();

  Backoff poll_backoff(options_.initial_backoff, options_.max_backoff);
  while (!draining()) {
    if (options_.max_jobs > 0 && jobs_handled_.load() >= options_.max_jobs) break;
    bool deliver;
    {
      absl::MutexLock lock(&mu_);
      deliver = deliver_spool_;
    }
    if (deliver) DeliverSpool();
    PollOnce(&poll_backoff);
  }

  {
    absl::MutexLock lock(&mu_);
    stop_heartbeat_ = true;
  }
  heartbeat.join();
  Log("stopping after ", jobs_handled_.load(), " jobs; ", spool_->Count(),
      " results left spooled");
  return absl::OkStatus();
}

void Agent::PollOnce(Backoff* backoff) {
  v1::PollWorkRequest request;
  request.set_agent_id(options_.agent_id);
  request.set_wait_seconds(options_.poll_wait_seconds);
  v1::PollWorkResponse response;
  grpc::ClientContext context;
  context.set_deadline(
      Deadline(absl::Seconds(options_.poll_wait_seconds) + options_.rpc_timeout));
  {
    absl::MutexLock lock(&mu_);
    if (drain_requests_ > 0) return;
    poll_context_ = &context;
  }
  grpc::Status status = stub_->PollWork(&context, request, &response);
  {
    absl::MutexLock lock(&mu_);
    poll_context_ = nullptr;
  }
  if (!status.ok()) {
    if (draining()) return;
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
      // The controller forgot us (e.g. its store was reset).
      Log("PollWork: ", Describe(status), "; registering again");
      if (RegisterWithRetry().ok()) DeliverSpool();
      return;
    }
    const absl::Duration wait = backoff->NextFullJitter(RetryAfter(context, status));
    Log("PollWork failed: ", Describe(status), "; retrying in ", Round(wait));
    SleepOrDrain(wait);
    return;
  }
  backoff->Reset();
  if (response.has_assignment()) {
    HandleAssignment(response.assignment());
    return;
  }
  // A controller with all the long-polls it will hold answers at once with a (jittered) wait.
  if (std::optional<absl::Duration> wait = RetryAfter(context, status)) SleepOrDrain(*wait);
}

void Agent::RenewLoop(const v1::Assignment& assignment) {
  absl::Time deadline;
  absl::Duration lease_length;
  {
    absl::MutexLock lock(&mu_);
    lease_length = lease_length_;
  }
  deadline = assignment.has_lease_deadline() ? FromTimestamp(assignment.lease_deadline())
                                             : absl::Now() + lease_length;
  bool failing = false;
  while (true) {
    // Renewing at a third of the remaining time leaves two more tries before the lease ends.
    // After a failure the floor drops from 1 s to 250 ms: a controller back from a short
    // outage must see the renewal before the lease it last granted runs out.
    const absl::Duration floor = failing ? absl::Milliseconds(250) : absl::Seconds(1);
    const absl::Duration wait = std::max(floor, (deadline - absl::Now()) / 3);
    {
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_renewal_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), wait)) return;
    }
    v1::RenewLeaseRequest request;
    request.set_agent_id(options_.agent_id);
    request.set_job_id(assignment.job().id());
    request.set_lease_id(assignment.lease_id());
    v1::RenewLeaseResponse response;
    grpc::ClientContext context;
    context.set_deadline(Deadline(options_.rpc_timeout));
    // After a failure the shared channel waits out its reconnect backoff (up to 10 s, failing
    // every call at once meanwhile), which would outlast a short lease: retry on a connection
    // of its own, made now.
    std::unique_ptr<v1::AgentService::StubInterface> fresh;
    if (failing && options_.fresh_stub) fresh = options_.fresh_stub();
    grpc::Status status = (fresh ? fresh.get() : stub_.get())->RenewLease(&context, request,
                                                                           &response);
    if (status.ok()) {
      deadline = response.has_lease_deadline() ? FromTimestamp(response.lease_deadline())
                                               : absl::Now() + lease_length;
      if (failing) {
        // The controller is back: a result waiting in the spool goes now, not after its backoff.
        absl::MutexLock lock(&mu_);
        deliver_spool_ = true;
      }
      failing = false;
      continue;
    }
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
        status.error_code() == grpc::StatusCode::NOT_FOUND) {
      if (run_finished_.load()) {
        // Its result was stored (closing the job) while this renewal was on its way.
        return;
      }
      Log("lease on ", assignment.job().id(), " lost (", Describe(status),
          "); abandoning the run");
      abandon_.store(true);
      return;
    }
    if (!failing) Log("RenewLease failed: ", Describe(status), "; will retry");
    failing = true;
  }
}

void Agent::HandleAssignment(const v1::Assignment& assignment) {
  const v1::Job& job = assignment.job();
  Log("running ", job.id(), " attempt ", job.attempt(), ": ", job.invocation().benchmark());
  SetState(v1::AGENT_STATE_RUNNING, job.id());
  if (options_.observers.job_started) options_.observers.job_started();
  const absl::Time started = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    abandon_.store(drain_requests_ >= 2);
    stop_renewal_ = false;
  }
  run_finished_.store(false);

  Execution execution;
  // The lease is renewed from the start: provisioning a kernel can outlast a lease.
  std::thread renewal([this, &assignment] { RenewLoop(assignment); });
  absl::Status provisioned = absl::OkStatus();
  if (!assignment.required_kernel_label().empty() &&
      assignment.required_kernel_label() != CurrentHost().kernel_label()) {
    provisioned = Provision(assignment.required_kernel_label());
    SetState(v1::AGENT_STATE_RUNNING, job.id());
  }
  if (!provisioned.ok()) {
    execution.result.set_benchmark(job.invocation().benchmark());
    *execution.result.mutable_params() = job.invocation().params();
    execution.result.set_state(v1::RUN_STATE_FAILED);
    execution.result.set_diagnostic(std::string(provisioned.message()));
    execution.abandoned = abandon_.load();
  } else {
    execution = executor_.Run(job.invocation(), &abandon_);
  }
  // The host may have been provisioned into another kernel since the executor was made.
  *execution.result.mutable_host() = CurrentHost();
  // The lease is renewed until the result is delivered (below), so that a controller outage
  // shorter than the lease costs no work; an abandoned run's lease is let go at once.
  run_finished_.store(true);
  auto stop_renewal = [this, &renewal] {
    {
      absl::MutexLock lock(&mu_);
      stop_renewal_ = true;
    }
    renewal.join();
  };
  if (execution.abandoned) stop_renewal();
  jobs_handled_.fetch_add(1);
  SetState(v1::AGENT_STATE_IDLE, "");
  if (options_.observers.job_finished) {
    options_.observers.job_finished(job.invocation().benchmark(), execution.result.state(),
                                    absl::Now() - started);
  }

  if (execution.abandoned) {
    Log("abandoned ", job.id(), " attempt ", job.attempt(), "; its result is dropped");
    return;
  }
  Log("finished ", job.id(), ": ", v1::RunState_Name(execution.result.state()),
      execution.result.diagnostic().empty() ? "" : " (" + execution.result.diagnostic() + ")");

  v1::ReportResultRequest report;
  report.set_agent_id(options_.agent_id);
  report.set_job_id(job.id());
  report.set_attempt(job.attempt());
  report.set_lease_id(assignment.lease_id());
  *report.mutable_result() = std::move(execution.result);
  absl::StatusOr<std::string> spooled = spool_->Add(report);
  if (!spooled.ok()) {
    // A full or broken disk must not lose a result the controller can still take.
    Log("spooling ", job.id(), " failed: ", spooled.status().ToString(),
        "; reporting it directly");
    grpc::ClientContext context;
    context.set_deadline(Deadline(options_.rpc_timeout));
    v1::ReportResultResponse response;
    grpc::Status status = stub_->ReportResult(&context, report, &response);
    if (!status.ok()) Log("ReportResult for ", job.id(), " failed: ", Describe(status));
  }
  DeliverSpool();
  stop_renewal();
  if (options_.observers.spooled_results) options_.observers.spooled_results(spool_->Count());
}

void Agent::DeliverSpool() {
  {
    absl::MutexLock lock(&mu_);
    deliver_spool_ = false;
  }
  absl::StatusOr<std::vector<ResultSpool::Entry>> entries = spool_->List();
  if (!entries.ok()) {
    Log("reading the spool failed: ", entries.status().ToString());
    return;
  }
  for (const ResultSpool::Entry& entry : *entries) {
    Backoff backoff(options_.initial_backoff, options_.max_backoff);
    for (int attempt = 1;; ++attempt) {
      v1::ReportResultResponse response;
      grpc::ClientContext context;
      context.set_deadline(Deadline(options_.rpc_timeout));
      grpc::Status status = stub_->ReportResult(&context, entry.report, &response);
      if (status.ok()) {
        Log("reported ", entry.report.job_id(), " attempt ", entry.report.attempt(),
            response.stored() ? ": stored" : absl::StrCat(": not stored (", response.detail(), ")"));
        absl::Status removed = spool_->Remove(entry.name);
        if (!removed.ok()) Log(removed.ToString());
        break;
      }
      if (IsPermanent(status.error_code())) {
        Log("controller refused ", entry.report.job_id(), " attempt ", entry.report.attempt(),
            " (", Describe(status), "); moved to the spool's rejected/ directory");
        absl::Status rejected = spool_->Reject(entry.name);
        if (!rejected.ok()) Log(rejected.ToString());
        break;
      }
      const absl::Duration wait = backoff.NextFullJitter(RetryAfter(context, status));
      Log("ReportResult for ", entry.report.job_id(), " failed: ", Describe(status),
          "; retrying in ", Round(wait));
      if (draining()) {
        // Exiting beats waiting for a controller that may be down for long; the result stays
        // spooled for the next start.
        if (attempt >= 3) return;
        absl::SleepFor(std::min(wait, absl::Seconds(2)));
      } else {
        // The heartbeat thread flags a reconnect; retrying then, not after the full backoff,
        // gets the report in before its lease runs out.
        absl::MutexLock lock(&mu_);
        deliver_spool_ = false;
        auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return drain_requests_ > 0 || deliver_spool_;
        };
        mu_.AwaitWithTimeout(absl::Condition(&wake), wait);
      }
    }
  }
}

}  // namespace faultline::agent
