#include "tests/postgres/postgres_server.h"

#include <fcntl.h>
#include <grp.h>
#include <postgresql/libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace faultline::testing {
namespace {

constexpr char kUser[] = "faultline";

struct Identity {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

absl::StatusOr<Identity> ServerIdentity() {
  Identity id;
  if (geteuid() != 0) return id;
  for (const char* name : {"postgres", "nobody"}) {
    if (struct passwd* pw = getpwnam(name)) {
      id.switch_user = true;
      id.uid = pw->pw_uid;
      id.gid = pw->pw_gid;
      return id;
    }
  }
  return absl::FailedPreconditionError(
      "running as root and neither the 'postgres' nor the 'nobody' user exists to run "
      "PostgreSQL as");
}

absl::StatusOr<int> FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return absl::InternalError("cannot bind a loopback port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// Forks and execs `argv` as `id`, with stdout and stderr appended to `log`. The child dies with
// the parent so that a crashed test leaves no server behind.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const Identity& id,
                            const std::string& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError(absl::StrCat("cannot open ", log));
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    setpgid(0, 0);
    if (id.switch_user) {
      if (setgroups(0, nullptr) != 0 || setgid(id.gid) != 0 || setuid(id.uid) != 0) _exit(126);
    }
    // After the credential change, which clears the parent-death signal.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(125);
    execv(args[0], args.data());
    _exit(127);
  }
  close(log_fd);
  return pid;
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

// Waits (bounded) for `pid` to exit; returns its wait status or -1 on timeout.
int WaitFor(pid_t pid, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return 0;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start(const Options& options) {
  absl::StatusOr<Identity> id = ServerIdentity();
  if (!id.ok()) return id.status();
  for (const char* tool : {"initdb", "postgres"}) {
    std::string path = absl::StrCat(options.bin_dir, "/", tool);
    if (access(path.c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " not found: install Debian's postgresql-15 package"));
    }
  }
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  // Under /tmp rather than the test's TEST_TMPDIR: the unprivileged server must reach it, and
  // the socket path must stay short.
  char pattern[] = "/tmp/faultline-pg-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return absl::InternalError("mkdtemp failed");
  server->dir_ = pattern;
  if (id->switch_user && chown(pattern, id->uid, id->gid) != 0) {
    return absl::InternalError(absl::StrCat("cannot chown ", pattern));
  }
  const std::string data = server->dir_ + "/data";
  const std::string log = server->dir_ + "/postgres.log";

  absl::StatusOr<pid_t> initdb =
      Spawn({options.bin_dir + "/initdb", "-D", data, "-U", kUser, "-A", "trust", "-E", "UTF8",
             "--locale=C", "--no-sync", "--no-instructions"},
            *id, log);
  if (!initdb.ok()) return initdb.status();
  int status = WaitFor(*initdb, absl::Seconds(120));
  if (status == -1) {
    kill(*initdb, SIGKILL);
    waitpid(*initdb, nullptr, 0);
    return absl::DeadlineExceededError("initdb took longer than 120 s");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("initdb failed (status ", status, "): ", Tail(log)));
  }

  // The port can be taken between probing and binding; retry a few times.
  for (int attempt = 0; attempt < 5; ++attempt) {
    absl::StatusOr<int> port = FreeLoopbackPort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    std::vector<std::string> argv = {options.bin_dir + "/postgres",
                                     "-D", data,
                                     "-p", absl::StrCat(*port),
                                     "-k", server->dir_,
                                     "-c", "listen_addresses=127.0.0.1",
                                     "-c", "max_connections=100",
                                     "-c", "shared_buffers=128MB"};
    if (!options.durable) {
      for (const char* setting : {"fsync=off", "synchronous_commit=off", "full_page_writes=off"}) {
        argv.push_back("-c");
        argv.push_back(setting);
      }
    }
    absl::StatusOr<pid_t> pid = Spawn(argv, *id, log);
    if (!pid.ok()) return pid.status();
    server->pid_ = *pid;
    const std::string conninfo = server->ConnectionString();
    absl::Time deadline = absl::Now() + absl::Seconds(60);
    bool exited = false;
    while (absl::Now() < deadline) {
      if (PQping(conninfo.c_str()) == PQPING_OK) return server;
      int wstatus = 0;
      if (waitpid(*pid, &wstatus, WNOHANG) == *pid) {
        exited = true;
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (!exited) {
      return absl::DeadlineExceededError(
          absl::StrCat("PostgreSQL did not accept connections within 60 s: ", Tail(log)));
    }
    server->pid_ = -1;
  }
  return absl::InternalError(absl::StrCat("PostgreSQL failed to start: ", Tail(log)));
}

PostgresServer::~PostgresServer() {
  if (pid_ > 0) {
    kill(pid_, SIGINT);  // Fast shutdown.
    if (WaitFor(pid_, absl::Seconds(20)) == -1) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string PostgresServer::ConnectionString(const std::string& database) const {
  return absl::StrCat("host=", dir_, " port=", port_, " user=", kUser, " dbname=", database,
                      " connect_timeout=10");
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase(const std::string& name) {
  PGconn* conn = PQconnectdb(ConnectionString().c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    return absl::UnavailableError(message);
  }
  PGresult* result = PQexec(conn, absl::StrCat("CREATE DATABASE \"", name, "\"").c_str());
  bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  std::string message = ok ? "" : PQresultErrorMessage(result);
  PQclear(result);
  PQfinish(conn);
  if (!ok) return absl::InternalError(absl::StrCat("CREATE DATABASE ", name, ": ", message));
  return ConnectionString(name);
}

}  // namespace faultline::testing
