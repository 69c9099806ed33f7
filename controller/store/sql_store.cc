#include "controller/store/sql_store.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "controller/store/agent_registration.pb.h"
#include "controller/store/store_encoding.h"

namespace faultline::controller {
namespace {

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define FL_RETURN_IF_ERROR(expr)            \
  do {                                      \
    absl::Status fl_status_ = (expr);       \
    if (!fl_status_.ok()) return fl_status_; \
  } while (0)

// Assigns the value of a StatusOr expression to `lhs`, or returns its error.
#define FL_ASSIGN_OR_RETURN(lhs, expr) FL_ASSIGN_OR_RETURN_IMPL(FL_CONCAT(fl_or_, __LINE__), lhs, expr)
#define FL_CONCAT_INNER(a, b) a##b
#define FL_CONCAT(a, b) FL_CONCAT_INNER(a, b)
#define FL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(*tmp)

constexpr int kTransactionAttempts = 5;
// Rows per multi-row INSERT; 128 rows of 15 columns stay under every backend's parameter limit.
constexpr int kInsertBatchRows = 128;
constexpr int kPruneBatchRuns = 200;
// Bounds the pruning loop: at most this many batches per call (1,000,000 runs).
constexpr int kPruneMaxBatches = 5000;

bool IsFinalCampaignState(const std::string& state) { return state != "open"; }

v1::CampaignState ParseCampaignState(const std::string& state) {
  if (state == "succeeded") return v1::CAMPAIGN_STATE_SUCCEEDED;
  if (state == "failed") return v1::CAMPAIGN_STATE_FAILED;
  if (state == "cancelled") return v1::CAMPAIGN_STATE_CANCELLED;
  return v1::CAMPAIGN_STATE_PENDING;
}

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

absl::Status ValidateResult(const v1::RunResult& result) {
  std::set<uint32_t> indexes;
  for (int r = 0; r < result.repetitions_size(); ++r) {
    const v1::Repetition& rep = result.repetitions(r);
    if (!indexes.insert(rep.index()).second) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "result.repetitions[%d].index: repetition %d appears more than once", r, rep.index()));
    }
    std::set<std::string> names;
    for (int m = 0; m < rep.metrics_size(); ++m) {
      const std::string& name = rep.metrics(m).name();
      if (name.empty()) {
        return absl::InvalidArgumentError(
            absl::StrFormat("result.repetitions[%d].metrics[%d].name: must not be empty", r, m));
      }
      if (!names.insert(name).second) {
        return absl::InvalidArgumentError(
            absl::StrFormat("result.repetitions[%d].metrics[%d].name: metric '%s' appears more "
                            "than once in the repetition",
                            r, m, name));
      }
    }
  }
  return absl::OkStatus();
}

AgentRecord AgentFromRow(const SqlRow& row) {
  // agent_id, registration, registered, last_seen, state, current_job_id
  AgentRecord agent;
  agent.agent_id = row[0].AsString();
  store::AgentRegistration registration;
  registration.ParseFromString(row[1].AsString());
  agent.host = registration.host();
  agent.catalog.assign(registration.catalog().begin(), registration.catalog().end());
  agent.tags.assign(registration.tags().begin(), registration.tags().end());
  agent.agent_version = registration.agent_version();
  agent.provisionable_kernels.assign(registration.provisionable_kernels().begin(),
                                     registration.provisionable_kernels().end());
  agent.registered = row[2].AsTime();
  agent.last_seen = row[3].AsTime();
  agent.state = static_cast<int>(row[4].AsInt());
  agent.current_job_id = row[5].AsString();
  return agent;
}

constexpr char kAgentColumns[] =
    "agent_id, registration, registered, last_seen, state, current_job_id";

v1::Job JobFromRow(const SqlRow& row, size_t first) {
  // spec, state, attempt, agent_id, diagnostic
  v1::Job job;
  job.ParseFromString(row[first].AsString());
  job.set_state(ParseJobState(row[first + 1].AsString()));
  job.set_attempt(static_cast<uint32_t>(row[first + 2].AsInt()));
  job.set_agent_id(row[first + 3].AsString());
  job.set_diagnostic(row[first + 4].AsString());
  return job;
}

constexpr char kJobColumns[] = "j.spec, j.state, j.attempt, j.agent_id, j.diagnostic";

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

std::string GlobToRegex(const std::string& glob) {
  std::string out = "^";
  for (size_t i = 0; i < glob.size(); ++i) {
    char c = glob[i];
    if (c == '*') {
      out += ".*";
    } else if (c == '?') {
      out += '.';
    } else if (c == '[') {
      size_t close = glob.find(']', i + 2);
      if (close == std::string::npos) {
        out += "\\[";
        continue;
      }
      std::string body = glob.substr(i + 1, close - i - 1);
      if (!body.empty() && body[0] == '!') body[0] = '^';
      out += "[" + body + "]";
      i = close;
    } else if (std::string("\\.^$|()+{}]").find(c) != std::string::npos) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out + "$";
}

SqlStore::SqlStore(const SqlDialect& dialect, std::unique_ptr<SqlConnection> db)
    : dialect_(dialect), db_(std::move(db)) {}

absl::Status SqlStore::Transact(const std::function<absl::Status()>& body) {
  absl::Status status;
  for (int attempt = 1; attempt <= kTransactionAttempts; ++attempt) {
    status = db_->ExecScript(dialect_.begin_write);
    if (!status.ok()) return status;
    status = body();
    if (status.ok()) status = db_->ExecScript("COMMIT");
    if (status.ok()) return status;
    db_->ExecScript("ROLLBACK").IgnoreError();
    if (status.code() != absl::StatusCode::kAborted) return status;
  }
  return status;
}

absl::Status SqlStore::Migrate() {
  absl::MutexLock lock(&mu_);
  const int known = KnownSchemaVersion();
  return Transact([&]() -> absl::Status {
    if (!dialect_.migration_lock.empty()) {
      FL_RETURN_IF_ERROR(db_->Query(dialect_.migration_lock, {}).status());
    }
    FL_RETURN_IF_ERROR(
        db_->ExecScript("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
    FL_ASSIGN_OR_RETURN(SqlRows rows, db_->Query("SELECT version FROM schema_version", {}));
    int current = 0;
    if (rows.empty()) {
      FL_RETURN_IF_ERROR(
          db_->Exec("INSERT INTO schema_version (version) VALUES (0)", {}).status());
    } else {
      current = static_cast<int>(rows[0][0].AsInt());
    }
    if (current > known) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s database schema version %d is newer than this controller supports (version %d); "
          "run a newer controller",
          dialect_.name, current, known));
    }
    for (int version = current; version < known; ++version) {
      absl::Status status = db_->ExecScript(dialect_.migrations[version]);
      if (!status.ok()) {
        return absl::Status(status.code(), absl::StrFormat("migrating schema to version %d: %s",
                                                           version + 1, status.message()));
      }
      FL_RETURN_IF_ERROR(db_->Exec("UPDATE schema_version SET version = ?",
                                   {SqlValue::Int(version + 1)})
                             .status());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int> SqlStore::SchemaVersion() {
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(SqlRows rows, db_->Query("SELECT version FROM schema_version", {}));
  if (rows.empty()) return 0;
  return static_cast<int>(rows[0][0].AsInt());
}

// --- Agents ---

absl::Status SqlStore::UpsertAgent(const AgentRecord& agent) {
  if (agent.agent_id.empty()) return absl::InvalidArgumentError("agent_id: must not be empty");
  store::AgentRegistration registration;
  *registration.mutable_host() = agent.host;
  for (const auto& spec : agent.catalog) *registration.add_catalog() = spec;
  for (const auto& tag : agent.tags) registration.add_tags(tag);
  registration.set_agent_version(agent.agent_version);
  for (const auto& k : agent.provisionable_kernels) registration.add_provisionable_kernels(k);
  absl::MutexLock lock(&mu_);
  return db_
      ->Exec(
          "INSERT INTO agents (agent_id, registration, registered, last_seen, state, "
          "current_job_id) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET "
          "registration = excluded.registration, last_seen = excluded.last_seen, "
          "state = excluded.state, current_job_id = excluded.current_job_id",
          {SqlValue::Text(agent.agent_id), SqlValue::Blob(registration.SerializeAsString()),
           SqlValue::Time(agent.registered), SqlValue::Time(agent.last_seen),
           SqlValue::Int(agent.state), SqlValue::Text(agent.current_job_id)})
      .status();
}

absl::Status SqlStore::TouchAgent(const std::string& agent_id, int state,
                                  const std::string& current_job_id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(
      int64_t changed,
      db_->Exec("UPDATE agents SET state = ?, current_job_id = ?, last_seen = ? WHERE agent_id = ?",
                {SqlValue::Int(state), SqlValue::Text(current_job_id), SqlValue::Time(now),
                 SqlValue::Text(agent_id)}));
  if (changed == 0) {
    return absl::NotFoundError(absl::StrCat("agent_id: no agent '", agent_id, "' registered"));
  }
  return absl::OkStatus();
}

absl::StatusOr<AgentRecord> SqlStore::GetAgent(const std::string& agent_id) {
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(SqlRows rows,
                      db_->Query(absl::StrCat("SELECT ", kAgentColumns,
                                              " FROM agents WHERE agent_id = ?"),
                                 {SqlValue::Text(agent_id)}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("agent_id: no agent '", agent_id, "' registered"));
  }
  return AgentFromRow(rows[0]);
}

absl::StatusOr<std::vector<AgentRecord>> SqlStore::ListAgents() {
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(
      SqlRows rows,
      db_->Query(absl::StrCat("SELECT ", kAgentColumns, " FROM agents ORDER BY agent_id"), {}));
  std::vector<AgentRecord> agents;
  agents.reserve(rows.size());
  for (const SqlRow& row : rows) agents.push_back(AgentFromRow(row));
  return agents;
}

// --- Campaigns ---

absl::StatusOr<v1::CampaignProgress> SqlStore::CountProgress(const std::string& campaign_id) {
  FL_ASSIGN_OR_RETURN(
      SqlRows rows,
      db_->Query("SELECT state, COUNT(*) FROM jobs WHERE campaign_id = ? GROUP BY state",
                 {SqlValue::Text(campaign_id)}));
  v1::CampaignProgress progress;
  for (const SqlRow& row : rows) {
    uint32_t n = static_cast<uint32_t>(row[1].AsInt());
    progress.set_jobs_total(progress.jobs_total() + n);
    switch (ParseJobState(row[0].AsString())) {
      case v1::JOB_STATE_QUEUED:
        progress.set_jobs_queued(n);
        break;
      case v1::JOB_STATE_RUNNING:
        progress.set_jobs_running(n);
        break;
      case v1::JOB_STATE_SUCCEEDED:
        progress.set_jobs_succeeded(n);
        break;
      case v1::JOB_STATE_FAILED:
        progress.set_jobs_failed(n);
        break;
      case v1::JOB_STATE_CANCELLED:
        progress.set_jobs_cancelled(n);
        break;
      case v1::JOB_STATE_SKIPPED:
        progress.set_jobs_skipped(n);
        break;
      default:
        break;
    }
  }
  return progress;
}

absl::StatusOr<v1::Campaign> SqlStore::ReadCampaign(const std::string& campaign_id) {
  FL_ASSIGN_OR_RETURN(
      SqlRows rows,
      db_->Query("SELECT spec, state, created, finished FROM campaigns WHERE id = ?",
                 {SqlValue::Text(campaign_id)}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("campaign_id: no campaign '", campaign_id, "'"));
  }
  const SqlRow& row = rows[0];
  v1::Campaign campaign;
  campaign.set_id(campaign_id);
  campaign.mutable_spec()->ParseFromString(row[0].AsString());
  *campaign.mutable_created() = ToProtoTime(row[2].AsTime());
  if (!row[3].is_null()) *campaign.mutable_finished() = ToProtoTime(row[3].AsTime());
  FL_ASSIGN_OR_RETURN(*campaign.mutable_progress(), CountProgress(campaign_id));
  v1::CampaignState state = ParseCampaignState(row[1].AsString());
  // Open campaigns are PENDING until their first job is leased (requeued jobs count as started).
  if (state == v1::CAMPAIGN_STATE_PENDING) {
    bool started = campaign.progress().jobs_queued() != campaign.progress().jobs_total();
    if (!started) {
      FL_ASSIGN_OR_RETURN(SqlRows leased,
                          db_->Query("SELECT 1 FROM jobs WHERE campaign_id = ? AND attempt > 0 "
                                     "LIMIT 1",
                                     {SqlValue::Text(campaign_id)}));
      started = !leased.empty();
    }
    if (started) state = v1::CAMPAIGN_STATE_RUNNING;
  }
  campaign.set_state(state);
  return campaign;
}

absl::StatusOr<v1::Campaign> SqlStore::CreateCampaign(const v1::CampaignSpec& spec,
                                                      const std::vector<v1::Job>& jobs,
                                                      absl::Time now) {
  if (jobs.empty()) return absl::InvalidArgumentError("jobs: a campaign needs at least one job");
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (spec.targets_size() > 0 &&
        jobs[i].target_index() >= static_cast<uint32_t>(spec.targets_size())) {
      return absl::InvalidArgumentError(
          absl::StrFormat("jobs[%d].target_index: %d is out of range (the spec has %d targets)", i,
                          jobs[i].target_index(), spec.targets_size()));
    }
  }
  absl::MutexLock lock(&mu_);
  std::string campaign_id;
  absl::Status status = Transact([&]() -> absl::Status {
    FL_ASSIGN_OR_RETURN(SqlRows rows, db_->Query(dialect_.next_campaign_number, {}));
    if (rows.empty()) return absl::InternalError("campaign numbering returned no row");
    int64_t number = rows[0][0].AsInt();
    campaign_id = absl::StrFormat("c-%06d", number);
    FL_RETURN_IF_ERROR(
        db_->Exec("INSERT INTO campaigns (seq, id, name, priority, state, spec, created) "
                  "VALUES (?, ?, ?, ?, 'open', ?, ?)",
                  {SqlValue::Int(number), SqlValue::Text(campaign_id), SqlValue::Text(spec.name()),
                   SqlValue::Int(spec.priority()), SqlValue::Blob(spec.SerializeAsString()),
                   SqlValue::Time(now)})
            .status());
    SqlParams values;
    for (size_t i = 0; i < jobs.size(); ++i) {
      v1::Job job = jobs[i];
      job.set_id(absl::StrFormat("%s/j-%04d", campaign_id, i + 1));
      job.set_campaign_id(campaign_id);
      job.set_state(v1::JOB_STATE_QUEUED);
      job.set_attempt(0);
      job.clear_agent_id();
      job.clear_diagnostic();
      values.push_back(SqlValue::Text(job.id()));
      values.push_back(SqlValue::Text(campaign_id));
      values.push_back(SqlValue::Int(static_cast<int64_t>(i + 1)));
      values.push_back(SqlValue::Int(job.sequence()));
      values.push_back(SqlValue::Int(job.target_index()));
      values.push_back(SqlValue::Text(job.pinned_agent_id()));
      values.push_back(SqlValue::Blob(job.SerializeAsString()));
      values.push_back(SqlValue::Text("queued"));
    }
    return InsertRows("jobs",
                      {"id", "campaign_id", "num", "sequence", "target_index", "pinned_agent_id",
                       "spec", "state"},
                      values);
  });
  if (!status.ok()) return status;
  return ReadCampaign(campaign_id);
}

absl::Status SqlStore::InsertRows(const std::string& table,
                                  const std::vector<std::string>& columns,
                                  const SqlParams& values) {
  const size_t width = columns.size();
  const size_t total_rows = values.size() / width;
  std::string row = "(?";
  for (size_t i = 1; i < width; ++i) row += ",?";
  row += ")";
  std::string prefix =
      absl::StrCat("INSERT INTO ", table, " (", absl::StrJoin(columns, ", "), ") VALUES ");
  for (size_t first = 0; first < total_rows; first += kInsertBatchRows) {
    size_t n = std::min<size_t>(kInsertBatchRows, total_rows - first);
    std::string sql = prefix;
    sql.reserve(prefix.size() + n * (row.size() + 1));
    for (size_t r = 0; r < n; ++r) {
      if (r > 0) sql += ',';
      sql += row;
    }
    SqlParams batch(values.begin() + first * width, values.begin() + (first + n) * width);
    FL_RETURN_IF_ERROR(db_->Exec(sql, batch).status());
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Campaign> SqlStore::GetCampaign(const std::string& campaign_id) {
  absl::MutexLock lock(&mu_);
  return ReadCampaign(campaign_id);
}

absl::StatusOr<std::vector<v1::Campaign>> SqlStore::ListCampaigns(int limit) {
  if (limit < 1) return absl::InvalidArgumentError("limit: must be at least 1");
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(SqlRows rows,
                      db_->Query("SELECT id FROM campaigns ORDER BY seq DESC LIMIT ?",
                                 {SqlValue::Int(limit)}));
  std::vector<v1::Campaign> campaigns;
  for (const SqlRow& row : rows) {
    FL_ASSIGN_OR_RETURN(v1::Campaign campaign, ReadCampaign(row[0].AsString()));
    campaigns.push_back(std::move(campaign));
  }
  return campaigns;
}

absl::StatusOr<std::vector<v1::Job>> SqlStore::ListJobs(const std::string& campaign_id) {
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(SqlRows exists, db_->Query("SELECT 1 FROM campaigns WHERE id = ?",
                                                 {SqlValue::Text(campaign_id)}));
  if (exists.empty()) {
    return absl::NotFoundError(absl::StrCat("campaign_id: no campaign '", campaign_id, "'"));
  }
  FL_ASSIGN_OR_RETURN(SqlRows rows,
                      db_->Query(absl::StrCat("SELECT ", kJobColumns,
                                              " FROM jobs j WHERE j.campaign_id = ? "
                                              "ORDER BY j.sequence, j.num"),
                                 {SqlValue::Text(campaign_id)}));
  std::vector<v1::Job> jobs;
  jobs.reserve(rows.size());
  for (const SqlRow& row : rows) jobs.push_back(JobFromRow(row, 0));
  return jobs;
}

absl::StatusOr<std::string> SqlStore::LockCampaign(const std::string& campaign_id) {
  FL_ASSIGN_OR_RETURN(SqlRows rows,
                      db_->Query(absl::StrCat("SELECT state FROM campaigns WHERE id = ?",
                                              dialect_.lock_rows),
                                 {SqlValue::Text(campaign_id)}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("campaign_id: no campaign '", campaign_id, "'"));
  }
  return rows[0][0].AsString();
}

absl::StatusOr<v1::Campaign> SqlStore::CancelCampaign(const std::string& campaign_id,
                                                      absl::Time now) {
  absl::MutexLock lock(&mu_);
  absl::Status status = Transact([&]() -> absl::Status {
    FL_ASSIGN_OR_RETURN(std::string state, LockCampaign(campaign_id));
    if (IsFinalCampaignState(state)) return absl::OkStatus();
    FL_RETURN_IF_ERROR(
        db_->Exec("UPDATE jobs SET state = 'cancelled', lease_id = '' WHERE campaign_id = ? AND "
                  "state IN ('queued', 'running')",
                  {SqlValue::Text(campaign_id)})
            .status());
    return db_
        ->Exec("UPDATE campaigns SET state = 'cancelled', finished = ? WHERE id = ?",
               {SqlValue::Time(now), SqlValue::Text(campaign_id)})
        .status();
  });
  if (!status.ok()) return status;
  return ReadCampaign(campaign_id);
}

absl::Status SqlStore::FinishCampaignIfDone(const std::string& campaign_id, absl::Time now) {
  // Index probes rather than a count: this runs for every result of campaigns of any size.
  FL_ASSIGN_OR_RETURN(SqlRows open,
                      db_->Query("SELECT 1 FROM jobs WHERE campaign_id = ? AND state IN "
                                 "('queued', 'running') LIMIT 1",
                                 {SqlValue::Text(campaign_id)}));
  if (!open.empty()) return absl::OkStatus();
  FL_ASSIGN_OR_RETURN(SqlRows failed,
                      db_->Query("SELECT 1 FROM jobs WHERE campaign_id = ? AND state = 'failed' "
                                 "LIMIT 1",
                                 {SqlValue::Text(campaign_id)}));
  const char* final_state = failed.empty() ? "succeeded" : "failed";
  return db_
      ->Exec("UPDATE campaigns SET state = ?, finished = ? WHERE id = ? AND state = 'open'",
             {SqlValue::Text(final_state), SqlValue::Time(now), SqlValue::Text(campaign_id)})
      .status();
}

// --- Scheduling ---

absl::StatusOr<std::vector<QueuedJob>> SqlStore::ListQueuedJobs(int limit) {
  if (limit < 1) return absl::InvalidArgumentError("limit: must be at least 1");
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(
      SqlRows rows,
      db_->Query(absl::StrCat("SELECT ", kJobColumns,
                              ", c.priority, c.created FROM jobs j JOIN campaigns c ON c.id = "
                              "j.campaign_id WHERE j.state = 'queued' ORDER BY c.priority DESC, "
                              "c.created, c.seq, j.sequence, j.num LIMIT ?"),
                 {SqlValue::Int(limit)}));
  std::vector<QueuedJob> jobs;
  jobs.reserve(rows.size());
  for (const SqlRow& row : rows) {
    QueuedJob queued;
    queued.job = JobFromRow(row, 0);
    queued.priority = static_cast<int>(row[5].AsInt());
    queued.campaign_created = row[6].AsTime();
    jobs.push_back(std::move(queued));
  }
  return jobs;
}

absl::StatusOr<bool> SqlStore::JobExists(const std::string& job_id) {
  FL_ASSIGN_OR_RETURN(SqlRows rows,
                      db_->Query("SELECT 1 FROM jobs WHERE id = ?", {SqlValue::Text(job_id)}));
  return !rows.empty();
}

absl::StatusOr<bool> SqlStore::LeaseJob(const std::string& job_id, const std::string& agent_id,
                                        const std::string& lease_id, absl::Time deadline,
                                        absl::Time now) {
  if (agent_id.empty()) return absl::InvalidArgumentError("agent_id: must not be empty");
  if (lease_id.empty()) return absl::InvalidArgumentError("lease_id: must not be empty");
  absl::MutexLock lock(&mu_);
  // The compare-and-set: only a caller that still sees the job queued changes it.
  FL_ASSIGN_OR_RETURN(
      int64_t changed,
      db_->Exec("UPDATE jobs SET state = 'running', attempt = attempt + 1, agent_id = ?, "
                "lease_id = ?, lease_deadline = ? WHERE id = ? AND state = 'queued'",
                {SqlValue::Text(agent_id), SqlValue::Text(lease_id), SqlValue::Time(deadline),
                 SqlValue::Text(job_id)}));
  if (changed == 1) return true;
  FL_ASSIGN_OR_RETURN(bool exists, JobExists(job_id));
  if (!exists) return absl::NotFoundError(absl::StrCat("job_id: no job '", job_id, "'"));
  return false;
}

absl::Status SqlStore::RenewLease(const std::string& job_id, const std::string& lease_id,
                                  absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(
      int64_t changed,
      db_->Exec("UPDATE jobs SET lease_deadline = ? WHERE id = ? AND state = 'running' AND "
                "lease_id = ?",
                {SqlValue::Time(deadline), SqlValue::Text(job_id), SqlValue::Text(lease_id)}));
  if (changed == 1) return absl::OkStatus();
  FL_ASSIGN_OR_RETURN(bool exists, JobExists(job_id));
  if (!exists) return absl::NotFoundError(absl::StrCat("job_id: no job '", job_id, "'"));
  return absl::FailedPreconditionError(absl::StrCat(
      "lease_id: '", lease_id, "' is not the current lease of job '", job_id, "'"));
}

absl::StatusOr<Lease> SqlStore::GetLease(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(
      SqlRows rows,
      db_->Query("SELECT state, agent_id, lease_id, attempt, lease_deadline FROM jobs WHERE id = ?",
                 {SqlValue::Text(job_id)}));
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("job_id: no job '", job_id, "'"));
  const SqlRow& row = rows[0];
  if (row[0].AsString() != "running") {
    return absl::NotFoundError(absl::StrCat("job '", job_id, "' holds no lease (it is ",
                                            row[0].AsString(), ")"));
  }
  Lease lease;
  lease.job_id = job_id;
  lease.agent_id = row[1].AsString();
  lease.lease_id = row[2].AsString();
  lease.attempt = static_cast<uint32_t>(row[3].AsInt());
  lease.deadline = row[4].AsTime();
  return lease;
}

absl::StatusOr<int> SqlStore::ExpireLeases(absl::Time now, uint32_t max_attempts) {
  if (max_attempts < 1) return absl::InvalidArgumentError("max_attempts: must be at least 1");
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(
      SqlRows expired,
      db_->Query("SELECT id, campaign_id, lease_id, attempt, agent_id FROM jobs "
                 "WHERE state = 'running' AND lease_deadline < ?",
                 {SqlValue::Time(now)}));
  int touched = 0;
  for (const SqlRow& job : expired) {
    const std::string& job_id = job[0].AsString();
    const std::string& campaign_id = job[1].AsString();
    const int64_t attempt = job[3].AsInt();
    const bool give_up = attempt >= static_cast<int64_t>(max_attempts);
    std::string note = absl::StrFormat("attempt %d on %s: lease expired", attempt,
                                       job[4].AsString());
    if (give_up) absl::StrAppend(&note, absl::StrFormat(" (%d attempts used)", attempt));
    // One transaction per job, campaign row first, in the same lock order as RecordResult.
    absl::Status status = Transact([&]() -> absl::Status {
      FL_RETURN_IF_ERROR(LockCampaign(campaign_id).status());
      FL_ASSIGN_OR_RETURN(
          int64_t changed,
          db_->Exec("UPDATE jobs SET state = ?, lease_id = '', diagnostic = CASE WHEN "
                    "diagnostic = '' THEN ? ELSE diagnostic || '; ' || ? END "
                    "WHERE id = ? AND state = 'running' AND lease_id = ? AND lease_deadline < ?",
                    {SqlValue::Text(give_up ? "failed" : "queued"), SqlValue::Text(note),
                     SqlValue::Text(note), SqlValue::Text(job_id), job[2],
                     SqlValue::Time(now)}));
      if (changed == 0) return absl::OkStatus();  // Renewed or finished meanwhile.
      ++touched;
      if (give_up) return FinishCampaignIfDone(campaign_id, now);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
  }
  return touched;
}

// --- Results ---

absl::StatusOr<ReportOutcome> SqlStore::RecordResult(const std::string& job_id, uint32_t attempt,
                                                     const std::string& lease_id,
                                                     const std::string& agent_id,
                                                     const v1::RunResult& result,
                                                     absl::Time now) {
  if (attempt < 1) return absl::InvalidArgumentError("attempt: must be at least 1");
  FL_RETURN_IF_ERROR(ValidateResult(result));
  const std::string result_blob = result.SerializeAsString();
  const absl::Time started = result.has_started() ? FromProtoTime(result.started()) : now;
  const absl::Time finished = result.has_finished() ? FromProtoTime(result.finished()) : now;
  const std::string arch = ArchName(result.host().arch());
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
    for (const v1::Repetition& rep : result.repetitions()) {
      for (const v1::MetricValue& metric : rep.metrics()) {
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

    std::string diagnostic = job[4].AsString();
    if (job_state == v1::JOB_STATE_FAILED) {
      diagnostic = AppendDiagnostic(
          diagnostic,
          absl::StrFormat("attempt %d on %s: %s%s%s", attempt, agent_id,
                          v1::RunState_Name(result.state()),
                          result.diagnostic().empty() ? "" : ": ", result.diagnostic()));
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
  for (const v1::Repetition& rep : result.repetitions()) {
    for (const v1::MetricValue& metric : rep.metrics()) {
      samples.push_back(SqlValue::Int(run.run_id));
      samples.push_back(SqlValue::Int(rep.index()));
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
  for (const v1::Repetition& rep : result.repetitions()) {
    for (const v1::MetricValue& metric : rep.metrics()) {
      if (!first) {
        for (std::string* array : {&repetitions, &metrics, &units, &directions, &values}) {
          *array += ',';
        }
      }
      first = false;
      absl::StrAppend(&repetitions, rep.index());
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
    params.push_back(SqlValue::Text(ArchName(static_cast<v1::Arch>(query.arch))));
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
  if (query.arch != 0) equal("r.arch", ArchName(static_cast<v1::Arch>(query.arch)));
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
    s.arch = ParseArch(row[7].AsString());
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

}  // namespace faultline::controller
