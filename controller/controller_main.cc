// faultline-controller: schedules benchmark campaigns over registered agents and stores results.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/controller_server.h"
#include "agent/metrics/metrics_endpoint_flags.h"
#include "agent/metrics/metrics_exposer.h"
#include "controller/store/postgres_store.h"
#include "controller/store/sqlite_store.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7070",
          "Address to serve gRPC on (host:port; port 0 picks a free port). Loopback by default: "
          "expose it deliberately.");
ABSL_FLAG(bool, plaintext, false,
          "Serve gRPC without TLS and without access control. Refused unless --listen is a "
          "loopback address: for a single box (the quick start), never for a fleet.");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain the controller presents (TLS).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, client_ca, "",
          "PEM CA bundle that signs client certificates (agents' mutual TLS). Clients that "
          "present a certificate must present one this CA signed.");
ABSL_FLAG(std::string, access_policy, "",
          "Access policy file mapping client certificates and hashed bearer tokens to roles "
          "(agent, read, submit); required with TLS. SIGHUP re-reads it. See docs/security.md.");
ABSL_FLAG(std::string, db, "faultline.db", "SQLite database file (created if missing).");
ABSL_FLAG(std::string, postgres, "",
          "PostgreSQL connection string (libpq, e.g. \"host=db.lab port=5432 dbname=faultline\"); "
          "when set, the store is PostgreSQL instead of --db. Several controllers may share one.");
ABSL_FLAG(std::string, port_file, "",
          "If set, the chosen port is written here once the server is listening.");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "Address to serve Prometheus metrics on at /metrics (host:port; port 0 picks a free "
          "port; empty disables). Plain http unless --metrics_tls_cert is given.");
ABSL_FLAG(std::string, metrics_port_file, "",
          "If set, the chosen metrics port is written here once metrics are served.");
ABSL_FLAG(int, lease_seconds, 60, "Lease length granted to agents for a job (10..3600).");
ABSL_FLAG(int, heartbeat_seconds, 10, "Heartbeat interval asked of agents (1..300).");
ABSL_FLAG(int, max_attempts, 3, "Attempts per job before it is marked failed (1..20).");
ABSL_FLAG(int, max_concurrent_registers, 32,
          "Register calls executing at once; more are refused with RESOURCE_EXHAUSTED and a "
          "retry hint (0: unbounded).");
ABSL_FLAG(double, register_rate, 2000,
          "Registrations admitted per second on average (0: unlimited); a herd of agents "
          "reconnecting after a restart is spread out by retry hints instead of queued.");
ABSL_FLAG(int, register_burst, 500, "Registrations admitted back to back above --register_rate.");
ABSL_FLAG(int, max_concurrent_reports, 32,
          "ReportResult calls executing at once; more are refused with RESOURCE_EXHAUSTED and a "
          "retry hint (0: unbounded).");
ABSL_FLAG(int, max_parked_polls, 20000,
          "PollWork long-polls parked at once; over it a poll is answered at once with no work "
          "and a retry hint (0: unbounded).");
ABSL_FLAG(int, max_streams_per_connection,
          faultline::controller::ControllerOptions().max_streams_per_connection,
          "Calls one client connection may have open at once (HTTP/2 max concurrent streams); "
          "a client holds further calls until one of its own ends (0: gRPC's default, "
          "unbounded). An agent needs 3.");

namespace {

// Blocks SIGINT/SIGTERM (stop) and SIGHUP (reload the access policy) in every thread (threads
// inherit the mask) so main can sigwait for them: shutdown and reload then run as ordinary code
// instead of inside a signal handler.
sigset_t BlockHandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "faultline-controller: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "faultline-controller (--plaintext | --tls_cert=F --tls_key=F [--client_ca=F] "
      "--access_policy=F) [--listen=127.0.0.1:7070] [--db=FILE]");
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil is built with mutex deadlock detection on; its lock-graph bookkeeping
  // dominated the controller's profile under load (thousands of parked polls).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const sigset_t handled_signals = BlockHandledSignals();
  using faultline::controller::ControllerOptions;
  using faultline::controller::ControllerServer;

  const int lease = absl::GetFlag(FLAGS_lease_seconds);
  const int heartbeat = absl::GetFlag(FLAGS_heartbeat_seconds);
  const int attempts = absl::GetFlag(FLAGS_max_attempts);
  if (lease < 10 || lease > 3600) return Fail("--lease_seconds must be 10..3600");
  if (heartbeat < 1 || heartbeat > 300) return Fail("--heartbeat_seconds must be 1..300");
  if (attempts < 1 || attempts > 20) return Fail("--max_attempts must be 1..20");

  absl::StatusOr<std::unique_ptr<faultline::controller::store::Store>> store;
  const std::string postgres = absl::GetFlag(FLAGS_postgres);
  if (!postgres.empty()) {
    store = faultline::controller::store::PostgresStore::Open(postgres);
  } else {
    store = faultline::controller::store::SqliteStore::Open(absl::GetFlag(FLAGS_db));
  }
  if (!store.ok()) return Fail(std::string(store.status().ToString()));

  ControllerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.transport.plaintext = absl::GetFlag(FLAGS_plaintext);
  options.transport.cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.transport.key_file = absl::GetFlag(FLAGS_tls_key);
  options.transport.client_ca_file = absl::GetFlag(FLAGS_client_ca);
  if (options.transport.plaintext && !options.transport.cert_file.empty()) {
    return Fail("--plaintext and --tls_cert contradict each other: choose one");
  }
  if (const std::string path = absl::GetFlag(FLAGS_access_policy); !path.empty()) {
    absl::StatusOr<faultline::controller::security::AccessPolicy> policy =
        faultline::controller::security::AccessPolicy::Load(path);
    if (!policy.ok()) return Fail(std::string(policy.status().message()));
    options.access_policy = *std::move(policy);
  }
  options.lease = absl::Seconds(lease);
  options.heartbeat_interval = absl::Seconds(heartbeat);
  options.max_attempts = static_cast<uint32_t>(attempts);
  options.max_concurrent_registers = absl::GetFlag(FLAGS_max_concurrent_registers);
  options.register_rate_per_second = absl::GetFlag(FLAGS_register_rate);
  options.register_burst = absl::GetFlag(FLAGS_register_burst);
  options.max_concurrent_reports = absl::GetFlag(FLAGS_max_concurrent_reports);
  options.max_parked_polls = absl::GetFlag(FLAGS_max_parked_polls);
  options.max_streams_per_connection = absl::GetFlag(FLAGS_max_streams_per_connection);
  if (options.max_concurrent_registers < 0 || options.max_concurrent_reports < 0 ||
      options.max_parked_polls < 0 || options.register_rate_per_second < 0 ||
      options.register_burst < 0 || options.max_streams_per_connection < 0) {
    return Fail("--max_concurrent_registers, --register_rate, --register_burst, "
                "--max_concurrent_reports, --max_parked_polls and --max_streams_per_connection "
                "must be >= 0");
  }
  options.metrics =
      faultline::agent::metrics::MetricsEndpointFromFlags(absl::GetFlag(FLAGS_metrics_listen));
  auto server = ControllerServer::Start(store->get(), options);
  if (!server.ok()) return Fail(std::string(server.status().ToString()));

  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty()) {
    // Written to a temporary name and renamed so a reader never sees a partial port.
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << (*server)->port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  const std::string metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  if (!metrics_port_file.empty() && (*server)->metrics_port() != 0) {
    absl::Status s =
        faultline::agent::metrics::WritePortFile(metrics_port_file, (*server)->metrics_port());
    if (!s.ok()) return Fail(std::string(s.ToString()));
  }
  std::fprintf(stderr, "faultline-controller: serving on port %d, metrics on port %d, store %s\n",
               (*server)->port(), (*server)->metrics_port(), (postgres.empty() ? absl::GetFlag(FLAGS_db) : std::string("postgres")).c_str());

  const std::string policy_path = absl::GetFlag(FLAGS_access_policy);
  if (!policy_path.empty()) {
    std::fprintf(stderr, "faultline-controller: access policy %s: %s\n", policy_path.c_str(),
                 options.access_policy->Summary().c_str());
  }
  int signo = 0;
  while (sigwait(&handled_signals, &signo) == 0 && signo == SIGHUP) {
    if (policy_path.empty()) {
      std::fprintf(stderr, "faultline-controller: SIGHUP ignored: no --access_policy to reload\n");
      continue;
    }
    // A broken file keeps the policy in force: a typo must not lock the fleet out.
    absl::StatusOr<faultline::controller::security::AccessPolicy> policy =
        faultline::controller::security::AccessPolicy::Load(policy_path);
    absl::Status reloaded = policy.ok() ? (*server)->ReloadAccessPolicy(*policy) : policy.status();
    if (reloaded.ok()) {
      std::fprintf(stderr, "faultline-controller: access policy reloaded: %s\n",
                   policy->Summary().c_str());
    } else {
      std::fprintf(stderr, "faultline-controller: access policy not reloaded, keeping the current "
                   "one: %s\n", std::string(reloaded.message()).c_str());
    }
  }
  std::fprintf(stderr, "faultline-controller: shutting down\n");
  (*server)->Shutdown();
  return 0;
}
