#include "agent/bench/tracefs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace faultline::agent::bench {
namespace {

constexpr const char* kTracefsMount = "/sys/kernel/tracing";

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat(path, ": ", strerror(errno)));
  std::string text;
  char buf[4096];
  for (int i = 0; i < 256; ++i) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return text;
}

// "key: value" lines of per_cpu/cpuN/stats.
uint64_t StatsField(absl::string_view text, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, key)) continue;
    if (!absl::ConsumePrefix(&line, ":")) continue;
    uint64_t value = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &value)) return value;
  }
  return 0;
}

uint32_t Load32(const char* p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

uint64_t Load64(const char* p) {
  uint64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

}  // namespace

absl::StatusOr<std::string> TracefsRoot() {
  const std::string root = kTracefsMount;
  if (Exists(root + "/events")) return root;
  if (!Exists(root)) {
    return absl::UnavailableError(
        absl::StrCat(root, " does not exist: this kernel has no tracefs (CONFIG_TRACING)"));
  }
  if (mount("nodev", root.c_str(), "tracefs", 0, nullptr) != 0) {
    return absl::UnavailableError(
        absl::StrCat("tracefs is not mounted at ", root, " and mounting it failed: ",
                     strerror(errno)));
  }
  if (!Exists(root + "/events")) {
    return absl::UnavailableError(absl::StrCat("tracefs at ", root, " has no events/"));
  }
  return root;
}

int EventFormat::Offset(absl::string_view field) const {
  for (const Field& f : fields) {
    if (f.name == field) return f.offset;
  }
  return -1;
}

int EventFormat::Size(absl::string_view field) const {
  for (const Field& f : fields) {
    if (f.name == field) return f.size;
  }
  return -1;
}

// Lines look like "ID: 675" and
// "\tfield:bool write;\toffset:24;\tsize:1;\tsigned:0;".
absl::StatusOr<EventFormat> ParseEventFormat(absl::string_view text) {
  EventFormat format;
  bool have_id = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "ID:")) {
      uint32_t id;
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &id) || id > 0xffff) {
        return absl::InvalidArgumentError(absl::StrCat("bad event id '", line, "'"));
      }
      format.id = static_cast<uint16_t>(id);
      have_id = true;
      continue;
    }
    if (!absl::StartsWith(line, "field:")) continue;
    EventFormat::Field field;
    bool have_offset = false, have_size = false;
    for (absl::string_view part : absl::StrSplit(line, ';', absl::SkipWhitespace())) {
      part = absl::StripAsciiWhitespace(part);
      if (absl::ConsumePrefix(&part, "field:")) {
        // The name is the last word of the declaration, without any array suffix.
        part = part.substr(0, part.find('['));
        const size_t space = part.find_last_of(" *");
        field.name = std::string(space == absl::string_view::npos ? part : part.substr(space + 1));
      } else if (absl::ConsumePrefix(&part, "offset:")) {
        have_offset = absl::SimpleAtoi(part, &field.offset);
      } else if (absl::ConsumePrefix(&part, "size:")) {
        have_size = absl::SimpleAtoi(part, &field.size);
      }
    }
    if (!field.name.empty() && have_offset && have_size) format.fields.push_back(field);
  }
  if (!have_id) return absl::InvalidArgumentError("event format has no ID");
  return format;
}

// The sub-buffer: u64 timestamp, local_t commit (data length; bits 30 and 31 flag missed
// events), then the data. Each event starts with a u32: type_len (5 bits) and time_delta
// (27 bits). type_len 1..28: data of type_len * 4 bytes follows; 0: a u32 length (data + 4)
// then the data; 29 padding (time_delta 0: the rest of the page is empty); 30 a time extend,
// 31 an absolute time stamp (both 8 bytes). Layout: events/header_page, events/header_event.
bool ParseRingBufferPage(const char* page, size_t size, int cpu, const RawEventFn& fn) {
  constexpr size_t kHeader = 16;
  if (size < kHeader) return false;
  uint64_t ts = Load64(page);
  const uint64_t length = Load64(page + 8) & ((1ull << 30) - 1);
  if (length > size - kHeader) return false;
  const char* p = page + kHeader;
  const char* const end = p + length;
  while (p + 4 <= end) {
    const uint32_t header = Load32(p);
    const uint32_t type_len = header & 0x1f;
    const uint32_t delta = header >> 5;
    switch (type_len) {
      case 29: {  // padding, or a discarded event
        if (delta == 0) return true;
        if (p + 8 > end) return false;
        p += 4 + Load32(p + 4);
        continue;
      }
      case 30:  // time extend
        if (p + 8 > end) return false;
        ts += (static_cast<uint64_t>(Load32(p + 4)) << 27) | delta;
        p += 8;
        continue;
      case 31:  // absolute time stamp
        if (p + 8 > end) return false;
        ts = (ts & (0x1full << 59)) | (static_cast<uint64_t>(Load32(p + 4)) << 27) | delta;
        p += 8;
        continue;
      default:
        break;
    }
    const char* data;
    size_t data_size;
    if (type_len == 0) {
      if (p + 8 > end) return false;
      const uint32_t len = Load32(p + 4);
      if (len < 4) return false;
      data = p + 8;
      data_size = len - 4;
    } else {
      data = p + 4;
      data_size = type_len * 4;
    }
    if (data + data_size > end) return false;
    ts += delta;
    fn(RawEvent{cpu, ts, data, data_size});
    p = data + data_size;
  }
  return true;
}

absl::StatusOr<std::unique_ptr<TraceInstance>> TraceInstance::Create(const Options& options) {
  absl::StatusOr<std::string> root = TracefsRoot();
  if (!root.ok()) return root.status();
  const std::string instances = *root + "/instances";
  if (!Exists(instances)) {
    return absl::UnavailableError(absl::StrCat(instances, " does not exist"));
  }
  RemoveStaleInstances(instances, "faultline-");
  const std::string dir = absl::StrCat(instances, "/", options.name);
  if (mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return absl::UnavailableError(absl::StrCat("trace instance ", dir, " is in use"));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot create trace instance ", dir, ": ", strerror(errno)));
  }
  std::unique_ptr<TraceInstance> instance(new TraceInstance(dir));
  for (const auto& [file, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"tracing_on", "0"},
           // One clock for every CPU, so events read per CPU can be merged in time order.
           {"trace_clock", "mono"},
           {"options/overwrite", "0"},
           {"buffer_size_kb", absl::StrCat(options.buffer_kb_per_cpu)}}) {
    if (absl::Status s = instance->Write(file, value); !s.ok()) return s;
  }
  for (const std::string& event : options.events) {
    const std::string enable = absl::StrCat("events/", event, "/enable");
    if (!Exists(absl::StrCat(dir, "/", enable))) {
      return absl::UnavailableError(
          absl::StrCat("this kernel has no ", event, " tracepoint"));
    }
    if (absl::Status s = instance->Write(enable, "1"); !s.ok()) return s;
  }
  return instance;
}

TraceInstance::~TraceInstance() {
  Write("tracing_on", "0").IgnoreError();
  // Every event off first: an instance with enabled events cannot be removed.
  Write("events/enable", "0").IgnoreError();
  rmdir(dir_.c_str());
}

absl::Status TraceInstance::Write(const std::string& file, const std::string& value) const {
  const std::string path = absl::StrCat(dir_, "/", file);
  const int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(absl::StrCat(path, ": ", strerror(errno)));
  const ssize_t n = write(fd, value.data(), value.size());
  const int error = errno;
  close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    return absl::UnavailableError(
        absl::StrCat("writing '", value, "' to ", path, ": ", strerror(error)));
  }
  return absl::OkStatus();
}

absl::StatusOr<EventFormat> TraceInstance::Format(const std::string& system_event) const {
  absl::StatusOr<std::string> text =
      ReadSmallFile(absl::StrCat(dir_, "/events/", system_event, "/format"));
  if (!text.ok()) return text.status();
  return ParseEventFormat(*text);
}

absl::Status TraceInstance::FilterToPid(pid_t pid) {
  if (absl::Status s = Write("options/event-fork", "1"); !s.ok()) return s;
  return Write("set_event_pid", absl::StrCat(pid));
}

absl::Status TraceInstance::Start() {
  // Opening "trace" with O_TRUNC empties every CPU's buffer and resets its counts.
  if (absl::Status s = Write("trace", ""); !s.ok()) return s;
  return Write("tracing_on", "1");
}

absl::Status TraceInstance::Stop() { return Write("tracing_on", "0"); }

std::vector<int> TraceInstance::Cpus() const {
  std::vector<int> cpus;
  DIR* d = opendir(absl::StrCat(dir_, "/per_cpu").c_str());
  if (d == nullptr) return cpus;
  while (dirent* entry = readdir(d)) {
    absl::string_view name = entry->d_name;
    int cpu;
    if (absl::ConsumePrefix(&name, "cpu") && absl::SimpleAtoi(name, &cpu)) cpus.push_back(cpu);
  }
  closedir(d);
  return cpus;
}

absl::StatusOr<uint64_t> TraceInstance::LostEvents() const {
  uint64_t lost = 0;
  for (int cpu : Cpus()) {
    absl::StatusOr<std::string> stats =
        ReadSmallFile(absl::StrCat(dir_, "/per_cpu/cpu", cpu, "/stats"));
    if (!stats.ok()) return stats.status();
    lost += StatsField(*stats, "overrun") + StatsField(*stats, "dropped events");
  }
  return lost;
}

absl::Status TraceInstance::ReadEvents(const RawEventFn& fn) const {
  size_t subbuf = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (absl::StatusOr<std::string> kb = ReadSmallFile(dir_ + "/buffer_subbuf_size_kb"); kb.ok()) {
    size_t value;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(*kb), &value) && value > 0) {
      subbuf = value << 10;
    }
  }
  std::string page(subbuf, '\0');
  for (int cpu : Cpus()) {
    const std::string path = absl::StrCat(dir_, "/per_cpu/cpu", cpu, "/trace_pipe_raw");
    const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return absl::UnavailableError(absl::StrCat(path, ": ", strerror(errno)));
    // A full buffer holds buffer_size_kb; the bound only guards against a buffer that refills.
    for (int64_t pages = 0; pages < (int64_t{1} << 24); ++pages) {
      const ssize_t n = read(fd, page.data(), page.size());
      if (n <= 0) break;
      if (!ParseRingBufferPage(page.data(), static_cast<size_t>(n), cpu, fn)) {
        close(fd);
        return absl::DataLossError(absl::StrCat(path, ": malformed ring buffer page"));
      }
    }
    close(fd);
  }
  return absl::OkStatus();
}

void RemoveStaleInstances(const std::string& root, const std::string& prefix) {
  DIR* d = opendir(root.c_str());
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (dirent* entry = readdir(d)) {
    absl::string_view name = entry->d_name;
    pid_t pid;
    if (!absl::ConsumePrefix(&name, prefix) || !absl::SimpleAtoi(name, &pid)) continue;
    if (kill(pid, 0) != 0 && errno == ESRCH) stale.push_back(entry->d_name);
  }
  closedir(d);
  for (const std::string& name : stale) {
    const std::string dir = absl::StrCat(root, "/", name);
    for (const char* file : {"/tracing_on", "/events/enable"}) {
      const int fd = open((dir + file).c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
      if (fd < 0) continue;
      (void)!write(fd, "0", 1);
      close(fd);
    }
    rmdir(dir.c_str());
  }
}

}  // namespace faultline::agent::bench
