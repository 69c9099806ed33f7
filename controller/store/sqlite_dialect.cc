// SQLite schema. Times are INTEGER microseconds since the Unix epoch; states are lower-case text
// so that ad-hoc queries read naturally. Samples and summaries are clustered by their primary key
// (WITHOUT ROWID): one B-tree fewer to write per row.
#include "controller/store/sql_dialect.h"

namespace faultline::controller::store {
namespace {

constexpr char kSchemaV1[] = R"sql(
CREATE TABLE agents (
  agent_id TEXT PRIMARY KEY,
  registration BLOB NOT NULL,
  registered INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  state INTEGER NOT NULL,
  current_job_id TEXT NOT NULL DEFAULT ''
);

CREATE TABLE campaigns (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  priority INTEGER NOT NULL,
  state TEXT NOT NULL,
  spec BLOB NOT NULL,
  created INTEGER NOT NULL,
  finished INTEGER
);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  campaign_id TEXT NOT NULL REFERENCES campaigns(id),
  num INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  target_index INTEGER NOT NULL,
  pinned_agent_id TEXT NOT NULL,
  spec BLOB NOT NULL,
  state TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  agent_id TEXT NOT NULL DEFAULT '',
  lease_id TEXT NOT NULL DEFAULT '',
  lease_deadline INTEGER,
  diagnostic TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jobs_by_campaign ON jobs(campaign_id, state);
CREATE INDEX jobs_by_state ON jobs(state, lease_deadline);

CREATE TABLE runs (
  run_id INTEGER PRIMARY KEY AUTOINCREMENT,
  campaign_id TEXT NOT NULL REFERENCES campaigns(id),
  job_id TEXT NOT NULL REFERENCES jobs(id),
  attempt INTEGER NOT NULL,
  agent_id TEXT NOT NULL,
  target_name TEXT NOT NULL,
  benchmark TEXT NOT NULL,
  arch TEXT NOT NULL,
  kernel_release TEXT NOT NULL,
  kernel_label TEXT NOT NULL,
  host_class TEXT NOT NULL,
  state TEXT NOT NULL,
  started INTEGER NOT NULL,
  finished INTEGER NOT NULL,
  stored INTEGER NOT NULL,
  samples_pruned INTEGER NOT NULL DEFAULT 0,
  result BLOB NOT NULL,
  UNIQUE (job_id, attempt)
);
CREATE INDEX runs_by_campaign ON runs(campaign_id);
CREATE INDEX runs_by_series ON runs(benchmark, arch, kernel_label, started);
CREATE INDEX runs_by_start ON runs(started);

-- Samples and summaries have no foreign key to runs: a per-row check would double the cost of
-- ingestion, and the store
-- writes a run and its samples in one transaction and never deletes runs.
CREATE TABLE samples (
  run_id INTEGER NOT NULL,
  repetition INTEGER NOT NULL,
  metric TEXT NOT NULL,
  unit TEXT NOT NULL,
  direction TEXT NOT NULL,
  value REAL,
  benchmark TEXT NOT NULL,
  arch TEXT NOT NULL,
  kernel_label TEXT NOT NULL,
  host_class TEXT NOT NULL,
  time INTEGER NOT NULL,
  PRIMARY KEY (run_id, repetition, metric)
) WITHOUT ROWID;
-- No series index on samples: series queries find runs through runs_by_series and read their
-- samples through the primary key, which keeps ingestion at about half the cost. (PostgreSQL,
-- which dashboards query directly, has one.)

CREATE TABLE run_summaries (
  run_id INTEGER NOT NULL,
  metric TEXT NOT NULL,
  unit TEXT NOT NULL,
  direction TEXT NOT NULL,
  count INTEGER NOT NULL,
  mean REAL,
  median REAL,
  min REAL,
  max REAL,
  stddev REAL,
  benchmark TEXT NOT NULL,
  arch TEXT NOT NULL,
  kernel_label TEXT NOT NULL,
  host_class TEXT NOT NULL,
  time INTEGER NOT NULL,
  PRIMARY KEY (run_id, metric)
) WITHOUT ROWID;
CREATE INDEX run_summaries_by_series ON run_summaries(benchmark, metric, arch, kernel_label, time);
)sql";

// Version 2: each run's kernel profile, one row per kernel function (RunResult.profile).
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE run_profiles (
  run_id INTEGER NOT NULL,
  function TEXT NOT NULL,
  self_samples INTEGER NOT NULL,
  total_samples INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  benchmark TEXT NOT NULL,
  arch TEXT NOT NULL,
  kernel_label TEXT NOT NULL,
  host_class TEXT NOT NULL,
  time INTEGER NOT NULL,
  PRIMARY KEY (run_id, function)
) WITHOUT ROWID;
CREATE INDEX run_profiles_by_series ON run_profiles(benchmark, function, arch, kernel_label, time);
)sql";

}  // namespace

const SqlDialect& SqliteDialect() {
  static const SqlDialect* const dialect = new SqlDialect{
      /*name=*/"SQLite",
      /*begin_write=*/"BEGIN IMMEDIATE",
      /*lock_rows=*/"",
      /*next_campaign_number=*/"SELECT COALESCE(MAX(seq), 0) + 1 FROM campaigns",
      /*migration_lock=*/"",
      /*glob_as_regex=*/false,
      /*insert_samples_from_arrays=*/false,
      /*migrations=*/{kSchemaV1, kSchemaV2},
      // One controller process writes a SQLite file; nobody to tell.
      /*announce_jobs_queued=*/"",
      /*jobs_queued_channel=*/"",
  };
  return *dialect;
}

}  // namespace faultline::controller::store
