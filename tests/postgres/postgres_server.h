// A throwaway PostgreSQL 15 server for tests and benchmarks: a fresh cluster in a temp dir, on a
// free loopback port with its unix socket in the temp dir, stopped and deleted on destruction.
//
// initdb and postgres refuse to run as root, so when the caller is root the server runs as the
// `postgres` system user (or `nobody` when there is none).
#ifndef FAULTLINE_TESTS_POSTGRES_POSTGRES_SERVER_H_
#define FAULTLINE_TESTS_POSTGRES_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace faultline::testing {

class PostgresServer {
 public:
  struct Options {
    // Directory holding initdb and postgres.
    std::string bin_dir = "/usr/lib/postgresql/15/bin";
    // Whether commits wait for the disk. Off (fsync=off, synchronous_commit=off) makes tests fast;
    // a crash of the machine would lose the cluster, which a throwaway server does not mind.
    bool durable = false;
  };

  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start() { return Start(Options()); }
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start(const Options& options);
  // Stops the server (fast shutdown, then SIGKILL) and deletes its directory.
  ~PostgresServer();

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // libpq connection string for `database` over the unix socket.
  std::string ConnectionString(const std::string& database = "postgres") const;
  // Creates an empty database and returns its connection string.
  absl::StatusOr<std::string> CreateDatabase(const std::string& name);

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }

 private:
  PostgresServer() = default;

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace faultline::testing

#endif  // FAULTLINE_TESTS_POSTGRES_POSTGRES_SERVER_H_
