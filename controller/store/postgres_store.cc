#include "controller/store/postgres_store.h"

#include <utility>

#include "controller/store/postgres_connection.h"

namespace faultline::controller::store {

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& conninfo) {
  absl::StatusOr<std::unique_ptr<PostgresConnection>> connection =
      PostgresConnection::Open(conninfo);
  if (!connection.ok()) return connection.status();
  std::unique_ptr<PostgresStore> store(
      new PostgresStore(PostgresDialect(), *std::move(connection)));
  absl::Status status = store->Migrate();
  if (!status.ok()) return status;
  return store;
}

}  // namespace faultline::controller::store
