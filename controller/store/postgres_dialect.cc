// PostgreSQL schema. Proper column types (timestamptz, bigint, double precision, bytea) because
// dashboards (a Grafana PostgreSQL datasource) read the samples and run_summaries tables
// directly.
#include "controller/store/sql_dialect.h"

#include "absl/strings/str_cat.h"

namespace faultline::controller::store {
namespace {

constexpr char kSchemaV1[] = R"sql(
CREATE SEQUENCE campaign_numbers;

CREATE TABLE agents (
  agent_id text PRIMARY KEY,
  registration bytea NOT NULL,
  registered timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  state integer NOT NULL,
  current_job_id text NOT NULL DEFAULT ''
);

CREATE TABLE campaigns (
  seq bigint PRIMARY KEY,
  id text NOT NULL UNIQUE,
  name text NOT NULL,
  priority integer NOT NULL,
  state text NOT NULL,
  spec bytea NOT NULL,
  created timestamptz NOT NULL,
  finished timestamptz
);

CREATE TABLE jobs (
  id text PRIMARY KEY,
  campaign_id text NOT NULL REFERENCES campaigns(id),
  num integer NOT NULL,
  sequence bigint NOT NULL,
  target_index integer NOT NULL,
  pinned_agent_id text NOT NULL,
  spec bytea NOT NULL,
  state text NOT NULL,
  attempt integer NOT NULL DEFAULT 0,
  agent_id text NOT NULL DEFAULT '',
  lease_id text NOT NULL DEFAULT '',
  lease_deadline timestamptz,
  diagnostic text NOT NULL DEFAULT ''
);
CREATE INDEX jobs_by_campaign ON jobs(campaign_id, state);
CREATE INDEX jobs_by_state ON jobs(state, lease_deadline);

CREATE TABLE runs (
  run_id bigserial PRIMARY KEY,
  campaign_id text NOT NULL REFERENCES campaigns(id),
  job_id text NOT NULL REFERENCES jobs(id),
  attempt integer NOT NULL,
  agent_id text NOT NULL,
  target_name text NOT NULL,
  benchmark text NOT NULL,
  arch text NOT NULL,
  kernel_release text NOT NULL,
  kernel_label text NOT NULL,
  host_class text NOT NULL,
  state text NOT NULL,
  started timestamptz NOT NULL,
  finished timestamptz NOT NULL,
  stored timestamptz NOT NULL,
  samples_pruned smallint NOT NULL DEFAULT 0,
  result bytea NOT NULL,
  UNIQUE (job_id, attempt)
);
-- Serialized protobuf compresses poorly; skipping pglz saves server CPU on every result.
ALTER TABLE runs ALTER COLUMN result SET STORAGE EXTERNAL;
CREATE INDEX runs_by_campaign ON runs(campaign_id);
CREATE INDEX runs_by_series ON runs(benchmark, arch, kernel_label, started);
CREATE INDEX runs_by_start ON runs(started);

-- Samples and summaries have no foreign key to runs: a per-row check would double the cost of
-- ingestion, and the store
-- writes a run and its samples in one transaction and never deletes runs.
CREATE TABLE samples (
  run_id bigint NOT NULL,
  repetition integer NOT NULL,
  metric text NOT NULL,
  unit text NOT NULL,
  direction text NOT NULL,
  value double precision,
  benchmark text NOT NULL,
  arch text NOT NULL,
  kernel_label text NOT NULL,
  host_class text NOT NULL,
  time timestamptz NOT NULL,
  PRIMARY KEY (run_id, repetition, metric)
);
CREATE INDEX samples_by_series ON samples(benchmark, metric, arch, kernel_label, time);

CREATE TABLE run_summaries (
  run_id bigint NOT NULL,
  metric text NOT NULL,
  unit text NOT NULL,
  direction text NOT NULL,
  count bigint NOT NULL,
  mean double precision,
  median double precision,
  min double precision,
  max double precision,
  stddev double precision,
  benchmark text NOT NULL,
  arch text NOT NULL,
  kernel_label text NOT NULL,
  host_class text NOT NULL,
  time timestamptz NOT NULL,
  PRIMARY KEY (run_id, metric)
);
CREATE INDEX run_summaries_by_series ON run_summaries(benchmark, metric, arch, kernel_label, time);
)sql";

// Version 2: each run's kernel profile, one row per kernel function (RunResult.profile).
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE run_profiles (
  run_id bigint NOT NULL,
  function text NOT NULL,
  self_samples bigint NOT NULL,
  total_samples bigint NOT NULL,
  samples bigint NOT NULL,
  benchmark text NOT NULL,
  arch text NOT NULL,
  kernel_label text NOT NULL,
  host_class text NOT NULL,
  time timestamptz NOT NULL,
  PRIMARY KEY (run_id, function)
);
CREATE INDEX run_profiles_by_series ON run_profiles(benchmark, function, arch, kernel_label, time);
)sql";

// The LISTEN/NOTIFY channel of queued jobs.
constexpr char kJobsQueuedChannel[] = "faultline_jobs_queued";

}  // namespace

const SqlDialect& PostgresDialect() {
  static const SqlDialect* const dialect = new SqlDialect{
      /*name=*/"PostgreSQL",
      /*begin_write=*/"BEGIN",
      /*lock_rows=*/" FOR NO KEY UPDATE",
      /*next_campaign_number=*/"SELECT nextval('campaign_numbers')",
      // Replicas starting together queue here; the first migrates, the rest find it done.
      /*migration_lock=*/"SELECT pg_advisory_xact_lock(7352046180)",
      /*glob_as_regex=*/true,
      /*insert_samples_from_arrays=*/true,
      /*migrations=*/{kSchemaV1, kSchemaV2},
      // Notifications with the same channel and payload in one transaction are delivered once.
      /*announce_jobs_queued=*/absl::StrCat("NOTIFY ", kJobsQueuedChannel),
      /*jobs_queued_channel=*/kJobsQueuedChannel,
  };
  return *dialect;
}

}  // namespace faultline::controller::store
