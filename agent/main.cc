// faultline-agent: the daemon that runs faultline's benchmarks on a test machine for the
// controller. `faultline-agent --bench_child` is the hidden mode the daemon re-executes itself in
// for each benchmark run (see bench_child.h).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/strip.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "agent/agent.h"
#include "agent/bench/runner.h"
#include "agent/bench_child.h"
#include "agent/catalog_proto.h"
#include "agent/fingerprint.h"
#include "agent/log.h"
#include "agent/metrics/agent_metrics.h"
#include "agent/metrics/metrics_endpoint_flags.h"
#include "agent/metrics/metrics_exposer.h"
#include "controller/security/client_flags.h"
#include "controller/validation/request_validation.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, controller, "127.0.0.1:7070", "Controller address, host:port.");
ABSL_FLAG(std::string, agent_id, "",
          "Stable agent identifier, 1..128 of [A-Za-z0-9._:-]; default: the hostname.");
ABSL_FLAG(std::string, kernel_label_file, "",
          "File holding the running kernel's label (one line); read at start and after "
          "provisioning, and overrides --kernel_label when present. Boot scripts or the "
          "provisioning command keep it current.");
ABSL_FLAG(std::vector<std::string>, provisionable_kernels, {},
          "Comma-separated kernel labels this host can boot into on request.");
ABSL_FLAG(std::string, provision_command, "",
          "Shell command that boots the kernel labelled $1 (e.g. a kexec or reboot script); "
          "required with --provisionable_kernels.");
ABSL_FLAG(std::string, kernel_label, "stock",
          "Label of the running kernel: \"stock\" or \"patched/<series>\".");
ABSL_FLAG(std::vector<std::string>, tags, {}, "Comma-separated operator tags, e.g. rack-3,lab.");
ABSL_FLAG(std::string, host_class, "",
          "Hardware class; default derived as <arch>-<cpu>-<n>cpu-<GiB>g-<bare|hvm|tcg>.");
ABSL_FLAG(std::string, virtualization, "",
          "Override detected virtualization: none, hardware, emulated (a TCG guest) or "
          "emulated_icount (a TCG guest whose clock counts instructions; needs --icount_shift).");
ABSL_FLAG(int, icount_shift, -1,
          "qemu's -icount shift of an emulated_icount guest (guest ns per instruction = "
          "2^shift), part of its host class.");
ABSL_FLAG(std::string, spool_dir, "/var/spool/faultline-agent",
          "Directory where results wait until the controller acknowledges them.");
ABSL_FLAG(bool, bench_aslr, false,
          "Run benchmark children with address-space randomisation on (off by default, so a "
          "benchmark's memory layout is the same from run to run).");
ABSL_FLAG(int, max_jobs, 0, "Exit after this many jobs; 0 runs until SIGTERM/SIGINT.");
ABSL_FLAG(int, poll_wait_seconds, 20, "Long-poll wait for work, 1..60 s.");
ABSL_FLAG(std::string, metrics_listen, "",
          "Address to serve Prometheus metrics on at /metrics (host:port, e.g. 127.0.0.1:9465; "
          "port 0 picks a free port); empty serves none. Plain http unless --metrics_tls_cert "
          "is given.");
ABSL_FLAG(std::string, metrics_port_file, "",
          "If set, the chosen metrics port is written here once metrics are served.");
ABSL_FLAG(bool, print_fingerprint, false,
          "Print the host fingerprint and the benchmark catalog, then exit.");

namespace faultline::agent {
namespace {

constexpr char kAgentVersion[] = "faultline-agent 0.1.0";

int Fail(const std::string& message) {
  std::fprintf(stderr, "faultline-agent: %s\n", message.c_str());
  return 2;
}

int AgentMain(int argc, char** argv) {
  absl::SetProgramUsageMessage("Runs faultline benchmarks for the controller.");
  absl::ParseCommandLine(argc, argv);

  FingerprintOptions fingerprint_options;
  fingerprint_options.kernel_label = absl::GetFlag(FLAGS_kernel_label);
  fingerprint_options.host_class = absl::GetFlag(FLAGS_host_class);
  const std::string virt = absl::GetFlag(FLAGS_virtualization);
  if (virt == "none") {
    fingerprint_options.virtualization = v1::VIRTUALIZATION_NONE;
  } else if (virt == "hardware") {
    fingerprint_options.virtualization = v1::VIRTUALIZATION_HARDWARE;
  } else if (virt == "emulated") {
    fingerprint_options.virtualization = v1::VIRTUALIZATION_EMULATED;
  } else if (virt == "emulated_icount") {
    fingerprint_options.virtualization = v1::VIRTUALIZATION_EMULATED_ICOUNT;
  } else if (!virt.empty()) {
    return Fail("--virtualization: \"" + virt +
                "\" is not one of none, hardware, emulated, emulated_icount");
  }
  // The shift scales every time the guest measures, so a guest that does not say it has no
  // host class to join.
  const int icount_shift = absl::GetFlag(FLAGS_icount_shift);
  if (virt == "emulated_icount") {
    // The controller bounds it (Register's host.icount_shift).
    if (icount_shift < 0) return Fail("--icount_shift: needed with --virtualization=emulated_icount");
    fingerprint_options.icount_shift = static_cast<uint32_t>(icount_shift);
  } else if (icount_shift != -1) {
    return Fail("--icount_shift: only with --virtualization=emulated_icount");
  }
  const std::string label_file = absl::GetFlag(FLAGS_kernel_label_file);
  // The label file, when it exists, is the running kernel's word on its own label.
  auto read_label = [label_file](std::string fallback) -> std::string {
    if (label_file.empty()) return fallback;
    std::ifstream in(label_file);
    std::string line;
    if (in && std::getline(in, line)) {
      line = std::string(absl::StripAsciiWhitespace(line));
      if (!line.empty()) return line;
    }
    return fallback;
  };
  fingerprint_options.kernel_label = read_label(fingerprint_options.kernel_label);
  if (fingerprint_options.kernel_label.empty()) return Fail("--kernel_label: must not be empty");
  absl::StatusOr<v1::HostFingerprint> host = ReadHostFingerprint(fingerprint_options);
  if (!host.ok()) return Fail(host.status().ToString());

  AgentOptions options;
  options.agent_id = absl::GetFlag(FLAGS_agent_id);
  if (options.agent_id.empty()) options.agent_id = host->hostname();
  for (const std::string& tag : absl::GetFlag(FLAGS_tags)) {
    if (!tag.empty()) options.tags.push_back(tag);
  }
  options.agent_version = kAgentVersion;
  options.host = *host;
  for (const bench::BenchmarkInfo& info : bench::Catalog()) {
    options.catalog.push_back(BenchmarkSpecToProto(info));
  }
  if (absl::GetFlag(FLAGS_print_fingerprint)) {
    std::cout << host->DebugString();
    for (const v1::BenchmarkSpec& spec : options.catalog) std::cout << spec.DebugString();
    return 0;
  }
  for (const std::string& label : absl::GetFlag(FLAGS_provisionable_kernels)) {
    if (!label.empty()) options.provisionable_kernels.push_back(label);
  }
  options.provision_command = absl::GetFlag(FLAGS_provision_command);
  if (!options.provisionable_kernels.empty() && options.provision_command.empty()) {
    return Fail("--provisionable_kernels: needs --provision_command");
  }
  options.refingerprint = [fingerprint_options, read_label]() mutable {
    fingerprint_options.kernel_label = read_label(fingerprint_options.kernel_label);
    return ReadHostFingerprint(fingerprint_options);
  };
  options.executor.bench_aslr = absl::GetFlag(FLAGS_bench_aslr);
  options.spool_dir = absl::GetFlag(FLAGS_spool_dir);
  options.max_jobs = absl::GetFlag(FLAGS_max_jobs);
  if (options.max_jobs < 0) return Fail("--max_jobs: must be >= 0");
  const int wait = absl::GetFlag(FLAGS_poll_wait_seconds);
  if (wait < 1 || wait > 60) return Fail("--poll_wait_seconds: must be 1..60");
  options.poll_wait_seconds = static_cast<uint32_t>(wait);
  if (absl::Status status =
          controller::validation::ValidateAgentId(options.agent_id, "--agent_id");
      !status.ok()) {
    return Fail(status.ToString());
  }

  // Signals are taken by one thread with sigwait, so they are blocked before any thread (gRPC's
  // included) exists; children unblock them before exec.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);  // Only ever sent by this process, to end the signal thread.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Declared before the agent so that they outlive it.
  auto metrics = std::make_shared<agent::metrics::AgentMetrics>();
  std::unique_ptr<agent::metrics::MetricsExposer> exposer;
  if (const std::string listen = absl::GetFlag(FLAGS_metrics_listen); !listen.empty()) {
    auto started = agent::metrics::MetricsExposer::Start(
        agent::metrics::MetricsEndpointFromFlags(listen), metrics->registry());
    if (!started.ok()) return Fail("metrics endpoint: " + started.status().ToString());
    exposer = *std::move(started);
    if (const std::string file = absl::GetFlag(FLAGS_metrics_port_file); !file.empty()) {
      absl::Status written = agent::metrics::WritePortFile(file, exposer->port());
      if (!written.ok()) return Fail("--metrics_port_file: " + written.ToString());
    }
    Log("metrics on port ", exposer->port());
  }
  options.observers.state_changed = [metrics](v1::AgentState s) { metrics->SetState(s); };
  options.observers.job_started = [metrics] { metrics->JobStarted(); };
  options.observers.job_finished = [metrics](const std::string& benchmark, v1::RunState result,
                                             absl::Duration elapsed) {
    metrics->JobFinished(benchmark, result, elapsed);
  };
  options.observers.spooled_results = [metrics](int64_t n) { metrics->SetSpooledResults(n); };
  options.observers.reconnected = [metrics] { metrics->Reconnected(); };

  // gRPC's default reconnect backoff grows to 120 s; a spooled result whose lease is about to
  // run out cannot wait that long after the controller comes back.
  grpc::ChannelArguments channel_args;
  channel_args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 1000);
  channel_args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 10000);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      faultline::controller::security::ChannelCredentialsFromFlags(
          absl::GetFlag(FLAGS_controller));
  if (!credentials.ok()) {
    std::fprintf(stderr, "faultline-agent: %s\n", std::string(credentials.status().message()).c_str());
    return 2;
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(absl::GetFlag(FLAGS_controller), *credentials, channel_args);
  // A private subchannel pool: the new channel must not reuse the shared channel's subchannel,
  // which is the one waiting out its backoff.
  grpc::ChannelArguments fresh_args = channel_args;
  fresh_args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  options.fresh_stub = [target = absl::GetFlag(FLAGS_controller), credentials = *credentials,
                        fresh_args]() -> std::unique_ptr<v1::AgentService::StubInterface> {
    return v1::AgentService::NewStub(grpc::CreateCustomChannel(target, credentials, fresh_args));
  };
  Agent agent(std::move(options), v1::AgentService::NewStub(channel));
  // Joined before `agent` goes out of scope: a SIGTERM handled while Run() returns would
  // otherwise call into a destroyed agent (seen as a crash at exit under load).
  std::atomic<bool> exiting{false};
  std::thread signal_thread([&agent, &exiting, signals] {
    while (true) {
      int signo = 0;
      if (sigwait(&signals, &signo) != 0) continue;
      if (signo == SIGUSR1) {
        if (exiting.load()) return;
        continue;
      }
      Log("received ", strsignal(signo), "; draining (a second signal abandons the running job)");
      agent.RequestDrain();
    }
  });

  absl::Status status = agent.Run();
  exiting.store(true);
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  if (!status.ok()) return Fail(status.ToString());
  return 0;
}

}  // namespace
}  // namespace faultline::agent

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], faultline::agent::kBenchChildFlag) == 0) {
    return faultline::agent::BenchChildMain();
  }
  return faultline::agent::AgentMain(argc, argv);
}
