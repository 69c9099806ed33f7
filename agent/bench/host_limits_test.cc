#include "agent/bench/host_limits.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "agent/bench/runner.h"
#include "agent/bench/benchmark_definition.h"
#include "agent/bench/params.h"
#include "gtest/gtest.h"

namespace faultline::agent::bench {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

// A small test box: 3120 MiB available, 2 CPUs, 1000 MiB free on the scratch disk.
HostCapacity SmallBox() {
  HostCapacity host;
  host.mem_available_bytes = 3120 * kMiB;
  host.online_cpus = 2;
  host.scratch_free_bytes = 1000 * kMiB;
  host.scratch_dir = "/var/tmp";
  return host;
}

ResourceDemand DemandOf(const std::string& benchmark, const Params& given) {
  absl::StatusOr<Params> params = ResolveParams(benchmark, given);
  EXPECT_TRUE(params.ok()) << params.status();
  for (const BenchmarkDefinition& def : Definitions()) {
    if (def.info.name == benchmark) return def.demand(*params);
  }
  ADD_FAILURE() << "no benchmark " << benchmark;
  return ResourceDemand();
}

absl::Status CheckOnSmallBox(const std::string& benchmark, const Params& given) {
  return CheckDemand(DemandOf(benchmark, given), HostLimits(), SmallBox());
}

void ExpectRefusedMentioning(const absl::Status& status, std::initializer_list<const char*> parts) {
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  for (const char* part : parts) {
    EXPECT_NE(status.message().find(part), std::string::npos)
        << "'" << part << "' missing from: " << status.message();
  }
}

TEST(HostLimitsTest, MemoryOverHalfOfMemAvailableIsRefusedNamingTheParams) {
  EXPECT_TRUE(CheckOnSmallBox("fault_anon", {{"region_mib", int64_t{1000}}}).ok());
  ExpectRefusedMentioning(
      CheckOnSmallBox("fault_anon", {{"region_mib", int64_t{65536}}, {"threads", int64_t{2}}}),
      {"region_mib x threads (65536 MiB x 2)", "131072 MiB", "50% of MemAvailable",
       "(1560 of 3120 MiB)"});
  // Below the limit per worker, over it once multiplied by the workers.
  ExpectRefusedMentioning(
      CheckOnSmallBox("fault_anon", {{"region_mib", int64_t{400}}, {"threads", int64_t{4}}}),
      {"region_mib x threads (400 MiB x 4)", "1600 MiB"});
  ExpectRefusedMentioning(CheckOnSmallBox("fault_swapin", {{"region_mib", int64_t{2000}}}),
                          {"region_mib", "MemAvailable"});
  ExpectRefusedMentioning(CheckOnSmallBox("fork_mapped", {{"touched_mib", int64_t{2000}}}),
                          {"touched_mib (2000 MiB", "MemAvailable"});
  ExpectRefusedMentioning(
      CheckOnSmallBox("fork_fault_contention",
                      {{"region_mib", int64_t{1024}}, {"threads", int64_t{2}}}),
      {"region_mib x threads (1024 MiB x 2)", "MemAvailable"});
  // The forking parent's extra memory and the writer's populated range count on top.
  ExpectRefusedMentioning(
      CheckOnSmallBox("fork_fault_contention",
                      {{"region_mib", int64_t{8}}, {"touched_mib", int64_t{1600}}}),
      {"region_mib x threads (8 MiB x 1) + touched_mib (1600 MiB, with page tables)",
       "MemAvailable"});
  ExpectRefusedMentioning(
      CheckOnSmallBox("mmap_writer_contention",
                      {{"region_mib", int64_t{1400}}, {"writer_pages", int64_t{262144}}}),
      {"region_mib x threads (1400 MiB x 1) + writer_pages (262144)", "MemAvailable"});
  EXPECT_TRUE(CheckOnSmallBox("mmap_writer_contention",
                              {{"region_mib", int64_t{1400}}, {"writer_pages", int64_t{1024}}})
                  .ok());
}

TEST(HostLimitsTest, PrivateFileWritesCountACopyPerWorker) {
  const Params given = {{"region_mib", int64_t{500}}, {"threads", int64_t{4}}};
  // Shared: the page cache once. Private writes: the page cache plus four copies.
  EXPECT_EQ(DemandOf("fault_file_shared", given).memory_bytes, 500 * kMiB);
  EXPECT_EQ(DemandOf("fault_file_private", given).memory_bytes, 2500 * kMiB);
  Params read = given;
  read["access"] = std::string("read");
  EXPECT_EQ(DemandOf("fault_file_private", read).memory_bytes, 500 * kMiB);
  ExpectRefusedMentioning(CheckOnSmallBox("fault_file_private", given),
                          {"region_mib x (threads + 1) (500 MiB x 5", "MemAvailable"});
}

TEST(HostLimitsTest, ThreadsBeyondFourPerCpuAreRefused) {
  // 2 CPUs: at most 8 threads/processes at once.
  EXPECT_TRUE(CheckOnSmallBox("fault_anon", {{"region_mib", int64_t{1}},
                                             {"threads", int64_t{8}}}).ok());
  ExpectRefusedMentioning(
      CheckOnSmallBox("fault_anon", {{"region_mib", int64_t{1}},
                                     {"threads", int64_t{9}},
                                     {"mode", std::string("process")}}),
      {"threads (9)", "9 threads/processes", "more than 8", "4 per online CPU x 2 CPUs"});
  ExpectRefusedMentioning(
      CheckOnSmallBox("mmap_munmap", {{"threads", int64_t{200}}}), {"threads (200)"});
  // The disturbing thread and the child it forks count too.
  ExpectRefusedMentioning(
      CheckOnSmallBox("fork_fault_contention", {{"region_mib", int64_t{1}},
                                                {"threads", int64_t{7}}}),
      {"threads (7) + the forking thread and its child", "9 threads/processes"});
  EXPECT_TRUE(CheckOnSmallBox("mmap_writer_contention", {{"region_mib", int64_t{1}},
                                                         {"threads", int64_t{7}}}).ok());
}

TEST(HostLimitsTest, TaskCapHoldsWhateverTheCpuCount) {
  HostCapacity big = SmallBox();
  big.online_cpus = 1024;
  big.mem_available_bytes = uint64_t{1} << 50;
  ResourceDemand demand = DemandOf("fault_anon", {{"region_mib", int64_t{1}},
                                                  {"threads", int64_t{256}}});
  EXPECT_TRUE(CheckDemand(demand, HostLimits(), big).ok());
  demand.tasks = 513;
  ExpectRefusedMentioning(CheckDemand(demand, HostLimits(), big), {"at most 512"});
}

TEST(HostLimitsTest, ScratchFilesOverHalfTheFreeSpaceAreRefused) {
  // 1000 MiB free: a run may write 500 MiB.
  EXPECT_TRUE(CheckOnSmallBox("fault_file_shared", {{"region_mib", int64_t{500}}}).ok());
  ExpectRefusedMentioning(
      CheckOnSmallBox("fault_file_shared", {{"region_mib", int64_t{600}}}),
      {"region_mib (600 MiB)", "writes 600 MiB to /var/tmp", "50% of its free space",
       "(500 of 1000 MiB)"});
  // One file per worker.
  ExpectRefusedMentioning(
      CheckOnSmallBox("fault_file_cold", {{"region_mib", int64_t{200}}, {"threads", int64_t{3}}}),
      {"region_mib x threads (200 MiB x 3)", "writes 600 MiB"});
  ExpectRefusedMentioning(
      CheckOnSmallBox("mmap_writer_contention", {{"region_mib", int64_t{300}},
                                                 {"threads", int64_t{4}},
                                                 {"faults", std::string("mixed")}}),
      {"region_mib x 2 cold files (300 MiB x 2, faults=mixed)", "writes 600 MiB"});
  // Anonymous faults and sparse files write nothing.
  EXPECT_EQ(DemandOf("fork_fault_contention", {{"region_mib", int64_t{300}}}).scratch_bytes, 0u);
  EXPECT_EQ(DemandOf("mmap_munmap", {{"region_mib", int64_t{65536}},
                                     {"backing", std::string("file")}}).scratch_bytes,
            0u);
}

TEST(HostLimitsTest, EveryBenchmarkDeclaresItsDemandForItsDefaults) {
  for (const BenchmarkDefinition& def : Definitions()) {
    ASSERT_NE(def.demand, nullptr) << def.info.name;
    absl::StatusOr<Params> defaults = ResolveParams(def.info.name, {});
    ASSERT_TRUE(defaults.ok()) << defaults.status();
    const ResourceDemand demand = def.demand(*defaults);
    EXPECT_GT(demand.memory_bytes, 0u) << def.info.name;
    EXPECT_FALSE(demand.memory_from.empty()) << def.info.name;
    EXPECT_GE(demand.tasks, 1) << def.info.name;
    EXPECT_FALSE(demand.tasks_from.empty()) << def.info.name;
    if (demand.scratch_bytes > 0) {
      EXPECT_FALSE(demand.scratch_from.empty()) << def.info.name;
    }
  }
}

TEST(HostLimitsTest, LimitsThemselvesAreValidated) {
  HostLimits limits;
  limits.max_memory_share = 1.5;
  EXPECT_EQ(ValidateLimits(limits).code(), absl::StatusCode::kInvalidArgument);
  limits.max_memory_share = 0.5;
  limits.max_scratch_share = 0;
  EXPECT_NE(ValidateLimits(limits).message().find("max_scratch_share"), std::string::npos);
  limits.max_scratch_share = 0.5;
  limits.max_tasks_per_cpu = 0;
  EXPECT_FALSE(ValidateLimits(limits).ok());
}

TEST(HostLimitsTest, ReadsThisHost) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : "/tmp";
  absl::StatusOr<HostCapacity> host = ReadHostCapacity(dir);
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_GT(host->mem_available_bytes, 0u);
  EXPECT_EQ(host->online_cpus, sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_GT(host->scratch_free_bytes, 0u);
  EXPECT_FALSE(ReadHostCapacity("/no/such/dir").ok());
  // Without a scratch directory the disk is not looked at.
  EXPECT_TRUE(ReadHostCapacity("").ok());
}

TEST(HostLimitsTest, ScratchSpaceCheckUsesTheRealFreeSpace) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : "/tmp";
  absl::StatusOr<uint64_t> free_bytes = FreeBytesAt(dir);
  ASSERT_TRUE(free_bytes.ok()) << free_bytes.status();
  EXPECT_TRUE(CheckScratchSpace(dir, kMiB, 0.5).ok());
  ExpectRefusedMentioning(CheckScratchSpace(dir, *free_bytes, 0.5),
                          {"scratch file", "50% of the free space in"});
}

}  // namespace
}  // namespace faultline::agent::bench
