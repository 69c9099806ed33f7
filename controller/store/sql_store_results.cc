// SqlStore: storing results, querying runs and samples, and retention.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/store/sql_store.h"
#include "controller/store/status_macros.h"
#include "controller/store/store_encoding.h"
#include "controller/validation/request_validation.h"
#include "proto/faultline/v1/enum_names.h"
#include "proto/faultline/v1/repetitions.h"

namespace faultline::controller::store {
namespace {

constexpr int kPruneBatchRuns = 200;
// Bounds the pruning loop: at most this many batches per call (1,000,000 runs).
constexpr int kPruneMaxBatches = 5000;

std::string TargetName(const v1::Job& job) {
  if (!job.target().name().empty()) return job.target().name();
  if (!job.target().kernel_label().empty()) return job.target().kernel_label();
  return absl::StrCat("target", job.target_index());
}

std::string AppendDiagnostic(const std::string& previous, const std::string& next) {
  if (previous.empty()) return next;
  return absl::StrCat(previous, "; ", next);
}

// Median of an unsorted vector (sorts it).
double Median(std::vector<double>& values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  if (n == 0) return 0;
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct PendingSummary {
  std::string unit;
  v1::Direction direction = v1::DIRECTION_UNSPECIFIED;
  std::vector<double> values;
};

// Appends `text` as a quoted element of a PostgreSQL array literal.
void AppendArrayText(std::string& array, const std::string& text) {
  array += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') array += '\\';
    array += c;
  }
  array += '"';
}

void AppendArrayDouble(std::string& array, double v) {
  if (std::isnan(v)) {
    array += "NaN";
  } else if (std::isinf(v)) {
    array += v > 0 ? "Infinity" : "-Infinity";
  } else {
    absl::StrAppendFormat(&array, "%.17g", v);
  }
}

}  // namespace

absl::StatusOr<ReportOutcome> SqlStore::RecordResult(const std::string& job_id, uint32_t attempt,
                                                     const std::string& lease_id,
                                                     const std::string& agent_id,
                                                     const v1::RunResult& result,
                                                     absl::Time now) {
  return StoreResult(job_id, attempt, lease_id, agent_id, result, now, /*requeue=*/false);
}

absl::StatusOr<ReportOutcome> SqlStore::RecordFailureAndRequeue(
    const std::string& job_id, uint32_t attempt, const std::string& lease_id,
    const std::string& agent_id, const v1::RunResult& result, absl::Time now) {
  if (result.state() == v1::RUN_STATE_OK || result.state() == v1::RUN_STATE_SKIPPED) {
    return absl::InvalidArgumentError("result.state: only a failed attempt is requeued");
  }
  return StoreResult(job_id, attempt, lease_id, agent_id, result, now, /*requeue=*/true);
}

absl::StatusOr<ReportOutcome> SqlStore::StoreResult(const std::string& job_id, uint32_t attempt,
                                                    const std::string& lease_id,
                                                    const std::string& agent_id,
                                                    const v1::RunResult& result, absl::Time now,
                                                    bool requeue) {
  if (attempt < 1) return absl::InvalidArgumentError("attempt: must be at least 1");
  // The API's check of a result, also what samples are keyed by (repetition, metric name);
  // errors name the field as the request does.
  FL_RETURN_IF_ERROR(validation::ValidateRunResult(result, "result"));
  const std::string result_blob = result.SerializeAsString();
  const absl::Time started = result.has_started() ? FromProtoTime(result.started()) : now;
  const absl::Time finished = result.has_finished() ? FromProtoTime(result.finished()) : now;
  const std::string arch = v1::ArchName(result.host().arch());
  const std::string& kernel_label = result.host().kernel_label();
  const std::string& host_class = result.host().host_class();
  v1::JobState job_state = v1::JOB_STATE_FAILED;
  if (result.state() == v1::RUN_STATE_OK) job_state = v1::JOB_STATE_SUCCEEDED;
  if (result.state() == v1::RUN_STATE_SKIPPED) job_state = v1::JOB_STATE_SKIPPED;

  absl::MutexLock lock(&mu_);
  ReportOutcome outcome = ReportOutcome::kStale;
  absl::Status status = Transact([&]() -> absl::Status {
    // Job ids are "<campaign id>/j-<n>"; a malformed or unknown id finds no job below.
    const std::string campaign_id = job_id.substr(0, job_id.find('/'));
    absl::StatusOr<std::string> campaign_state = LockCampaign(campaign_id);
    if (absl::IsNotFound(campaign_state.status())) {
      return absl::NotFoundError(absl::StrCat("job_id: no job '", job_id, "'"));
    }
    FL_RETURN_IF_ERROR(campaign_state.status());
    FL_ASSIGN_OR_RETURN(
        SqlRows rows,
        // Whether other jobs are open is read here, after the campaign lock: only transitions
        // from queued to running (open to open) happen without that lock.
        db_->Query(absl::StrCat("SELECT state, attempt, lease_id, agent_id, diagnostic, spec, "
                                "EXISTS (SELECT 1 FROM jobs o WHERE o.campaign_id = ? AND "
                                "o.state IN ('queued', 'running') AND o.id <> ?) "
                                "FROM jobs WHERE id = ?",
                                dialect_.lock_rows),
                   {SqlValue::Text(campaign_id), SqlValue::Text(job_id),
                    SqlValue::Text(job_id)}));
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("job_id: no job '", job_id, "'"));
    const SqlRow& job = rows[0];
    if (job[0].AsString() != "running" || job[1].AsInt() != attempt ||
        job[2].AsString() != lease_id || job[3].AsString() != agent_id) {
      // Not the current lease: either this attempt's result was stored already (which closed
      // the job) or the attempt lost its lease. A job still running under this very lease has
      // no stored run, since storing one closes the job in the same transaction.
      FL_ASSIGN_OR_RETURN(SqlRows stored,
                          db_->Query("SELECT 1 FROM runs WHERE job_id = ? AND attempt = ?",
                                     {SqlValue::Text(job_id), SqlValue::Int(attempt)}));
      outcome = stored.empty() ? ReportOutcome::kStale : ReportOutcome::kDuplicate;
      return absl::OkStatus();
    }
    v1::Job spec;
    spec.ParseFromString(job[5].AsString());

    FL_ASSIGN_OR_RETURN(
        SqlRows inserted,
        db_->Query("INSERT INTO runs (campaign_id, job_id, attempt, agent_id, target_name, "
                   "benchmark, arch, kernel_release, kernel_label, host_class, state, started, "
                   "finished, stored, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                   "RETURNING run_id",
                   {SqlValue::Text(campaign_id), SqlValue::Text(job_id), SqlValue::Int(attempt),
                    SqlValue::Text(agent_id), SqlValue::Text(TargetName(spec)),
                    SqlValue::Text(result.benchmark()), SqlValue::Text(arch),
                    SqlValue::Text(result.host().kernel_release()), SqlValue::Text(kernel_label),
                    SqlValue::Text(host_class), SqlValue::Text(RunStateName(result.state())),
                    SqlValue::Time(started), SqlValue::Time(finished), SqlValue::Time(now),
                    SqlValue::Blob(result_blob)}));
    if (inserted.empty()) return absl::InternalError("inserting the run returned no run_id");
    const int64_t run_id = inserted[0][0].AsInt();

    std::map<std::string, PendingSummary> summaries;
    for (const v1::Repetition* rep : v1::AllRepetitions(result)) {
      for (const v1::MetricValue& metric : rep->metrics()) {
        PendingSummary& summary = summaries[metric.name()];
        summary.unit = metric.unit();
        summary.direction = metric.direction();
        summary.values.push_back(metric.value());
      }
    }
    const SampleColumns columns{run_id, result.benchmark(), arch, kernel_label, host_class,
                                started};
    FL_RETURN_IF_ERROR(dialect_.insert_samples_from_arrays
                           ? InsertSamplesFromArrays(columns, result)
                           : InsertSampleRows(columns, result));
    SqlParams summary_rows;
    for (auto& [name, summary] : summaries) {
      std::vector<double>& v = summary.values;
      const double n = static_cast<double>(v.size());
      double sum = 0;
      for (double x : v) sum += x;
      const double mean = sum / n;
      double squares = 0;
      for (double x : v) squares += (x - mean) * (x - mean);
      const double stddev = v.size() > 1 ? std::sqrt(squares / (n - 1)) : 0;
      const double median = Median(v);
      summary_rows.push_back(SqlValue::Int(run_id));
      summary_rows.push_back(SqlValue::Text(name));
      summary_rows.push_back(SqlValue::Text(summary.unit));
      summary_rows.push_back(SqlValue::Text(DirectionName(summary.direction)));
      summary_rows.push_back(SqlValue::Int(static_cast<int64_t>(v.size())));
      summary_rows.push_back(SqlValue::Double(mean));
      summary_rows.push_back(SqlValue::Double(median));
      summary_rows.push_back(SqlValue::Double(v.front()));
      summary_rows.push_back(SqlValue::Double(v.back()));
      summary_rows.push_back(SqlValue::Double(stddev));
      summary_rows.push_back(SqlValue::Text(result.benchmark()));
      summary_rows.push_back(SqlValue::Text(arch));
      summary_rows.push_back(SqlValue::Text(kernel_label));
      summary_rows.push_back(SqlValue::Text(host_class));
      summary_rows.push_back(SqlValue::Time(started));
    }
    FL_RETURN_IF_ERROR(InsertRows("run_summaries",
                                  {"run_id", "metric", "unit", "direction", "count", "mean",
                                   "median", "min", "max", "stddev", "benchmark", "arch",
                                   "kernel_label", "host_class", "time"},
                                  summary_rows));
    SqlParams profile_rows;
    for (const v1::ProfileSymbol& symbol : result.profile().symbols()) {
      for (SqlValue v : {SqlValue::Int(run_id), SqlValue::Text(symbol.name()),
                         SqlValue::Int(static_cast<int64_t>(symbol.self_samples())),
                         SqlValue::Int(static_cast<int64_t>(symbol.total_samples())),
                         SqlValue::Int(static_cast<int64_t>(result.profile().samples())),
                         SqlValue::Text(result.benchmark()), SqlValue::Text(arch),
                         SqlValue::Text(kernel_label), SqlValue::Text(host_class),
                         SqlValue::Time(started)}) {
        profile_rows.push_back(std::move(v));
      }
    }
    FL_RETURN_IF_ERROR(InsertRows("run_profiles",
                                  {"run_id", "function", "self_samples", "total_samples",
                                   "samples", "benchmark", "arch", "kernel_label", "host_class",
                                   "time"},
                                  profile_rows));

    std::string diagnostic = job[4].AsString();
    if (job_state == v1::JOB_STATE_FAILED) {
      diagnostic = AppendDiagnostic(
          diagnostic,
          absl::StrFormat("attempt %d on %s: %s%s%s", attempt, agent_id,
                          v1::RunState_Name(result.state()),
                          result.diagnostic().empty() ? "" : ": ", result.diagnostic()));
    }
    if (requeue) {
      // Back to the queue, barred from this host; the lease columns are left as they are
      // because LeaseJob overwrites them and only a RUNNING job's lease is honoured.
      spec.add_excluded_agent_ids(agent_id);
      FL_RETURN_IF_ERROR(
          db_->Exec("UPDATE jobs SET state = 'queued', diagnostic = ?, spec = ? WHERE id = ?",
                    {SqlValue::Text(diagnostic), SqlValue::Blob(spec.SerializeAsString()),
                     SqlValue::Text(job_id)})
              .status());
      outcome = ReportOutcome::kStored;
      return AnnounceJobsQueued();
    }
    FL_RETURN_IF_ERROR(db_->Exec("UPDATE jobs SET state = ?, diagnostic = ? WHERE id = ?",
                                 {SqlValue::Text(JobStateName(job_state)),
                                  SqlValue::Text(diagnostic), SqlValue::Text(job_id)})
                           .status());
    const bool others_open = job[6].AsInt() != 0;
    if (!others_open) FL_RETURN_IF_ERROR(FinishCampaignIfDone(campaign_id, now));
    outcome = ReportOutcome::kStored;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return outcome;
}

absl::Status SqlStore::InsertSampleRows(const SampleColumns& run, const v1::RunResult& result) {
  SqlParams samples;
  for (const v1::Repetition* rep : v1::AllRepetitions(result)) {
    for (const v1::MetricValue& metric : rep->metrics()) {
      samples.push_back(SqlValue::Int(run.run_id));
      samples.push_back(SqlValue::Int(rep->index()));
      samples.push_back(SqlValue::Text(metric.name()));
      samples.push_back(SqlValue::Text(metric.unit()));
      samples.push_back(SqlValue::Text(DirectionName(metric.direction())));
      samples.push_back(SqlValue::Double(metric.value()));
      samples.push_back(SqlValue::Text(run.benchmark));
      samples.push_back(SqlValue::Text(run.arch));
      samples.push_back(SqlValue::Text(run.kernel_label));
      samples.push_back(SqlValue::Text(run.host_class));
      samples.push_back(SqlValue::Time(run.time));
    }
  }
  return InsertRows("samples",
                    {"run_id", "repetition", "metric", "unit", "direction", "value", "benchmark",
                     "arch", "kernel_label", "host_class", "time"},
                    samples);
}

absl::Status SqlStore::InsertSamplesFromArrays(const SampleColumns& run,
                                               const v1::RunResult& result) {
  std::string repetitions = "{";
  std::string metrics = "{";
  std::string units = "{";
  std::string directions = "{";
  std::string values = "{";
  bool first = true;
  for (const v1::Repetition* rep : v1::AllRepetitions(result)) {
    for (const v1::MetricValue& metric : rep->metrics()) {
      if (!first) {
        for (std::string* array : {&repetitions, &metrics, &units, &directions, &values}) {
          *array += ',';
        }
      }
      first = false;
      absl::StrAppend(&repetitions, rep->index());
      AppendArrayText(metrics, metric.name());
      AppendArrayText(units, metric.unit());
      AppendArrayText(directions, DirectionName(metric.direction()));
      AppendArrayDouble(values, metric.value());
    }
  }
  if (first) return absl::OkStatus();
  for (std::string* array : {&repetitions, &metrics, &units, &directions, &values}) *array += '}';
  return db_
      ->Exec("INSERT INTO samples (run_id, repetition, metric, unit, direction, value, "
             "benchmark, arch, kernel_label, host_class, time) "
             "SELECT ?::bigint, r, m, u, d, v, ?::text, ?::text, ?::text, ?::text, "
             "?::timestamptz FROM unnest(?::integer[], ?::text[], ?::text[], ?::text[], "
             "?::double precision[]) AS t(r, m, u, d, v)",
             {SqlValue::Int(run.run_id), SqlValue::Text(run.benchmark), SqlValue::Text(run.arch),
              SqlValue::Text(run.kernel_label), SqlValue::Text(run.host_class),
              SqlValue::Time(run.time), SqlValue::Text(repetitions), SqlValue::Text(metrics),
              SqlValue::Text(units), SqlValue::Text(directions), SqlValue::Text(values)})
      .status();
}

absl::StatusOr<std::vector<StoredRunRecord>> SqlStore::QueryRuns(const RunQuery& query) {
  if (query.limit < 1) return absl::InvalidArgumentError("limit: must be at least 1");
  std::string sql =
      "SELECT run_id, campaign_id, job_id, attempt, agent_id, target_name, result, stored "
      "FROM runs WHERE 1 = 1";
  SqlParams params;
  if (!query.campaign_id.empty()) {
    sql += " AND campaign_id = ?";
    params.push_back(SqlValue::Text(query.campaign_id));
  }
  if (!query.benchmark.empty()) {
    sql += " AND benchmark = ?";
    params.push_back(SqlValue::Text(query.benchmark));
  }
  if (query.arch != 0) {
    sql += " AND arch = ?";
    params.push_back(SqlValue::Text(v1::ArchName(static_cast<v1::Arch>(query.arch))));
  }
  if (!query.kernel_label_glob.empty()) {
    sql += dialect_.glob_as_regex ? " AND kernel_label ~ ?" : " AND kernel_label GLOB ?";
    params.push_back(SqlValue::Text(dialect_.glob_as_regex ? GlobToRegex(query.kernel_label_glob)
                                                           : query.kernel_label_glob));
  }
  if (!query.agent_id.empty()) {
    sql += " AND agent_id = ?";
    params.push_back(SqlValue::Text(query.agent_id));
  }
  sql += " ORDER BY run_id DESC LIMIT ?";
  params.push_back(SqlValue::Int(query.limit));
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(SqlRows rows, db_->Query(sql, params));
  std::vector<StoredRunRecord> runs;
  runs.reserve(rows.size());
  for (const SqlRow& row : rows) {
    StoredRunRecord run;
    run.run_id = row[0].AsInt();
    run.campaign_id = row[1].AsString();
    run.job_id = row[2].AsString();
    run.attempt = static_cast<uint32_t>(row[3].AsInt());
    run.agent_id = row[4].AsString();
    run.target_name = row[5].AsString();
    run.result.ParseFromString(row[6].AsString());
    run.stored = row[7].AsTime();
    runs.push_back(std::move(run));
  }
  return runs;
}

absl::StatusOr<std::vector<SampleRecord>> SqlStore::QuerySamples(const SampleQuery& query) {
  if (query.limit < 1) return absl::InvalidArgumentError("limit: must be at least 1");
  // Filters apply to the run (indexed by series and start time); samples are then read by run.
  std::string sql =
      "SELECT s.run_id, s.repetition, s.metric, s.unit, s.direction, s.value, s.benchmark, "
      "s.arch, s.kernel_label, s.host_class, s.time FROM runs r JOIN samples s ON "
      "s.run_id = r.run_id WHERE 1 = 1";
  SqlParams params;
  auto equal = [&](const char* column, const std::string& value) {
    if (value.empty()) return;
    absl::StrAppend(&sql, " AND ", column, " = ?");
    params.push_back(SqlValue::Text(value));
  };
  equal("r.benchmark", query.benchmark);
  if (query.arch != 0) equal("r.arch", v1::ArchName(static_cast<v1::Arch>(query.arch)));
  if (!query.kernel_label_glob.empty()) {
    sql += dialect_.glob_as_regex ? " AND r.kernel_label ~ ?" : " AND r.kernel_label GLOB ?";
    params.push_back(SqlValue::Text(dialect_.glob_as_regex ? GlobToRegex(query.kernel_label_glob)
                                                           : query.kernel_label_glob));
  }
  equal("r.host_class", query.host_class);
  if (query.run_id != 0) {
    sql += " AND r.run_id = ?";
    params.push_back(SqlValue::Int(query.run_id));
  }
  if (query.since != absl::InfinitePast()) {
    sql += " AND r.started >= ?";
    params.push_back(SqlValue::Time(query.since));
  }
  if (query.until != absl::InfiniteFuture()) {
    sql += " AND r.started < ?";
    params.push_back(SqlValue::Time(query.until));
  }
  equal("s.metric", query.metric);
  sql += " ORDER BY s.time, s.run_id, s.repetition, s.metric LIMIT ?";
  params.push_back(SqlValue::Int(query.limit));
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(SqlRows rows, db_->Query(sql, params));
  std::vector<SampleRecord> samples;
  samples.reserve(rows.size());
  for (const SqlRow& row : rows) {
    SampleRecord s;
    s.run_id = row[0].AsInt();
    s.repetition = static_cast<uint32_t>(row[1].AsInt());
    s.metric = row[2].AsString();
    s.unit = row[3].AsString();
    s.direction = ParseDirection(row[4].AsString());
    s.value = row[5].AsDouble();
    s.benchmark = row[6].AsString();
    s.arch = v1::ParseArch(row[7].AsString());
    s.kernel_label = row[8].AsString();
    s.host_class = row[9].AsString();
    s.time = row[10].AsTime();
    samples.push_back(std::move(s));
  }
  return samples;
}

absl::StatusOr<std::vector<MetricSummary>> SqlStore::GetRunSummaries(int64_t run_id) {
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(SqlRows exists, db_->Query("SELECT 1 FROM runs WHERE run_id = ?",
                                                 {SqlValue::Int(run_id)}));
  if (exists.empty()) return absl::NotFoundError(absl::StrCat("run_id: no run ", run_id));
  FL_ASSIGN_OR_RETURN(
      SqlRows rows,
      db_->Query("SELECT metric, unit, direction, count, mean, median, min, max, stddev "
                 "FROM run_summaries WHERE run_id = ? ORDER BY metric",
                 {SqlValue::Int(run_id)}));
  std::vector<MetricSummary> summaries;
  for (const SqlRow& row : rows) {
    MetricSummary s;
    s.run_id = run_id;
    s.metric = row[0].AsString();
    s.unit = row[1].AsString();
    s.direction = ParseDirection(row[2].AsString());
    s.count = row[3].AsInt();
    s.mean = row[4].AsDouble();
    s.median = row[5].AsDouble();
    s.min = row[6].AsDouble();
    s.max = row[7].AsDouble();
    s.stddev = row[8].AsDouble();
    summaries.push_back(std::move(s));
  }
  return summaries;
}

absl::StatusOr<std::vector<ProfileRow>> SqlStore::GetRunProfile(int64_t run_id) {
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(SqlRows exists, db_->Query("SELECT 1 FROM runs WHERE run_id = ?",
                                                 {SqlValue::Int(run_id)}));
  if (exists.empty()) return absl::NotFoundError(absl::StrCat("run_id: no run ", run_id));
  FL_ASSIGN_OR_RETURN(
      SqlRows rows,
      db_->Query("SELECT function, self_samples, total_samples, samples FROM run_profiles "
                 "WHERE run_id = ? ORDER BY total_samples DESC, self_samples DESC, function",
                 {SqlValue::Int(run_id)}));
  std::vector<ProfileRow> profile;
  for (const SqlRow& row : rows) {
    profile.push_back({row[0].AsString(), static_cast<uint64_t>(row[1].AsInt()),
                       static_cast<uint64_t>(row[2].AsInt()),
                       static_cast<uint64_t>(row[3].AsInt())});
  }
  return profile;
}

absl::StatusOr<int64_t> SqlStore::PruneSamples(absl::Time older_than) {
  int64_t deleted = 0;
  for (int batch = 0; batch < kPruneMaxBatches; ++batch) {
    // The lock is released between batches so that scheduling is not stalled behind a large
    // prune.
    absl::MutexLock lock(&mu_);
    size_t runs_in_batch = 0;
    int64_t deleted_in_batch = 0;
    absl::Status status = Transact([&]() -> absl::Status {
      deleted_in_batch = 0;
      FL_ASSIGN_OR_RETURN(
          SqlRows runs,
          db_->Query(absl::StrCat("SELECT run_id, result FROM runs WHERE started < ? AND "
                                  "samples_pruned = 0 ORDER BY run_id LIMIT ?",
                                  dialect_.lock_rows),
                     {SqlValue::Time(older_than), SqlValue::Int(kPruneBatchRuns)}));
      runs_in_batch = runs.size();
      for (const SqlRow& run : runs) {
        v1::RunResult result;
        result.ParseFromString(run[1].AsString());
        result.clear_repetitions();
        result.clear_tracing_repetitions();
        FL_ASSIGN_OR_RETURN(int64_t n, db_->Exec("DELETE FROM samples WHERE run_id = ?", {run[0]}));
        deleted_in_batch += n;
        FL_RETURN_IF_ERROR(
            db_->Exec("UPDATE runs SET result = ?, samples_pruned = 1 WHERE run_id = ?",
                      {SqlValue::Blob(result.SerializeAsString()), run[0]})
                .status());
      }
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    deleted += deleted_in_batch;
    if (runs_in_batch < static_cast<size_t>(kPruneBatchRuns)) break;
  }
  return deleted;
}

}  // namespace faultline::controller::store
