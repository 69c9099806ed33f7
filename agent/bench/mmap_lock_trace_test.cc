// The tally on fixed event sequences, then the real tracepoints on this host: the runner's
// tracing repetition sees the stock kernel's mmap_lock retry of a major fault, none for
// anonymous faults beyond their own mmap/munmap, and says why when it cannot trace.
#include "agent/bench/mmap_lock_trace.h"

#include <grp.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/bench/runner.h"
#include "agent/bench/tracefs.h"
#include "gtest/gtest.h"
#include "agent/bench/emulation_for_tests.h"

namespace faultline::agent::bench {
namespace {

using Kind = MmapLockTally::Kind;

const MetricValue* FindMetric(const RepetitionResult& rep, const std::string& name) {
  for (const MetricValue& m : rep.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

double Metric(const RepetitionResult& rep, const std::string& name) {
  const MetricValue* m = FindMetric(rep, name);
  if (m == nullptr) ADD_FAILURE() << "no metric " << name;
  return m == nullptr ? -1 : m->value;
}

const Histogram* FindHistogram(const RepetitionResult& rep, const std::string& name) {
  for (const auto& [n, h] : rep.histograms) {
    if (n == name) return &h;
  }
  return nullptr;
}

bool Listed(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

TEST(MmapLockTallyTest, PairsWaitsAndWriteHoldsPerTaskAndMm) {
  MmapLockTally tally;
  // Task 10 (a faulter): a trylock that succeeds (no wait), then a blocking read that waits 300.
  tally.Add(10, 0xa, Kind::kAcquireReturned, false, true, 100);
  tally.Add(10, 0xa, Kind::kReleased, false, true, 150);
  tally.Add(10, 0xa, Kind::kStartLocking, false, true, 200);
  tally.Add(10, 0xa, Kind::kAcquireReturned, false, true, 500);
  tally.Add(10, 0xa, Kind::kReleased, false, true, 600);
  // Task 20 (a writer): write held 1000 then downgraded (the exclusive hold ends there), and a
  // nested lock of another mm (fork takes the child's mm inside the parent's) held 50.
  tally.Add(20, 0xa, Kind::kStartLocking, true, true, 1000);
  tally.Add(20, 0xa, Kind::kAcquireReturned, true, true, 1000);
  tally.Add(20, 0xb, Kind::kStartLocking, true, true, 1100);
  tally.Add(20, 0xb, Kind::kAcquireReturned, true, true, 1100);
  tally.Add(20, 0xb, Kind::kReleased, true, true, 1150);
  tally.Add(20, 0xa, Kind::kAcquireReturned, false, true, 2000);
  tally.Add(20, 0xa, Kind::kReleased, false, true, 2500);
  // Task 20 fails a trylock; task 30 belongs to no scope.
  tally.Add(20, 0xa, Kind::kAcquireReturned, false, false, 3000);
  tally.Add(30, 0xa, Kind::kAcquireReturned, true, true, 3000);

  RepetitionResult rep;
  AddTaskScope(rep, 10, "faulter", 4);
  AddTaskScope(rep, 20, "writer", 2);
  tally.Fill({{"faulter", "fault"}, {"writer", "op"}}, 0, rep);

  EXPECT_EQ(rep.counters.at("mmap_lock.faulter.read_acquisitions"), 2);
  EXPECT_EQ(rep.counters.at("mmap_lock.faulter.write_acquisitions"), 0);
  EXPECT_EQ(rep.counters.at("mmap_lock.faulter.blocking_acquisitions"), 1);
  EXPECT_DOUBLE_EQ(Metric(rep, "mmap_lock.faulter.acquisitions_per_fault"), 0.5);
  EXPECT_DOUBLE_EQ(Metric(rep, "mmap_lock.faulter.wait_ns_per_fault"), 75);
  ASSERT_NE(FindHistogram(rep, "mmap_lock.faulter.wait_ns"), nullptr);
  EXPECT_EQ(FindHistogram(rep, "mmap_lock.faulter.wait_ns")->total_count(), 1u);
  // No write hold: no hold quantile at all, rather than a zero.
  EXPECT_EQ(FindMetric(rep, "mmap_lock.faulter.write_hold_p50_ns"), nullptr);

  EXPECT_EQ(rep.counters.at("mmap_lock.writer.write_acquisitions"), 2);
  EXPECT_EQ(rep.counters.at("mmap_lock.writer.read_acquisitions"), 1);
  EXPECT_EQ(rep.counters.at("mmap_lock.writer.failed_acquisitions"), 1);
  EXPECT_DOUBLE_EQ(Metric(rep, "mmap_lock.writer.write_acquisitions_per_op"), 1);
  const Histogram* holds = FindHistogram(rep, "mmap_lock.writer.write_hold_ns");
  ASSERT_NE(holds, nullptr);
  EXPECT_EQ(holds->total_count(), 2u);
  EXPECT_EQ(holds->min(), 50u);
  EXPECT_EQ(holds->max(), 1000u);
  EXPECT_EQ(rep.counters.at("mmap_lock.lost_events"), 0);
  EXPECT_TRUE(rep.unavailable_counters.empty());
}

TEST(MmapLockTallyTest, LostEventsWithholdThePerOperationFigures) {
  MmapLockTally tally;
  tally.Add(10, 0xa, Kind::kAcquireReturned, false, true, 100);
  RepetitionResult rep;
  AddTaskScope(rep, 10, "faulter", 4);
  tally.Fill({{"faulter", "fault"}}, 17, rep);
  EXPECT_EQ(rep.counters.at("mmap_lock.lost_events"), 17);
  EXPECT_EQ(rep.counters.at("mmap_lock.faulter.read_acquisitions"), 1);
  EXPECT_EQ(FindMetric(rep, "mmap_lock.faulter.acquisitions_per_fault"), nullptr);
  EXPECT_TRUE(Listed(rep.unavailable_counters, "mmap_lock.faulter.acquisitions_per_fault"));
  EXPECT_NE(rep.unavailable_reasons.at(kMmapLockFamily).find("17 trace events were lost"),
            std::string::npos);
}

TEST(MmapLockNamesTest, CatalogAdvertisesEveryPerOperationMetricWithUnitAndDirection) {
  const std::vector<TraceScope> scopes = {{"contended.faulter", "fault"}};
  std::vector<MetricSpec> specs = MmapLockMetricSpecs(scopes);
  const BenchmarkInfo* info = FindBenchmark("mmap_writer_contention");
  ASSERT_NE(info, nullptr);
  for (const std::string name : {"mmap_lock.contended.faulter.acquisitions_per_fault",
                                 "mmap_lock.contended.writer.write_hold_p99_ns",
                                 "mmap_lock.baseline.faulter.read_acquisitions_per_fault"}) {
    auto it = std::find_if(info->metrics.begin(), info->metrics.end(),
                           [&](const MetricSpec& s) { return s.name == name; });
    ASSERT_NE(it, info->metrics.end()) << name;
    EXPECT_FALSE(it->unit.empty());
    EXPECT_EQ(it->direction, Direction::kLowerIsBetter);
  }
  EXPECT_TRUE(Listed(MmapLockNames(scopes), "mmap_lock.contended.faulter.read_acquisitions"));
}

// --- On this host's kernel ---

RunOptions TracingOptions() {
  RunOptions options;
  options.warmup = 0;
  options.repetitions = 1;
  options.trace_repetitions = 1;
  options.time_limit_seconds = 120;
  return options;
}

RunOutput RunNamed(const std::string& name, const Params& given, const RunOptions& options) {
  if (const char* tmp = getenv("TEST_TMPDIR")) setenv("FAULTLINE_BENCH_DIR", tmp, 1);
  absl::StatusOr<Params> params = ResolveParams(name, given);
  EXPECT_TRUE(params.ok()) << params.status();
  return RunBenchmark(name, *params, options);
}

// Tracing needs root and tracefs; elsewhere the unavailable path is what runs (tested below).
bool CanTrace(std::string* why) {
  absl::StatusOr<std::unique_ptr<MmapLockTracer>> tracer = MmapLockTracer::Open();
  if (!tracer.ok()) *why = std::string(tracer.status().message());
  return tracer.ok();
}

TEST(MmapLockTraceHostTest, ColdFileFaultsRetryUnderMmapLockOncePerMajorFault) {
  // The emulator's own mmap and fault handling (translation cache, guest page bookkeeping) take
  // mmap_lock in the same process, and it ignores MADV_RANDOM: the counts hold natively only.
  if (UnderQemuUser()) GTEST_SKIP() << "qemu-user takes mmap_lock for its own work";
  std::string why;
  if (!CanTrace(&why)) GTEST_SKIP() << "cannot trace here: " << why;
  RunOutput out = RunNamed("mmap_writer_contention", {{"faults", std::string("file_cold")},
                                                 {"threads", int64_t{1}},
                                                 {"region_mib", int64_t{4}},
                                                 {"duration_ms", int64_t{200}}},
                      TracingOptions());
  if (out.status == RunStatus::kSkipped) GTEST_SKIP() << out.diagnostic;
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  ASSERT_EQ(out.repetitions.size(), 1u);
  ASSERT_EQ(out.tracing_repetitions.size(), 1u);
  const RepetitionResult& traced = out.tracing_repetitions[0];
  // Tracing figures only: the tracing repetition's timing is not reported.
  EXPECT_EQ(FindMetric(traced, "fault_p99_ns"), nullptr);
  EXPECT_EQ(FindMetric(out.repetitions[0], "mmap_lock.contended.faulter.acquisitions_per_fault"),
            nullptr);
  ASSERT_EQ(traced.counters.at("mmap_lock.lost_events"), 0) << "buffer too small for the test";
  // A major fault under the per-VMA lock drops it for the I/O and retries under mmap_lock
  // (VM_FAULT_RETRY, then lock_mm_and_find_vma): about one read acquisition per fault, with
  // or without the writer.
  for (const std::string arm : {"baseline", "contended"}) {
    const std::string p = "mmap_lock." + arm + ".faulter.";
    EXPECT_GE(Metric(traced, p + "read_acquisitions_per_fault"), 0.9) << arm;
    EXPECT_LE(Metric(traced, p + "read_acquisitions_per_fault"), 1.5) << arm;
  }
  // The writer's mmap, mprotect and munmap each take mmap_lock for write and hold it a while.
  EXPECT_GE(Metric(traced, "mmap_lock.contended.writer.write_acquisitions_per_op"), 3);
  EXPECT_GT(Metric(traced, "mmap_lock.contended.writer.write_hold_p50_ns"), 0);
  const Histogram* holds = FindHistogram(traced, "mmap_lock.contended.writer.write_hold_ns");
  ASSERT_NE(holds, nullptr);
  EXPECT_GE(holds->total_count(),
            static_cast<uint64_t>(traced.counters.at("mmap_lock.contended.writer.write_acquisitions") - 1));
  // Nobody lists the tracing figures as unavailable.
  EXPECT_EQ(out.repetitions[0].unavailable_reasons.count(kMmapLockFamily), 0u);
}

TEST(MmapLockTraceHostTest, AnonymousFaultsTakeMmapLockOnlyAroundTheirOwnMmapAndMunmap) {
  // The emulator's own mmap and fault handling (translation cache, guest page bookkeeping) take
  // mmap_lock in the same process, and it ignores MADV_RANDOM: the counts hold natively only.
  if (UnderQemuUser()) GTEST_SKIP() << "qemu-user takes mmap_lock for its own work";
  std::string why;
  if (!CanTrace(&why)) GTEST_SKIP() << "cannot trace here: " << why;
  constexpr int64_t kPasses = 3, kThreads = 2;
  RunOutput out = RunNamed("fault_anon", {{"region_mib", int64_t{8}},
                                     {"passes", kPasses},
                                     {"threads", kThreads},
                                     {"thp", std::string("nohugepage")}},
                      TracingOptions());
  ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
  ASSERT_EQ(out.tracing_repetitions.size(), 1u);
  const RepetitionResult& traced = out.tracing_repetitions[0];
  ASSERT_EQ(traced.counters.at("mmap_lock.lost_events"), 0);
  const int64_t pairs = kPasses * kThreads;
  // Per pass: mmap (write), munmap (write, downgraded to read), and the region's first fault,
  // which needs an anon_vma and retries under mmap_lock once. Every other fault stays on the
  // per-VMA lock; madvise(MADV_NOHUGEPAGE) adds one more write. A small allowance covers
  // thread start-up.
  EXPECT_LE(traced.counters.at("mmap_lock.faulter.read_acquisitions"), 2 * pairs + 4);
  EXPECT_LE(traced.counters.at("mmap_lock.faulter.write_acquisitions"), 3 * pairs + 4);
  EXPECT_GE(traced.counters.at("mmap_lock.faulter.write_acquisitions"), 2 * pairs);
  EXPECT_LT(Metric(traced, "mmap_lock.faulter.acquisitions_per_fault"), 0.01);
}

TEST(MmapLockTraceHostTest, WithoutPermissionTheRunStillRunsAndSaysWhyTracingIsMissing) {
  if (geteuid() != 0) {
    // Already unprivileged: the run itself is the case under test.
    RunOutput out = RunNamed("fault_anon", {{"region_mib", int64_t{2}}, {"passes", int64_t{1}}},
                        TracingOptions());
    ASSERT_EQ(out.status, RunStatus::kOk) << out.diagnostic;
    EXPECT_TRUE(out.tracing_repetitions.empty());
    EXPECT_FALSE(out.repetitions[0].unavailable_reasons.at(kMmapLockFamily).empty());
    return;
  }
  // As root: a child drops to nobody first, runs, and reports through a pipe.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    RunOutput out = RunNamed("fault_anon", {{"region_mib", int64_t{2}}, {"passes", int64_t{1}}},
                        TracingOptions());
    std::string report = out.status == RunStatus::kOk ? "ok\n" : "failed: " + out.diagnostic;
    if (out.status == RunStatus::kOk) {
      const RepetitionResult& rep = out.repetitions[0];
      report += absl::StrCat("tracing_repetitions=", out.tracing_repetitions.size(), "\n");
      report += absl::StrCat(
          "listed=",
          Listed(rep.unavailable_counters, "mmap_lock.faulter.acquisitions_per_fault") ? 1 : 0,
          "\n");
      report += absl::StrCat("counted=", rep.counters.count("mmap_lock.faulter.read_acquisitions"),
                             "\n");
      auto reason = rep.unavailable_reasons.find(kMmapLockFamily);
      report += "reason=" + (reason == rep.unavailable_reasons.end() ? "" : reason->second);
    }
    (void)!write(fds[1], report.data(), report.size());
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) report.append(buf, n);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  EXPECT_EQ(report.substr(0, 3), "ok\n") << report;
  EXPECT_NE(report.find("tracing_repetitions=0\n"), std::string::npos) << report;
  EXPECT_NE(report.find("listed=1\n"), std::string::npos) << report;
  EXPECT_NE(report.find("counted=0\n"), std::string::npos) << report;
  // The reason names what failed: mounting tracefs or creating the instance.
  EXPECT_TRUE(report.find("Permission denied") != std::string::npos ||
              report.find("Operation not permitted") != std::string::npos)
      << report;
}

}  // namespace
}  // namespace faultline::agent::bench
