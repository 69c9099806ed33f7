// Measures result ingestion through Store::RecordResult: samples stored per second, for SQLite
// and PostgreSQL. Not a test: it prints figures.
//
//   bazel run //controller/store:store_ingest_bench -- --backend=both
//   bazel run //controller/store:store_ingest_bench -- --backend=postgres
//       --postgres="host=/tmp/faultline-pg.XXXX port=28759 user=faultline dbname=postgres"
//
// Without --postgres it starts its own throwaway server (tests/postgres).
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "controller/store/postgres_store.h"
#include "controller/store/sqlite_store.h"
#include "controller/store/store_encoding.h"
#include "tests/postgres/postgres_server.h"

ABSL_FLAG(std::string, backend, "both", "sqlite, postgres or both");
ABSL_FLAG(int, results, 2000, "results recorded per backend (one job each)");
ABSL_FLAG(int, repetitions, 10, "repetitions per result");
ABSL_FLAG(int, metrics, 10, "metrics per repetition");
ABSL_FLAG(std::string, sqlite_path, "", "SQLite file (default: a new file in /tmp)");
ABSL_FLAG(std::string, postgres, "",
          "libpq connection string of an empty database (default: start a throwaway server)");
ABSL_FLAG(bool, postgres_durable, false,
          "when starting its own server: fsync and synchronous commits on");

namespace faultline::controller::store {
namespace {

// CPU time of process `root` and its children (a PostgreSQL server and its backends), from
// /proc; zero when `root` is not positive.
absl::Duration ProcessTreeCpuTime(pid_t root) {
  if (root <= 0) return absl::ZeroDuration();
  int64_t ticks = 0;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return absl::ZeroDuration();
  while (dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::ifstream in(absl::StrCat("/proc/", entry->d_name, "/stat"));
    std::string line;
    if (!std::getline(in, line)) continue;
    // Fields after the parenthesised command name: state ppid ... utime(14) stime(15).
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::vector<std::string> fields = absl::StrSplit(line.substr(close + 2), ' ');
    if (fields.size() < 13) continue;
    long pid = atol(entry->d_name);
    long ppid = atol(fields[1].c_str());
    if (pid != root && ppid != root) continue;
    ticks += atoll(fields[11].c_str()) + atoll(fields[12].c_str());
  }
  closedir(proc);
  return absl::Seconds(static_cast<double>(ticks) / sysconf(_SC_CLK_TCK));
}

absl::Duration ProcessCpuTime() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

v1::RunResult MakeResult(int repetitions, int metrics, absl::Time started) {
  v1::RunResult result;
  result.set_benchmark("fault_anon");
  result.set_state(v1::RUN_STATE_OK);
  result.mutable_host()->set_arch(v1::ARCH_X86_64);
  result.mutable_host()->set_kernel_label("stock");
  result.mutable_host()->set_kernel_release("6.1.0-27-amd64");
  result.mutable_host()->set_host_class("x86_64-2cpu-4g-kvm");
  *result.mutable_started() = ToProtoTime(started);
  *result.mutable_finished() = ToProtoTime(started + absl::Seconds(10));
  for (int r = 0; r < repetitions; ++r) {
    v1::Repetition* rep = result.add_repetitions();
    rep->set_index(r);
    for (int m = 0; m < metrics; ++m) {
      v1::MetricValue* metric = rep->add_metrics();
      metric->set_name(absl::StrCat("metric_", m));
      metric->set_unit("ns");
      metric->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
      metric->set_value(1000.0 + r * 3.5 + m);
    }
  }
  return result;
}

// Creates one campaign of `results` jobs, leases each and records its result; prints figures.
// `server_pid`, when positive, is a database server whose CPU time is added to the figures.
bool Run(const std::string& label, Store& store, pid_t server_pid = 0) {
  const int results = absl::GetFlag(FLAGS_results);
  const int repetitions = absl::GetFlag(FLAGS_repetitions);
  const int metrics = absl::GetFlag(FLAGS_metrics);
  const absl::Time t0 = absl::Now();
  v1::CampaignSpec spec;
  spec.set_name("ingest-bench");
  spec.add_targets()->set_kernel_label("stock");
  std::vector<v1::Job> jobs(results);
  for (int i = 0; i < results; ++i) jobs[i].set_sequence(i);
  absl::StatusOr<v1::Campaign> campaign = store.CreateCampaign(spec, jobs, t0);
  if (!campaign.ok()) {
    fprintf(stderr, "%s: CreateCampaign: %s\n", label.c_str(),
            campaign.status().ToString().c_str());
    return false;
  }
  absl::StatusOr<std::vector<v1::Job>> stored_jobs = store.ListJobs(campaign->id());
  if (!stored_jobs.ok()) return false;
  std::vector<v1::RunResult> payloads;
  for (int i = 0; i < 16; ++i) {
    payloads.push_back(MakeResult(repetitions, metrics, t0 + absl::Seconds(i)));
  }
  absl::Duration recording;
  const absl::Time start = absl::Now();
  const absl::Duration cpu_start = ProcessCpuTime();
  const absl::Duration server_cpu_start = ProcessTreeCpuTime(server_pid);
  for (int i = 0; i < results; ++i) {
    const std::string& job_id = (*stored_jobs)[i].id();
    const std::string lease = absl::StrCat("lease-", i);
    absl::StatusOr<bool> leased = store.LeaseJob(job_id, "agent", lease, t0 + absl::Hours(1), t0);
    if (!leased.ok() || !*leased) {
      fprintf(stderr, "%s: LeaseJob %s failed\n", label.c_str(), job_id.c_str());
      return false;
    }
    const absl::Time before = absl::Now();
    absl::StatusOr<ReportOutcome> outcome =
        store.RecordResult(job_id, 1, lease, "agent", payloads[i % payloads.size()], t0);
    recording += absl::Now() - before;
    if (!outcome.ok() || *outcome != ReportOutcome::kStored) {
      fprintf(stderr, "%s: RecordResult %s failed: %s\n", label.c_str(), job_id.c_str(),
              outcome.ok() ? "not stored" : outcome.status().ToString().c_str());
      return false;
    }
  }
  const absl::Duration total = absl::Now() - start;
  const absl::Duration cpu = ProcessCpuTime() - cpu_start;
  const absl::Duration server_cpu = ProcessTreeCpuTime(server_pid) - server_cpu_start;
  const double samples = static_cast<double>(results) * repetitions * metrics;
  // Wall-clock rates depend on what else the machine runs; CPU per result does not, and its
  // inverse is the rate one connection reaches on an otherwise idle machine.
  const double cpu_ms = absl::ToDoubleMilliseconds(cpu + server_cpu) / results;
  printf("%s: %d results x %d samples\n", label.c_str(), results, repetitions * metrics);
  printf("  wall:  %9.0f samples/s through RecordResult (%.2f ms/result), %.0f samples/s "
         "including LeaseJob\n",
         samples / absl::ToDoubleSeconds(recording),
         absl::ToDoubleMilliseconds(recording) / results, samples / absl::ToDoubleSeconds(total));
  printf("  cpu:   %.2f ms/result (store client %.2f%s) -> %.0f samples per CPU-second\n", cpu_ms,
         absl::ToDoubleMilliseconds(cpu) / results,
         server_pid > 0
             ? absl::StrFormat(", server %.2f", absl::ToDoubleMilliseconds(server_cpu) / results)
                   .c_str()
             : "",
         samples / (cpu_ms * results / 1000.0));
  return true;
}

int Main() {
  const std::string backend = absl::GetFlag(FLAGS_backend);
  if (backend != "sqlite" && backend != "postgres" && backend != "both") {
    fprintf(stderr, "--backend: must be sqlite, postgres or both, got '%s'\n", backend.c_str());
    return 2;
  }
  bool ok = true;
  if (backend != "postgres") {
    std::string path = absl::GetFlag(FLAGS_sqlite_path);
    const bool own_file = path.empty();
    if (own_file) path = absl::StrCat("/tmp/faultline-ingest-bench-", getpid(), ".db");
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
    if (!store.ok()) {
      fprintf(stderr, "sqlite: %s\n", store.status().ToString().c_str());
      return 1;
    }
    ok &= Run("sqlite (WAL, sync=NORMAL)", **store);
    store->reset();
    if (own_file) {
      for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
    }
  }
  if (backend != "sqlite") {
    std::string conninfo = absl::GetFlag(FLAGS_postgres);
    std::unique_ptr<testing::PostgresServer> server;
    std::string label = "postgres (given server)";
    if (conninfo.empty()) {
      testing::PostgresServer::Options options;
      options.durable = absl::GetFlag(FLAGS_postgres_durable);
      absl::StatusOr<std::unique_ptr<testing::PostgresServer>> started =
          testing::PostgresServer::Start(options);
      if (!started.ok()) {
        fprintf(stderr, "postgres: %s\n", started.status().ToString().c_str());
        return 1;
      }
      server = *std::move(started);
      absl::StatusOr<std::string> db = server->CreateDatabase("ingest_bench");
      if (!db.ok()) {
        fprintf(stderr, "postgres: %s\n", db.status().ToString().c_str());
        return 1;
      }
      conninfo = *db;
      label = options.durable ? "postgres 15 (durable)" : "postgres 15 (fsync off)";
    }
    absl::StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(conninfo);
    if (!store.ok()) {
      fprintf(stderr, "postgres: %s\n", store.status().ToString().c_str());
      return 1;
    }
    ok &= Run(label, **store, server ? server->pid() : 0);
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace faultline::controller::store

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return faultline::controller::store::Main();
}
