// Pieces the load benchmarks share: latency quantiles, the controller process's CPU and memory
// from /proc, bounded waiting, and starting a faultline-controller on a chosen port and store.
#ifndef FAULTLINE_TESTS_LOAD_LOAD_SUPPORT_H_
#define FAULTLINE_TESTS_LOAD_LOAD_SUPPORT_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"
#include "tests/testing/subprocess.h"

namespace faultline::load {

class Latencies {
 public:
  void Add(absl::Duration d);
  // "n=... p50=...ms p99=...ms max=...ms".
  std::string Summary();
  void Clear();

 private:
  absl::Mutex mu_;
  std::vector<double> us_ ABSL_GUARDED_BY(mu_);
};

struct ProcStats {
  double cpu_seconds = 0;
  int64_t rss_kib = 0;
  // Peak resident set since the process started (VmHWM).
  int64_t peak_rss_kib = 0;
  int threads = 0;
};

ProcStats ReadProc(pid_t pid);

// Connections for `agents` simulated agents, `agents_per_channel` to a connection. The
// controller bounds the calls open on one connection (--max_streams_per_connection, 32 by
// default) as a real agent, alone on its connection, never exceeds it with its 3; ten simulated
// agents with at most 3 calls open each stay within it too. More per connection and the
// connection's own bound, not the controller, holds their calls.
int ChannelsFor(int agents, int agents_per_channel);

// Polls `done` every 50 ms until it holds or `timeout` passes; returns its last value.
bool WaitFor(const std::function<bool()>& done, absl::Duration timeout);

// A faultline-controller subprocess on a store in `dir` (SQLite) or given by `store_flag`.
struct ControllerLaunch {
  std::string binary;
  std::string dir;
  // Empty: SQLite at dir/load.db. Otherwise one controller flag, e.g. --postgres=...
  std::string store_flag;
  int heartbeat_seconds = 10;
  // More controller flags (admission bounds, ...).
  std::vector<std::string> extra_flags;
};

// Starts the controller listening on 127.0.0.1:`port` (0 picks one) and waits until it
// serves; returns the port. `log_name` is a file in launch.dir.
absl::StatusOr<int> StartController(const ControllerLaunch& launch, int port,
                                    const std::string& log_name,
                                    faultline::testing::Subprocess* process);

// Runs callbacks after a delay on one thread, for simulated agents that retry after the
// controller's retry hint without a thread each. Pending calls are dropped when destroyed.
class DelayedCalls {
 public:
  DelayedCalls();
  ~DelayedCalls();
  void After(absl::Duration delay, std::function<void()> call);

 private:
  void Loop();
  struct Entry {
    absl::Time at;
    std::function<void()> call;
  };
  absl::Mutex mu_;
  std::vector<Entry> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// The registration a simulated agent sends: x86-64, kernel label "stock", one benchmark.
v1::RegisterRequest SimRegisterRequest(const std::string& agent_id);

// The value of trailing metadata `key` as milliseconds, if the server sent it.
std::optional<absl::Duration> TrailingMilliseconds(const grpc::ClientContext& ctx,
                                                   const std::string& key);

}  // namespace faultline::load

#endif  // FAULTLINE_TESTS_LOAD_LOAD_SUPPORT_H_
