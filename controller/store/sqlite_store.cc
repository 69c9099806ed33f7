#include "controller/store/sqlite_store.h"

#include <utility>

#include "controller/store/sqlite_connection.h"

namespace faultline::controller::store {

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<SqliteConnection>> connection = SqliteConnection::Open(path);
  if (!connection.ok()) return connection.status();
  std::unique_ptr<SqliteStore> store(new SqliteStore(SqliteDialect(), *std::move(connection)));
  absl::Status status = store->Migrate();
  if (!status.ok()) return status;
  return store;
}

}  // namespace faultline::controller::store
