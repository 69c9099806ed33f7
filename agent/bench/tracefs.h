// A private ftrace instance (tracefs instances/<name>): its own ring buffer, event switches and
// pid filter, so tracing a benchmark leaves every other tracer on the host undisturbed. Works
// wherever tracefs does: the host, and the lab's guests (busybox init, no perf binary).
// Interface: Documentation/trace/ftrace.rst ("Instances", "set_event_pid",
// "options/event-fork") and the ring buffer page layout in kernel/trace/ring_buffer.c.
#ifndef FAULTLINE_AGENT_BENCH_TRACEFS_H_
#define FAULTLINE_AGENT_BENCH_TRACEFS_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace faultline::agent::bench {

// Where tracefs is, mounting it at /sys/kernel/tracing when nothing is mounted there yet.
// Errors name the reason (no tracefs in this kernel, no permission to mount).
absl::StatusOr<std::string> TracefsRoot();

// An event's id and the byte offset of each of its fields, from events/<system>/<event>/format.
struct EventFormat {
  uint16_t id = 0;
  // Offset and size of a field by name ("common_pid", "write", ...); -1 when absent.
  int Offset(absl::string_view field) const;
  int Size(absl::string_view field) const;
  struct Field {
    std::string name;
    int offset = 0;
    int size = 0;
  };
  std::vector<Field> fields;
};
absl::StatusOr<EventFormat> ParseEventFormat(absl::string_view text);

// One raw event: its timestamp (trace clock ns) and its record (starting at common_type).
struct RawEvent {
  int cpu = 0;
  uint64_t timestamp = 0;
  const char* data = nullptr;
  size_t size = 0;
};
using RawEventFn = std::function<void(const RawEvent& event)>;

// Walks the events of one ring buffer sub-buffer as read from per_cpu/cpuN/trace_pipe_raw.
// Returns false when the page is malformed (its events up to there were delivered).
bool ParseRingBufferPage(const char* page, size_t size, int cpu, const RawEventFn& fn);

class TraceInstance {
 public:
  struct Options {
    // instances/<name>; an existing instance of that name is "in use" and refused.
    std::string name;
    // "system/event" names to enable.
    std::vector<std::string> events;
    // Ring buffer per CPU.
    uint64_t buffer_kb_per_cpu = 4096;
  };
  // Creates the instance with tracing off, overwrite off (a full buffer drops new events and
  // counts them, keeping the start of the run) and the events enabled.
  static absl::StatusOr<std::unique_ptr<TraceInstance>> Create(const Options& options);
  // Removes the instance.
  ~TraceInstance();
  TraceInstance(const TraceInstance&) = delete;
  TraceInstance& operator=(const TraceInstance&) = delete;

  const std::string& dir() const { return dir_; }
  absl::StatusOr<EventFormat> Format(const std::string& system_event) const;

  // Records only events of `pid` and, with event-fork, of the threads and processes it starts
  // from now on.
  absl::Status FilterToPid(pid_t pid);
  // Empties the buffer (and its lost-event counts), then turns recording on.
  absl::Status Start();
  absl::Status Stop();
  // Events lost since Start(): dropped because the buffer was full, or overwritten.
  absl::StatusOr<uint64_t> LostEvents() const;
  // Drains every CPU's buffer (call after Stop()).
  absl::Status ReadEvents(const RawEventFn& fn) const;

 private:
  explicit TraceInstance(std::string dir) : dir_(std::move(dir)) {}
  absl::Status Write(const std::string& file, const std::string& value) const;
  std::vector<int> Cpus() const;

  std::string dir_;
};

// Removes instances named "<prefix><pid>" whose process is gone (a run killed at its timeout
// cannot remove its own).
void RemoveStaleInstances(const std::string& root, const std::string& prefix);

}  // namespace faultline::agent::bench

#endif  // FAULTLINE_AGENT_BENCH_TRACEFS_H_
