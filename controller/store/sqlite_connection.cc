#include "controller/store/sqlite_connection.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace faultline::controller::store {

absl::StatusOr<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(
    const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("sqlite path: must not be empty");
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat("cannot open SQLite database ", path, ": ", message));
  }
  std::unique_ptr<SqliteConnection> connection(new SqliteConnection(db));
  sqlite3_busy_timeout(db, 10000);
  // WAL lets readers proceed during writes; NORMAL sync in WAL mode still survives a process
  // crash (only an OS crash can lose the last commits), and is what makes ingestion fast.
  // temp_store=MEMORY keeps statement journals (multi-row inserts inside a transaction) off
  // the disk; a larger page cache keeps the index pages that every result touches resident;
  // checkpointing every 32 MiB of WAL rather than 4 MiB writes each hot index page back once
  // instead of many times.
  absl::Status status = connection->ExecScript(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
      "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=8192;");
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat("configuring SQLite database ", path, ": ",
                                                    status.message()));
  }
  return connection;
}

SqliteConnection::~SqliteConnection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

absl::Status SqliteConnection::Error(int rc, const std::string& sql) const {
  std::string message = absl::StrCat("SQLite: ", sqlite3_errmsg(db_), " in: ", sql);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return absl::AlreadyExistsError(message);
      }
      return absl::FailedPreconditionError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::StatusOr<sqlite3_stmt*> SqliteConnection::Prepare(const std::string& sql,
                                                        const SqlParams& params) {
  sqlite3_stmt* stmt = nullptr;
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    stmt = it->second;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  } else {
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, sql);
    statements_.emplace(sql, stmt);
  }
  if (sqlite3_bind_parameter_count(stmt) != static_cast<int>(params.size())) {
    return absl::InternalError(absl::StrCat("statement takes ", sqlite3_bind_parameter_count(stmt),
                                            " parameters, got ", params.size(), ": ", sql));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const SqlValue& v = params[i];
    int index = static_cast<int>(i) + 1;
    int rc = SQLITE_OK;
    switch (v.kind()) {
      case SqlValue::Kind::kNull:
        rc = sqlite3_bind_null(stmt, index);
        break;
      case SqlValue::Kind::kInt:
      case SqlValue::Kind::kTime:
        rc = sqlite3_bind_int64(stmt, index, v.AsInt());
        break;
      case SqlValue::Kind::kDouble:
        rc = sqlite3_bind_double(stmt, index, v.AsDouble());
        break;
      case SqlValue::Kind::kText:
        rc = sqlite3_bind_text(stmt, index, v.AsString().data(),
                               static_cast<int>(v.AsString().size()), SQLITE_STATIC);
        break;
      case SqlValue::Kind::kBlob:
        rc = sqlite3_bind_blob(stmt, index, v.AsString().data(),
                               static_cast<int>(v.AsString().size()), SQLITE_STATIC);
        break;
    }
    if (rc != SQLITE_OK) return Error(rc, sql);
  }
  return stmt;
}

absl::StatusOr<int64_t> SqliteConnection::Exec(const std::string& sql, const SqlParams& params) {
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare(sql, params);
  if (!stmt.ok()) return stmt.status();
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
  }
  absl::Status status = rc == SQLITE_DONE ? absl::OkStatus() : Error(rc, sql);
  sqlite3_reset(*stmt);
  if (!status.ok()) return status;
  return static_cast<int64_t>(sqlite3_changes(db_));
}

absl::StatusOr<SqlRows> SqliteConnection::Query(const std::string& sql, const SqlParams& params) {
  absl::StatusOr<sqlite3_stmt*> prepared = Prepare(sql, params);
  if (!prepared.ok()) return prepared.status();
  sqlite3_stmt* stmt = *prepared;
  SqlRows rows;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    int columns = sqlite3_column_count(stmt);
    SqlRow row;
    row.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER:
          row.push_back(SqlValue::Int(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_FLOAT:
          row.push_back(SqlValue::Double(sqlite3_column_double(stmt, c)));
          break;
        case SQLITE_TEXT:
          row.push_back(SqlValue::Text(
              std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)),
                          sqlite3_column_bytes(stmt, c))));
          break;
        case SQLITE_BLOB: {
          const void* data = sqlite3_column_blob(stmt, c);
          int size = sqlite3_column_bytes(stmt, c);
          row.push_back(SqlValue::Blob(
              data ? std::string(static_cast<const char*>(data), size) : std::string()));
          break;
        }
        default:
          row.push_back(SqlValue::Null());
      }
    }
    rows.push_back(std::move(row));
  }
  absl::Status status = rc == SQLITE_DONE ? absl::OkStatus() : Error(rc, sql);
  sqlite3_reset(stmt);
  if (!status.ok()) return status;
  return rows;
}

absl::Status SqliteConnection::ExecScript(const std::string& sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string message = error ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  absl::Status status = Error(rc, sql);
  return absl::Status(status.code(), absl::StrCat("SQLite: ", message, " in: ", sql));
}

}  // namespace faultline::controller::store
