#include "controller/store/postgres_store.h"

#include <utility>

#include "controller/store/postgres_connection.h"
#include "controller/store/postgres_queue_listener.h"

namespace faultline::controller::store {

PostgresStore::PostgresStore(std::string conninfo, std::unique_ptr<SqlConnection> db)
    : SqlStore(PostgresDialect(), std::move(db)), conninfo_(std::move(conninfo)) {}

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& conninfo) {
  absl::StatusOr<std::unique_ptr<PostgresConnection>> connection =
      PostgresConnection::Open(conninfo);
  if (!connection.ok()) return connection.status();
  std::unique_ptr<PostgresStore> store(new PostgresStore(conninfo, *std::move(connection)));
  absl::Status status = store->Migrate();
  if (!status.ok()) return status;
  return store;
}

absl::StatusOr<std::unique_ptr<QueueListener>> PostgresStore::ListenForQueuedJobs() {
  absl::StatusOr<std::unique_ptr<PostgresQueueListener>> listener =
      PostgresQueueListener::Open(conninfo_, PostgresDialect().jobs_queued_channel);
  if (!listener.ok()) return listener.status();
  return std::unique_ptr<QueueListener>(*std::move(listener));
}

}  // namespace faultline::controller::store
