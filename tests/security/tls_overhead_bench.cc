// What transport security costs an agent: the same controller served in plaintext (loopback) and
// over mutual TLS with an access policy, one agent heartbeating back to back, and fresh channels
// connecting (the TLS handshake an agent pays after every reconnect). Prints latencies and the
// TLS/plaintext ratios; no pass/fail.
//   bazel run -c opt //tests/security:tls_overhead_bench -- --heartbeats=5000 --connects=200
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "controller/controller_server.h"
#include "controller/security/access_policy.h"
#include "controller/security/transport.h"
#include "controller/store/sqlite_store.h"
#include "grpcpp/grpcpp.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"
#include "tests/testing/subprocess.h"

ABSL_FLAG(int, heartbeats, 3000, "Heartbeats per transport (1..1000000).");
ABSL_FLAG(int, connects, 100, "Fresh channel connections per transport (1..10000).");

namespace faultline {
namespace {

using controller::ControllerOptions;
using controller::ControllerServer;
using controller::security::AccessPolicy;
using controller::security::ClientTransport;

struct Figures {
  double heartbeat_p50_us = 0;
  double heartbeat_p99_us = 0;
  double connect_p50_us = 0;
  double connect_p99_us = 0;
};

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

absl::StatusOr<Figures> Measure(const ControllerOptions& options, const ClientTransport& client,
                                const std::string& db) {
  absl::StatusOr<std::unique_ptr<controller::Store>> store = controller::SqliteStore::Open(db);
  if (!store.ok()) return store.status();
  absl::StatusOr<std::unique_ptr<ControllerServer>> server =
      ControllerServer::Start(store->get(), options);
  if (!server.ok()) return server.status();
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());
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
  f.connect_p50_us = Quantile(us, 0.5);
  f.connect_p99_us = Quantile(us, 0.99);
  (*server)->Shutdown();
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
  absl::StatusOr<AccessPolicy> policy = AccessPolicy::Parse("cert bench-* agent\n", "bench");
  if (!policy.ok()) return 1;

  ControllerOptions plain_options;
  plain_options.listen = "127.0.0.1:0";
  ControllerOptions tls_options = plain_options;
  tls_options.transport.plaintext = false;
  tls_options.transport.cert_file = pki + "/controller.pem";
  tls_options.transport.key_file = pki + "/controller.key";
  tls_options.transport.client_ca_file = pki + "/ca.pem";
  tls_options.access_policy = *policy;
  ClientTransport tls_client;
  tls_client.ca_file = pki + "/ca.pem";
  tls_client.cert_file = pki + "/bench-agent.pem";
  tls_client.key_file = pki + "/bench-agent.key";

  absl::StatusOr<Figures> plain =
      Measure(plain_options, ClientTransport::LoopbackPlaintext(), dir + "/plain.db");
  absl::StatusOr<Figures> tls = Measure(tls_options, tls_client, dir + "/tls.db");
  if (!plain.ok() || !tls.ok()) {
    std::fprintf(stderr, "bench failed: %s %s\n", plain.status().ToString().c_str(),
                 tls.status().ToString().c_str());
    return 1;
  }
  std::printf("%d heartbeats and %d fresh connections per transport, one agent, loopback\n\n",
              absl::GetFlag(FLAGS_heartbeats), absl::GetFlag(FLAGS_connects));
  std::printf("%-22s %12s %12s %8s\n", "figure", "plaintext", "mTLS+policy", "ratio");
  auto row = [](const char* name, double a, double b) {
    std::printf("%-22s %10.1f us %10.1f us %8.2f\n", name, a, b, a > 0 ? b / a : 0);
  };
  row("heartbeat p50", plain->heartbeat_p50_us, tls->heartbeat_p50_us);
  row("heartbeat p99", plain->heartbeat_p99_us, tls->heartbeat_p99_us);
  row("connect p50", plain->connect_p50_us, tls->connect_p50_us);
  row("connect p99", plain->connect_p99_us, tls->connect_p99_us);
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
