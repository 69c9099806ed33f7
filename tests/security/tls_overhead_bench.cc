// What transport security costs: a faultline-controller served in plaintext (loopback) and over
// mutual TLS with an access policy, one agent heartbeating back to back, and fresh channels
// connecting (the handshake every agent pays after a reconnect, and the controller pays once per
// agent in a reconnect storm). Prints latencies, CPU per connection on each side and the
// TLS/plaintext ratios; no pass/fail.
//   bazel run -c opt //tests/security:tls_overhead_bench -- --heartbeats=5000 --connects=200
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "controller/security/transport.h"
#include "grpcpp/grpcpp.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"
#include "tests/testing/subprocess.h"

ABSL_FLAG(int, heartbeats, 3000, "Heartbeats per transport (1..1000000).");
ABSL_FLAG(int, connects, 100, "Fresh channel connections per transport (1..10000).");

namespace faultline {
namespace {

using controller::security::ClientTransport;

struct Figures {
  double heartbeat_p50_us = 0;
  double heartbeat_p99_us = 0;
  double connect_p50_us = 0;
  double connect_p99_us = 0;
  // What a connection burns (not how long it waits): on the client, and in the controller.
  double connect_cpu_us = 0;
  double connect_server_cpu_us = 0;
};

double CpuMicros() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// The controller's own CPU time (user + system) from /proc: what the server side pays.
double ProcessCpuMicros(pid_t pid) {
  const std::string stat = testing::ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/stat"));
  // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::vector<std::string> fields = absl::StrSplit(stat.substr(paren + 2), ' ');
  if (fields.size() < 13) return 0;
  const double ticks = std::strtod(fields[11].c_str(), nullptr) + std::strtod(fields[12].c_str(), nullptr);
  return ticks * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

absl::StatusOr<Figures> Measure(const std::vector<std::string>& transport_flags,
                                const ClientTransport& client, const std::string& dir,
                                const std::string& name) {
  std::vector<std::string> argv = {testing::RunfilePath("controller/faultline-controller"),
                                   "--listen=127.0.0.1:0", "--db=" + dir + "/" + name + ".db",
                                   "--port_file=" + dir + "/" + name + ".port",
                                   "--metrics_listen="};
  argv.insert(argv.end(), transport_flags.begin(), transport_flags.end());
  testing::Subprocess controller;
  if (absl::Status s = controller.Start(argv, dir + "/" + name + ".log"); !s.ok()) return s;
  absl::StatusOr<std::string> port =
      testing::WaitForFile(dir + "/" + name + ".port", absl::Seconds(30));
  if (!port.ok()) {
    return absl::UnavailableError(testing::ReadFileOrEmpty(dir + "/" + name + ".log"));
  }
  const std::string address = absl::StrCat("127.0.0.1:", *port);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
      controller::security::MakeChannelCredentials(client, address);
  if (!creds.ok()) return creds.status();

  auto stub = v1::AgentService::NewStub(grpc::CreateChannel(address, *creds));
  v1::RegisterRequest registration;
  registration.set_agent_id("bench-agent");
  v1::HostFingerprint* host = registration.mutable_host();
  host->set_hostname("bench-agent");
  host->set_arch(v1::ARCH_X86_64);
  host->set_kernel_release("6.1.0-bench");
  host->set_kernel_label("stock");
  host->set_host_class("bench");
  host->set_cpu_count(2);
  v1::RegisterResponse registered;
  grpc::ClientContext register_ctx;
  grpc::Status s = stub->Register(&register_ctx, registration, &registered);
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("Register: ", s.error_message()));

  Figures f;
  std::vector<double> us;
  v1::HeartbeatRequest beat;
  beat.set_agent_id("bench-agent");
  beat.set_state(v1::AGENT_STATE_IDLE);
  for (int i = 0; i < absl::GetFlag(FLAGS_heartbeats); ++i) {
    grpc::ClientContext ctx;
    v1::HeartbeatResponse answer;
    const absl::Time start = absl::Now();
    s = stub->Heartbeat(&ctx, beat, &answer);
    us.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
    if (!s.ok()) return absl::UnavailableError(absl::StrCat("Heartbeat: ", s.error_message()));
  }
  f.heartbeat_p50_us = Quantile(us, 0.5);
  f.heartbeat_p99_us = Quantile(us, 0.99);

  us.clear();
  const double cpu_before = CpuMicros();
  const double server_cpu_before = ProcessCpuMicros(controller.pid());
  for (int i = 0; i < absl::GetFlag(FLAGS_connects); ++i) {
    // A distinct channel argument keeps gRPC from sharing the previous subchannel.
    grpc::ChannelArguments args;
    args.SetInt("faultline.bench_connection", i);
    std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(address, *creds, args);
    const absl::Time start = absl::Now();
    if (!channel->WaitForConnected(absl::ToChronoTime(start + absl::Seconds(10)))) {
      return absl::UnavailableError("a fresh channel did not connect within 10 s");
    }
    us.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
  }
  f.connect_cpu_us = (CpuMicros() - cpu_before) / absl::GetFlag(FLAGS_connects);
  f.connect_server_cpu_us =
      (ProcessCpuMicros(controller.pid()) - server_cpu_before) / absl::GetFlag(FLAGS_connects);
  f.connect_p50_us = Quantile(us, 0.5);
  f.connect_p99_us = Quantile(us, 0.99);
  controller.Stop(SIGTERM);
  return f;
}

int Run() {
  const std::string dir = testing::MakeTempDir("tls-overhead");
  const std::string pki = dir + "/pki";
  const std::string script = testing::RunfilePath("controller/security/fleet_pki.sh");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"ca", pki}, {"server", pki, "controller", "IP:127.0.0.1"},
        {"client", pki, "bench-agent"}}) {
    std::vector<std::string> argv = {"/bin/bash", script};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::CommandResult r = testing::RunCommand(argv, absl::Seconds(60));
    if (r.exit_code != 0) {
      std::fprintf(stderr, "fleet_pki.sh failed: %s\n", r.errors.c_str());
      return 1;
    }
  }
  FILE* policy = std::fopen((dir + "/policy").c_str(), "w");
  if (policy == nullptr) return 1;
  std::fputs("cert bench-* agent\n", policy);
  std::fclose(policy);
  const std::vector<std::string> tls_flags = {
      "--tls_cert=" + pki + "/controller.pem", "--tls_key=" + pki + "/controller.key",
      "--client_ca=" + pki + "/ca.pem", "--access_policy=" + dir + "/policy"};
  ClientTransport tls_client;
  tls_client.ca_file = pki + "/ca.pem";
  tls_client.cert_file = pki + "/bench-agent.pem";
  tls_client.key_file = pki + "/bench-agent.key";

  absl::StatusOr<Figures> plain =
      Measure({"--plaintext"}, ClientTransport::LoopbackPlaintext(), dir, "plain");
  absl::StatusOr<Figures> tls = Measure(tls_flags, tls_client, dir, "tls");
  if (!plain.ok() || !tls.ok()) {
    std::fprintf(stderr, "bench failed: %s %s\n", plain.status().ToString().c_str(),
                 tls.status().ToString().c_str());
    return 1;
  }
  std::printf("%d heartbeats and %d fresh connections per transport, one agent, loopback\n\n",
              absl::GetFlag(FLAGS_heartbeats), absl::GetFlag(FLAGS_connects));
  std::printf("%-24s %12s %12s %8s\n", "figure", "plaintext", "mTLS+policy", "ratio");
  auto row = [](const char* name, double a, double b) {
    std::printf("%-24s %10.1f us %10.1f us %8.2f\n", name, a, b, a > 0 ? b / a : 0);
  };
  row("heartbeat p50", plain->heartbeat_p50_us, tls->heartbeat_p50_us);
  row("heartbeat p99", plain->heartbeat_p99_us, tls->heartbeat_p99_us);
  row("connect p50", plain->connect_p50_us, tls->connect_p50_us);
  row("connect p99", plain->connect_p99_us, tls->connect_p99_us);
  row("connect CPU, client", plain->connect_cpu_us, tls->connect_cpu_us);
  row("connect CPU, controller", plain->connect_server_cpu_us, tls->connect_server_cpu_us);
  return 0;
}

}  // namespace
}  // namespace faultline

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int heartbeats = absl::GetFlag(FLAGS_heartbeats);
  const int connects = absl::GetFlag(FLAGS_connects);
  if (heartbeats < 1 || heartbeats > 1000000 || connects < 1 || connects > 10000) {
    std::fprintf(stderr, "tls_overhead_bench: --heartbeats 1..1000000, --connects 1..10000\n");
    return 2;
  }
  return faultline::Run();
}
