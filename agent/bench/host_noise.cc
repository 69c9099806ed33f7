#include "agent/bench/host_noise.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/bench/workers.h"

namespace faultline::agent::bench {
namespace {

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int64_t NsPerTick() {
  static const int64_t ns = 1'000'000'000 / std::max<long>(sysconf(_SC_CLK_TCK), 1);
  return ns;
}

// utime + stime of a task, ns; -1 when it is gone.
int64_t TaskCpuNs(int pid) {
  const std::string stat = ReadSmallFile(absl::StrCat("/proc/", pid, "/stat"));
  // The comm field may hold spaces; the fields after it start past the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  int64_t utime = 0, stime = 0;
  // state(3) ... utime is field 14, stime 15: 11 and 12 fields after the state.
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return (utime + stime) * NsPerTick();
}

constexpr const char* kDaemonCounters[] = {"host.khugepaged_ns", "host.kdamond_ns",
                                           "host.kcompactd_ns"};

const char* DaemonCounterFor(const std::string& comm) {
  if (comm == "khugepaged") return kDaemonCounters[0];
  if (absl::StartsWith(comm, "kdamond")) return kDaemonCounters[1];
  if (absl::StartsWith(comm, "kcompactd")) return kDaemonCounters[2];
  return nullptr;
}

}  // namespace

HostNoise::HostNoise() {
  // Kernel threads are children of kthreadd (pid 2); scanning /proc once per run is cheap.
  if (DIR* proc = opendir("/proc")) {
    while (dirent* entry = readdir(proc)) {
      const int pid = atoi(entry->d_name);
      if (pid <= 0) continue;
      std::string comm = ReadSmallFile(absl::StrCat("/proc/", pid, "/comm"));
      if (!comm.empty() && comm.back() == '\n') comm.pop_back();
      if (const char* counter = DaemonCounterFor(comm)) daemons_[counter].push_back(pid);
    }
    closedir(proc);
  }
  for (int cpu = 0; cpu < 1024; ++cpu) {
    const std::string file =
        absl::StrCat("/sys/devices/system/cpu/cpu", cpu, "/cpufreq/scaling_cur_freq");
    if (access(file.c_str(), R_OK) != 0) {
      if (access(absl::StrCat("/sys/devices/system/cpu/cpu", cpu).c_str(), F_OK) != 0) break;
      continue;
    }
    cpufreq_files_.push_back(file);
  }
}

HostNoise::Snapshot HostNoise::Read() const {
  Snapshot s;
  std::istringstream stat(ReadSmallFile("/proc/stat"));
  std::string cpu;
  int64_t value = 0;
  if (stat >> cpu && cpu == "cpu") {
    for (int i = 0; i < 8 && stat >> value; ++i) {
      if (i == 7) s["host.steal_ns"] = value * NsPerTick();
    }
  }
  for (const auto& [counter, pids] : daemons_) {
    int64_t sum = 0;
    for (int pid : pids) sum += std::max<int64_t>(TaskCpuNs(pid), 0);
    s[counter] = sum;
  }
  int64_t khz_min = INT64_MAX, khz_max = 0;
  for (const std::string& file : cpufreq_files_) {
    std::istringstream in(ReadSmallFile(file));
    if (in >> value) {
      khz_min = std::min(khz_min, value);
      khz_max = std::max(khz_max, value);
    }
  }
  if (khz_max > 0) {
    s["host.cpu_khz_min"] = khz_min;
    s["host.cpu_khz_max"] = khz_max;
  }
  s["sched.run_delay_ns"] = WorkersRunDelayNs();
  return s;
}

void HostNoise::Judge(const Snapshot& before, const Snapshot& after,
                      const NoiseThresholds& thresholds, RepetitionResult* out) const {
  auto delta = [&](const std::string& name, int64_t* value) {
    auto b = before.find(name);
    auto a = after.find(name);
    if (b == before.end() || a == after.end()) {
      out->unavailable_counters.push_back(name);
      return false;
    }
    *value = a->second - b->second;
    out->counters[name] = *value;
    return true;
  };
  const double wall = static_cast<double>(std::max<int64_t>(out->wall_ns, 1));
  auto disturbed = [&](const std::string& what, double share, double limit) {
    out->disturbances.push_back(
        absl::StrFormat("%s %.1f%% of the wall time (limit %.1f%%)", what, 100 * share,
                        100 * limit));
  };
  int64_t v = 0;
  if (delta("sched.run_delay_ns", &v) && v > thresholds.run_delay_share * wall) {
    disturbed("workers waited for a CPU", v / wall, thresholds.run_delay_share);
  }
  const long cpus = std::max<long>(sysconf(_SC_NPROCESSORS_ONLN), 1);
  if (delta("host.steal_ns", &v) && v > thresholds.steal_share * wall * cpus) {
    disturbed("steal time", v / (wall * cpus), thresholds.steal_share);
  }
  for (const char* daemon : kDaemonCounters) {
    if (daemons_.count(daemon) == 0) {
      out->unavailable_counters.push_back(daemon);
      continue;
    }
    if (delta(daemon, &v) && v > thresholds.daemon_share * wall) {
      // "host.khugepaged_ns" -> "khugepaged ran".
      const std::string name(daemon + 5, strlen(daemon) - 8);
      disturbed(absl::StrCat(name, " ran"), v / wall, thresholds.daemon_share);
    }
  }
  auto stall = out->counters.find("vmstat.compact_stall");
  if (stall != out->counters.end() && stall->second > 0) {
    out->disturbances.push_back(
        absl::StrCat("direct compaction stalled ", stall->second, " times on the host"));
  }
  auto lo_b = before.find("host.cpu_khz_min"), lo_a = after.find("host.cpu_khz_min");
  auto hi_b = before.find("host.cpu_khz_max"), hi_a = after.find("host.cpu_khz_max");
  if (lo_b == before.end() || lo_a == after.end()) {
    out->unavailable_counters.push_back("host.cpu_khz_min");
    out->unavailable_counters.push_back("host.cpu_khz_max");
  } else {
    const int64_t lo = std::min(lo_b->second, lo_a->second);
    const int64_t hi = std::max(hi_b->second, hi_a->second);
    out->counters["host.cpu_khz_min"] = lo;
    out->counters["host.cpu_khz_max"] = hi;
    if (hi > 0 && hi - lo > thresholds.frequency_change * hi) {
      out->disturbances.push_back(absl::StrCat("the CPU clock moved between ", lo / 1000, " and ",
                                               hi / 1000, " MHz"));
    }
  }
}

}  // namespace faultline::agent::bench
