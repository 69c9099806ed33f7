// The fleet store: PostgreSQL through libpq. Several controller replicas may share one database.
#ifndef FAULTLINE_CONTROLLER_STORE_POSTGRES_STORE_H_
#define FAULTLINE_CONTROLLER_STORE_POSTGRES_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "controller/store/sql_store.h"

namespace faultline::controller::store {

class PostgresStore : public SqlStore {
 public:
  // Connects with a libpq connection string (e.g. "host=/tmp/pg port=5432 dbname=faultline
  // user=faultline") and migrates the schema. UNAVAILABLE when the server cannot be reached;
  // FAILED_PRECONDITION when the database's schema is newer than this build knows.
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(const std::string& conninfo);

  // LISTENs, on a connection of its own, for the NOTIFY that every transaction queueing or
  // requeueing jobs sends (see SqlDialect::announce_jobs_queued).
  absl::StatusOr<std::unique_ptr<QueueListener>> ListenForQueuedJobs() override;

 private:
  PostgresStore(std::string conninfo, std::unique_ptr<SqlConnection> db);

  const std::string conninfo_;
};

}  // namespace faultline::controller::store

#endif  // FAULTLINE_CONTROLLER_STORE_POSTGRES_STORE_H_
