#include "agent/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace faultline::agent {
namespace {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  void Reset(int fd) {
    Close();
    fd_ = fd;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

absl::Status MakePipe(Fd* read_end, Fd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  read_end->Reset(fds[0]);
  write_end->Reset(fds[1]);
  return absl::OkStatus();
}

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Runs in the forked child: only async-signal-safe calls until exec.
[[noreturn]] void ExecChild(char* const* argv, int stdin_fd, int stdout_fd, int stderr_fd,
                            bool disable_aslr) {
  setpgid(0, 0);
  // The personality is inherited across exec; the layout of the new image follows it.
  if (disable_aslr) personality(ADDR_NO_RANDOMIZE);
  // The parent may block signals for a signal-handling thread; a benchmark starts clean.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP}) signal(sig, SIG_DFL);
  // The child must not outlive an agent that dies without cleaning up.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (dup2(stdin_fd, 0) < 0 || dup2(stdout_fd, 1) < 0 || dup2(stderr_fd, 2) < 0) _exit(127);
  execv(argv[0], argv);
  const char* reason = strerror(errno);
  const char prefix[] = "exec failed: ";
  (void)!write(2, prefix, sizeof(prefix) - 1);
  (void)!write(2, reason, strlen(reason));
  (void)!write(2, "\n", 1);
  _exit(127);
}

}  // namespace

std::string SignalName(int signo) {
  const char* abbrev = sigabbrev_np(signo);
  if (abbrev == nullptr) return absl::StrCat("signal ", signo);
  return absl::StrCat("SIG", abbrev);
}

absl::StatusOr<ChildResult> RunChild(const ChildOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("argv: empty");
  // A child that closes stdin early must cost us EPIPE, not the agent's life.
  static const bool sigpipe_ignored = (signal(SIGPIPE, SIG_IGN), true);
  (void)sigpipe_ignored;
  std::vector<char*> argv;
  for (const std::string& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  Fd stdin_read, stdin_write, stdout_read, stdout_write, stderr_read, stderr_write;
  for (auto [r, w] : {std::pair{&stdin_read, &stdin_write}, std::pair{&stdout_read, &stdout_write},
                      std::pair{&stderr_read, &stderr_write}}) {
    absl::Status status = MakePipe(r, w);
    if (!status.ok()) return status;
  }

  const absl::Time start = absl::Now();
  pid_t pid = fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    ExecChild(argv.data(), stdin_read.get(), stdout_write.get(), stderr_write.get(),
              options.disable_aslr);
  }
  // Also set from the parent so the group exists before any kill below, whichever runs first.
  setpgid(pid, pid);
  stdin_read.Close();
  stdout_write.Close();
  stderr_write.Close();
  SetNonBlocking(stdin_write.get());
  SetNonBlocking(stdout_read.get());
  SetNonBlocking(stderr_read.get());
  if (options.stdin_data.empty()) stdin_write.Close();

  ChildResult result;
  size_t stdin_done = 0;
  bool exited = false;
  bool group_killed = false;
  int wait_status = 0;
  const absl::Time deadline = start + options.timeout;
  // Once the child has ended, its descendants get this long to let go of the pipes after the
  // group kill; a descendant that escaped the group (setsid) cannot hold the run forever.
  absl::Time drain_deadline = absl::InfiniteFuture();
  char buf[65536];

  auto kill_group = [&]() {
    if (!group_killed) {
      kill(-pid, SIGKILL);
      group_killed = true;
    }
  };

  while (true) {
    if (!exited) {
      // WNOWAIT keeps the child a zombie, so its pid (= our group id) cannot be reused before the
      // group kill below.
      siginfo_t info;
      info.si_pid = 0;
      if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
        exited = true;
        kill_group();
        drain_deadline = absl::Now() + absl::Seconds(2);
      }
    }
    const bool pipes_open = stdout_read.get() >= 0 || stderr_read.get() >= 0;
    if (exited && (!pipes_open || absl::Now() >= drain_deadline)) break;

    const absl::Time now = absl::Now();
    if (!exited && now >= deadline) {
      result.ending = ChildResult::Ending::kTimedOut;
      kill_group();
    } else if (!exited && options.cancel != nullptr && options.cancel->load() &&
               result.ending != ChildResult::Ending::kTimedOut) {
      result.ending = ChildResult::Ending::kCancelled;
      kill_group();
    }

    pollfd fds[3];
    int nfds = 0;
    if (stdout_read.get() >= 0) fds[nfds++] = {stdout_read.get(), POLLIN, 0};
    if (stderr_read.get() >= 0) fds[nfds++] = {stderr_read.get(), POLLIN, 0};
    if (stdin_write.get() >= 0) fds[nfds++] = {stdin_write.get(), POLLOUT, 0};
    // Short waits: child exit is noticed by waitid, not by a SIGCHLD handler we do not own.
    absl::Duration wait = std::min(options.cancel_poll_interval, absl::Milliseconds(50));
    if (!exited && !group_killed) wait = std::min(wait, std::max(deadline - now, absl::ZeroDuration()));
    if (nfds == 0) {
      usleep(static_cast<useconds_t>(absl::ToInt64Microseconds(wait)));
      continue;
    }
    int ready = poll(fds, nfds, static_cast<int>(absl::ToInt64Milliseconds(wait)) + 1);
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < nfds && ready > 0; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == stdin_write.get()) {
        ssize_t n = write(stdin_write.get(), options.stdin_data.data() + stdin_done,
                          options.stdin_data.size() - stdin_done);
        if (n > 0) stdin_done += static_cast<size_t>(n);
        if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
            stdin_done == options.stdin_data.size()) {
          stdin_write.Close();
        }
        continue;
      }
      const bool is_stdout = fds[i].fd == stdout_read.get();
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        if (is_stdout) {
          size_t room = options.max_stdout_bytes - result.stdout_data.size();
          size_t take = std::min(room, static_cast<size_t>(n));
          result.stdout_data.append(buf, take);
          if (take < static_cast<size_t>(n)) result.stdout_truncated = true;
        } else {
          result.stderr_tail.append(buf, static_cast<size_t>(n));
          if (result.stderr_tail.size() > 2 * options.max_stderr_tail_bytes) {
            result.stderr_tail.erase(0, result.stderr_tail.size() - options.max_stderr_tail_bytes);
          }
        }
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        (is_stdout ? stdout_read : stderr_read).Close();
      }
    }
  }

  kill_group();
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  result.wall_time = absl::Now() - start;
  if (result.stderr_tail.size() > options.max_stderr_tail_bytes) {
    result.stderr_tail.erase(0, result.stderr_tail.size() - options.max_stderr_tail_bytes);
  }
  if (result.ending == ChildResult::Ending::kTimedOut ||
      result.ending == ChildResult::Ending::kCancelled) {
    return result;
  }
  if (WIFEXITED(wait_status)) {
    result.ending = ChildResult::Ending::kExited;
    result.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    result.ending = ChildResult::Ending::kSignaled;
    result.signal = WTERMSIG(wait_status);
  }
  return result;
}

}  // namespace faultline::agent
