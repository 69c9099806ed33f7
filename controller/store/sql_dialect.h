// What differs between the SQL backends the store runs on; the logic in sql_store.cc is shared.
#ifndef FAULTLINE_CONTROLLER_STORE_SQL_DIALECT_H_
#define FAULTLINE_CONTROLLER_STORE_SQL_DIALECT_H_

#include <string>
#include <vector>

namespace faultline::controller::store {

struct SqlDialect {
  // For messages, e.g. "SQLite".
  std::string name;
  // Starts a transaction that will write. SQLite takes the write lock up front so that a
  // read-then-write transaction cannot fail half way on a lock upgrade.
  std::string begin_write;
  // Appended to a SELECT that reads a row the transaction will then change: row locks on
  // PostgreSQL (several controller replicas), nothing on SQLite (one writer at a time anyway).
  std::string lock_rows;
  // Returns the next campaign number (one row, one integer); runs inside the creating
  // transaction.
  std::string next_campaign_number;
  // Runs first inside the migration transaction so that replicas starting together migrate once.
  std::string migration_lock;
  // Operator matching kernel_label against a glob converted by GlobToRegex (regex) or used as is
  // (SQLite's GLOB).
  bool glob_as_regex = false;
  // Inserts a result's samples with one row of parameters and per-column arrays
  // (PostgreSQL's unnest) rather than one row of parameters per sample: the server parses a few
  // arrays instead of thousands of separate parameters.
  bool insert_samples_from_arrays = false;
  // migrations[i] takes the schema from version i to i + 1 (version 0 is the empty database).
  std::vector<std::string> migrations;
  // Runs inside every transaction that queues or requeues jobs, to wake the other controller
  // replicas (PostgreSQL: NOTIFY on jobs_queued_channel, delivered at commit). Empty when the
  // backend has no such channel.
  std::string announce_jobs_queued;
  std::string jobs_queued_channel;
};

const SqlDialect& SqliteDialect();
const SqlDialect& PostgresDialect();

}  // namespace faultline::controller::store

#endif  // FAULTLINE_CONTROLLER_STORE_SQL_DIALECT_H_
