#include "controller/store/sql_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "controller/store/agent_registration.pb.h"
#include "controller/store/status_macros.h"
#include "controller/store/store_encoding.h"

namespace faultline::controller::store {
namespace {

constexpr int kTransactionAttempts = 5;
// Rows per multi-row INSERT; 128 rows of 15 columns stay under every backend's parameter limit.
constexpr int kInsertBatchRows = 128;

bool IsFinalCampaignState(const std::string& state) { return state != "open"; }

v1::CampaignState ParseCampaignState(const std::string& state) {
  if (state == "succeeded") return v1::CAMPAIGN_STATE_SUCCEEDED;
  if (state == "failed") return v1::CAMPAIGN_STATE_FAILED;
  if (state == "cancelled") return v1::CAMPAIGN_STATE_CANCELLED;
  return v1::CAMPAIGN_STATE_PENDING;
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
    // Through Exec, so that these statements too are prepared once.
    status = db_->Exec(dialect_.begin_write, {}).status();
    if (!status.ok()) return status;
    status = body();
    if (status.ok()) status = db_->Exec("COMMIT", {}).status();
    if (status.ok()) return status;
    db_->Exec("ROLLBACK", {}).IgnoreError();
    if (status.code() != absl::StatusCode::kAborted) return status;
  }
  return status;
}

absl::Status SqlStore::AnnounceJobsQueued() {
  if (dialect_.announce_jobs_queued.empty()) return absl::OkStatus();
  return db_->Exec(dialect_.announce_jobs_queued, {}).status();
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
    FL_RETURN_IF_ERROR(InsertRows("jobs",
                                  {"id", "campaign_id", "num", "sequence", "target_index",
                                   "pinned_agent_id", "spec", "state"},
                                  values));
    return AnnounceJobsQueued();
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

absl::StatusOr<v1::Job> SqlStore::GetJob(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(SqlRows rows,
                      db_->Query(absl::StrCat("SELECT ", kJobColumns, " FROM jobs j WHERE j.id = ?"),
                                 {SqlValue::Text(job_id)}));
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("job_id: no job '", job_id, "'"));
  return JobFromRow(rows[0], 0);
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

absl::StatusOr<std::map<int, int64_t>> SqlStore::CountQueuedJobsByPriority() {
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(SqlRows rows,
                      db_->Query("SELECT c.priority, COUNT(*) FROM jobs j JOIN campaigns c ON "
                                 "c.id = j.campaign_id WHERE j.state = 'queued' GROUP BY "
                                 "c.priority",
                                 {}));
  std::map<int, int64_t> counts;
  for (const SqlRow& row : rows) counts[static_cast<int>(row[0].AsInt())] = row[1].AsInt();
  return counts;
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

absl::StatusOr<bool> SqlStore::ReleaseLease(const std::string& job_id,
                                            const std::string& lease_id) {
  absl::MutexLock lock(&mu_);
  FL_ASSIGN_OR_RETURN(SqlRows rows, db_->Query("SELECT campaign_id FROM jobs WHERE id = ?",
                                               {SqlValue::Text(job_id)}));
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("job ", job_id, " does not exist"));
  const std::string campaign_id = rows[0][0].AsString();
  bool released = false;
  // Campaign row first, in the same lock order as every other transition out of running.
  FL_RETURN_IF_ERROR(Transact([&]() -> absl::Status {
    released = false;
    FL_RETURN_IF_ERROR(LockCampaign(campaign_id).status());
    FL_ASSIGN_OR_RETURN(
        int64_t changed,
        db_->Exec("UPDATE jobs SET state = 'queued', attempt = attempt - 1, lease_id = '' "
                  "WHERE id = ? AND state = 'running' AND lease_id = ?",
                  {SqlValue::Text(job_id), SqlValue::Text(lease_id)}));
    if (changed == 0) return absl::OkStatus();
    released = true;
    return AnnounceJobsQueued();
  }));
  return released;
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
      return AnnounceJobsQueued();
    });
    if (!status.ok()) return status;
  }
  return touched;
}

}  // namespace faultline::controller::store
