// What tests read from this host at test time: /proc/meminfo and /proc/vmstat fields, and the
// processes a test process is parent of (with PR_SET_CHILD_SUBREAPER, every orphaned
// descendant of a run comes back to it, so "no children" means "nothing left behind").
#ifndef FAULTLINE_AGENT_HOST_PROBE_FOR_TESTS_H_
#define FAULTLINE_AGENT_HOST_PROBE_FOR_TESTS_H_

#include <dirent.h>
#include <errno.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace faultline::agent {

// A "name value" or "name: value kB" field of /proc/meminfo or /proc/vmstat; -1 when absent.
inline int64_t ProcField(const char* path, const std::string& name) {
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return -1;
  char line[256];
  int64_t value = -1;
  for (int i = 0; i < 1024 && std::fgets(line, sizeof(line), f) != nullptr; ++i) {
    const size_t n = name.size();
    if (std::strncmp(line, name.c_str(), n) == 0 && (line[n] == ':' || line[n] == ' ')) {
      value = std::strtoll(line + n + 1, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return value;
}

inline int64_t MemAvailableMib() { return ProcField("/proc/meminfo", "MemAvailable") / 1024; }

// Kernel OOM kills since boot (/proc/vmstat oom_kill), -1 on kernels without the counter.
inline int64_t OomKills() { return ProcField("/proc/vmstat", "oom_kill"); }

// Live (not zombie) processes whose parent is this process.
inline std::vector<int> LiveChildren() {
  std::vector<int> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  const int self = getpid();
  for (int i = 0; i < 1'000'000; ++i) {
    dirent* entry = readdir(proc);
    if (entry == nullptr) break;
    const int pid = std::atoi(entry->d_name);
    if (pid <= 0) continue;
    const std::string stat_path = "/proc/" + std::string(entry->d_name) + "/stat";
    FILE* f = std::fopen(stat_path.c_str(), "re");
    if (f == nullptr) continue;
    char buf[512] = {};
    const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the
    // last ')'.
    const char* close_paren = std::strrchr(buf, ')');
    char state = 0;
    int ppid = 0;
    if (close_paren == nullptr || std::sscanf(close_paren + 1, " %c %d", &state, &ppid) != 2) {
      continue;
    }
    if (ppid == self && state != 'Z' && state != 'X') pids.push_back(pid);
  }
  closedir(proc);
  return pids;
}

// Makes this process the reaper of its orphaned descendants.
inline void BecomeSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1); }

// Reaps exited children and waits (at most `max_wait_ms`) for the live ones to go. Returns the
// children still alive at the end (empty when nothing was left behind).
inline std::vector<int> WaitForNoChildren(int max_wait_ms) {
  for (int waited = 0;; waited += 20) {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    std::vector<int> live = LiveChildren();
    if (live.empty() || waited >= max_wait_ms) return live;
    timespec ts = {0, 20'000'000};
    nanosleep(&ts, nullptr);
  }
}

}  // namespace faultline::agent

#endif  // FAULTLINE_AGENT_HOST_PROBE_FOR_TESTS_H_
