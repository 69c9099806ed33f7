#include "tests/load/load_support.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace faultline::load {

void Latencies::Add(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  us_.push_back(absl::ToDoubleMicroseconds(d));
}

std::string Latencies::Summary() {
  absl::MutexLock lock(&mu_);
  if (us_.empty()) return "n=0";
  std::sort(us_.begin(), us_.end());
  auto q = [&](double p) { return us_[std::min(us_.size() - 1, size_t(p * us_.size()))]; };
  return absl::StrFormat("n=%d p50=%.2fms p99=%.2fms max=%.2fms", us_.size(), q(0.5) / 1000,
                         q(0.99) / 1000, us_.back() / 1000);
}

void Latencies::Clear() {
  absl::MutexLock lock(&mu_);
  us_.clear();
}

ProcStats ReadProc(pid_t pid) {
  ProcStats s;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(stat, line);
  if (line.rfind(')') == std::string::npos) return s;
  // Fields after the command name (which may contain spaces) start after the last ')'.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoul(field);
    if (i == 15) stime = std::stoul(field);
  }
  s.cpu_seconds = double(utime + stime) / sysconf(_SC_CLK_TCK);
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::stoll(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) s.peak_rss_kib = std::stoll(line.substr(6));
    if (line.rfind("Threads:", 0) == 0) s.threads = std::stoi(line.substr(8));
  }
  return s;
}

int ChannelsFor(int agents, int agents_per_channel) {
  const int per = std::max(1, agents_per_channel);
  return std::max(1, (agents + per - 1) / per);
}

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return done();
}

absl::StatusOr<int> StartController(const ControllerLaunch& launch, int port,
                                    const std::string& log_name,
                                    faultline::testing::Subprocess* process) {
  const std::string port_file = absl::StrCat(launch.dir, "/port-", log_name);
  std::remove(port_file.c_str());
  std::vector<std::string> argv = {launch.binary,
                                   absl::StrCat("--listen=127.0.0.1:", port),
                                   "--db=" + launch.dir + "/load.db",
                                   "--port_file=" + port_file,
                                   "--metrics_listen=",
                                   absl::StrCat("--heartbeat_seconds=", launch.heartbeat_seconds)};
  // A controller that serves TLS by default must be told that loopback plaintext is meant.
  static const bool has_plaintext_flag =
      faultline::testing::RunCommand({launch.binary, "--helpfull"}, absl::Seconds(30))
          .output.find("-plaintext") != std::string::npos;
  if (has_plaintext_flag) argv.push_back("--plaintext");
  if (!launch.store_flag.empty()) argv.push_back(launch.store_flag);
  for (const std::string& flag : launch.extra_flags) argv.push_back(flag);
  const std::string log = absl::StrCat(launch.dir, "/", log_name, ".log");
  if (absl::Status s = process->Start(argv, log); !s.ok()) return s;
  absl::StatusOr<std::string> chosen =
      faultline::testing::WaitForFile(port_file, absl::Seconds(60));
  int value = 0;
  if (!chosen.ok() || !absl::SimpleAtoi(*chosen, &value)) {
    return absl::UnavailableError(absl::StrCat("controller did not start: ",
                                               faultline::testing::ReadFileOrEmpty(log)));
  }
  return value;
}

DelayedCalls::DelayedCalls() : thread_([this] { Loop(); }) {}

DelayedCalls::~DelayedCalls() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void DelayedCalls::After(absl::Duration delay, std::function<void()> call) {
  absl::MutexLock lock(&mu_);
  pending_.push_back(Entry{absl::Now() + delay, std::move(call)});
}

void DelayedCalls::Loop() {
  while (true) {
    std::vector<std::function<void()>> due;
    {
      absl::MutexLock lock(&mu_);
      auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping), absl::Milliseconds(5))) return;
      const absl::Time now = absl::Now();
      auto later = std::partition(pending_.begin(), pending_.end(),
                                  [now](const Entry& e) { return e.at > now; });
      for (auto it = later; it != pending_.end(); ++it) due.push_back(std::move(it->call));
      pending_.erase(later, pending_.end());
    }
    for (auto& call : due) call();
  }
}

v1::RegisterRequest SimRegisterRequest(const std::string& agent_id) {
  v1::RegisterRequest req;
  req.set_agent_id(agent_id);
  v1::HostFingerprint* host = req.mutable_host();
  host->set_arch(v1::ARCH_X86_64);
  host->set_kernel_release("6.18.0-sim");
  host->set_kernel_label("stock");
  host->set_host_class("sim");
  req.add_catalog()->set_name("synthetic");
  return req;
}

std::optional<absl::Duration> TrailingMilliseconds(const grpc::ClientContext& ctx,
                                                   const std::string& key) {
  const auto& trailers = ctx.GetServerTrailingMetadata();
  auto it = trailers.find(key);
  if (it == trailers.end()) return std::nullopt;
  int64_t ms = 0;
  if (!absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &ms) || ms < 0) {
    return std::nullopt;
  }
  return absl::Milliseconds(ms);
}

}  // namespace faultline::load
