// Every SQL query in the dashboards (panels, template variables, annotations), with Grafana's
// macros and variables expanded, runs on a real PostgreSQL 15 as the read-only Grafana role and
// returns rows with the columns Grafana needs. The database holds results of a real campaign
// (a controller and two agents on loopback, replayed into PostgresStore) plus an older kernel
// history for two architectures written through the same store API.
#include <postgresql/libpq-fe.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "controller/store/postgres_store.h"
#include "controller/store/store_encoding.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/faultline/v1/enum_names.h"
#include "tests/dashboards/dashboard_queries.h"
#include "tests/postgres/postgres_server.h"
#include "tests/testing/local_fleet.h"

namespace faultline::testing {
namespace {

using controller::store::PostgresStore;
using controller::store::ReportOutcome;

// Runs a small real campaign on a stock and a "patched" agent and returns its stored runs.
std::vector<v1::StoredRun> RunRealCampaign(std::string* logs) {
  LocalFleet fleet(MakeTempDir("dash-fleet"));
  AgentOptions stock;
  stock.agent_id = "box-stock";
  stock.kernel_label = "stock";
  AgentOptions patched;
  patched.agent_id = "box-patched";
  patched.kernel_label = "patched/vma-retry";
  if (!fleet.StartController().ok() || !fleet.StartAgent(stock).ok() ||
      !fleet.StartAgent(patched).ok()) {
    *logs = fleet.Logs();
    return {};
  }
  v1::SubmitCampaignRequest submit;
  v1::CampaignSpec* spec = submit.mutable_spec();
  spec->set_name("dashboards");
  spec->set_repetitions(1);
  v1::BenchmarkInvocation* inv = spec->add_suite();
  inv->set_benchmark("fault_anon");
  inv->set_repetitions(3);
  (*inv->mutable_params())["region_mib"].set_int_value(1);
  spec->add_targets()->set_kernel_label("stock");
  spec->add_targets()->set_kernel_label("patched/*");
  v1::Campaign campaign;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    grpc::Status s = fleet.stub()->SubmitCampaign(&ctx, submit, &campaign);
    if (!s.ok()) {
      *logs = s.error_message() + fleet.Logs();
      return {};
    }
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (absl::Now() < deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::GetCampaignRequest get;
    get.set_campaign_id(campaign.id());
    if (fleet.stub()->GetCampaign(&ctx, get, &campaign).ok() &&
        campaign.state() >= v1::CAMPAIGN_STATE_SUCCEEDED) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  v1::QueryResultsRequest query;
  query.set_campaign_id(campaign.id());
  v1::QueryResultsResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  if (!fleet.stub()->QueryResults(&ctx, query, &response).ok()) *logs = fleet.Logs();
  *logs = fleet.Logs();
  return {response.runs().begin(), response.runs().end()};
}

v1::RunResult SyntheticResult(v1::Arch arch, const std::string& host_class,
                              const std::string& release, const std::string& label,
                              const std::string& benchmark, const std::string& metric,
                              double mean, absl::Time started) {
  v1::RunResult r;
  r.set_state(v1::RUN_STATE_OK);
  r.set_benchmark(benchmark);
  v1::HostFingerprint* host = r.mutable_host();
  host->set_arch(arch);
  host->set_kernel_release(release);
  host->set_kernel_label(label);
  host->set_host_class(host_class);
  *r.mutable_started() = controller::store::ToProtoTime(started);
  *r.mutable_finished() = controller::store::ToProtoTime(started + absl::Seconds(20));
  for (int rep = 0; rep < 3; ++rep) {
    v1::Repetition* repetition = r.add_repetitions();
    repetition->set_index(rep);
    v1::MetricValue* m = repetition->add_metrics();
    m->set_name(metric);
    m->set_unit(metric == "ns_per_fault" ? "ns" : "ms");
    m->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
    m->set_value(mean * (1 + 0.004 * (rep - 1)));
  }
  return r;
}

// A contention run whose tracing repetitions saw `fallbacks` mmap_lock read acquisitions per
// fault by the contended arm's faulters.
v1::RunResult TracedResult(const std::string& release, const std::string& label,
                           double fallbacks, absl::Time started) {
  v1::RunResult r = SyntheticResult(v1::ARCH_X86_64, "x86_64-epyc-2cpu-8g-hvm", release, label,
                                    "mmap_writer_contention", "fault_p99_ns", 40000, started);
  for (int rep = 0; rep < 2; ++rep) {
    v1::Repetition* traced = r.add_tracing_repetitions();
    traced->set_index(r.repetitions_size() + rep);
    v1::MetricValue* m = traced->add_metrics();
    m->set_name("mmap_lock.contended.faulter.read_acquisitions_per_fault");
    m->set_unit("ratio");
    m->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
    m->set_value(fallbacks);
  }
  return r;
}

// Stores each result as the single job of a campaign, as the controller would.
void StoreResults(controller::store::Store* store, const std::vector<v1::RunResult>& results) {
  for (size_t i = 0; i < results.size(); ++i) {
    const v1::RunResult& r = results[i];
    v1::CampaignSpec spec;
    spec.set_name("history");
    spec.set_priority(v1::PRIORITY_NIGHTLY);
    spec.add_suite()->set_benchmark(r.benchmark());
    spec.add_targets()->set_kernel_label(r.host().kernel_label());
    v1::Job job;
    *job.mutable_invocation() = spec.suite(0);
    job.mutable_target()->set_kernel_label(r.host().kernel_label());
    const absl::Time t = controller::store::FromProtoTime(r.started());
    absl::StatusOr<v1::Campaign> c = store->CreateCampaign(spec, {job}, t);
    ASSERT_TRUE(c.ok()) << c.status();
    const std::string job_id = c->id() + "/j-0001";
    const std::string agent = absl::StrCat("agent-", i);
    ASSERT_TRUE(store->LeaseJob(job_id, agent, "lease", t + absl::Minutes(5), t).value_or(false));
    absl::StatusOr<ReportOutcome> o = store->RecordResult(job_id, 1, "lease", agent, r, t);
    ASSERT_TRUE(o.ok()) << o.status();
    ASSERT_EQ(*o, ReportOutcome::kStored);
  }
}

struct PgResult {
  std::string error;
  std::vector<std::string> columns;
  std::vector<Oid> types;
  std::vector<std::vector<std::string>> rows;
};

PgResult Query(PGconn* conn, const std::string& sql) {
  PgResult out;
  PGresult* res = PQexec(conn, sql.c_str());
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    out.error = PQresultErrorMessage(res);
    if (out.error.empty()) out.error = "not a row-returning statement";
  } else {
    for (int c = 0; c < PQnfields(res); ++c) {
      out.columns.push_back(PQfname(res, c));
      out.types.push_back(PQftype(res, c));
    }
    for (int r = 0; r < PQntuples(res); ++r) {
      std::vector<std::string> row;
      for (int c = 0; c < PQnfields(res); ++c) row.push_back(PQgetvalue(res, r, c));
      out.rows.push_back(std::move(row));
    }
  }
  PQclear(res);
  return out;
}

bool IsNumeric(Oid type) {
  // int2, int4, int8, float4, float8, numeric.
  return type == 21 || type == 23 || type == 20 || type == 700 || type == 701 || type == 1700;
}

bool IsTime(Oid type) {
  // timestamp, timestamptz, or epoch seconds as a number.
  return type == 1114 || type == 1184 || IsNumeric(type);
}

int ColumnIndex(const PgResult& r, const std::string& name) {
  for (size_t i = 0; i < r.columns.size(); ++i) {
    if (r.columns[i] == name) return static_cast<int>(i);
  }
  return -1;
}

class DashboardsSqlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = PostgresServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    absl::StatusOr<std::string> conninfo = server_->CreateDatabase("faultline");
    ASSERT_TRUE(conninfo.ok()) << conninfo.status();
    conninfo_ = new std::string(*conninfo);
    auto store = PostgresStore::Open(*conninfo_);
    ASSERT_TRUE(store.ok()) << store.status();

    std::string logs;
    std::vector<v1::StoredRun> real = RunRealCampaign(&logs);
    ASSERT_EQ(real.size(), 2u) << logs;
    std::vector<v1::RunResult> results;
    for (const v1::StoredRun& run : real) {
      ASSERT_EQ(run.result().state(), v1::RUN_STATE_OK) << run.result().diagnostic();
      results.push_back(run.result());
    }
    real_arch_ = new std::string(v1::ArchName(results[0].host().arch()));
    // Older kernels on both architectures: 6.1 stock, then 6.6 stock (+2%: no change point),
    // then 6.6 with the patch series (-12%: a change point), stock and patched in one hour.
    const absl::Time hour =
        absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) / 3600 * 3600);
    for (auto [arch, host_class] :
         {std::pair{v1::ARCH_X86_64, std::string("x86_64-epyc-2cpu-8g-hvm")},
          std::pair{v1::ARCH_ARM64, std::string("arm64-neoverse-n1-4cpu-16g-bare")}}) {
      for (auto [benchmark, metric, base] :
           {std::tuple{std::string("fault_anon"), std::string("ns_per_fault"), 1500.0},
            std::tuple{std::string("fork_mapped"), std::string("fork_ms"), 15.0}}) {
        results.push_back(SyntheticResult(arch, host_class, "6.1.0-21-cloud", "stock",
                                          benchmark, metric, base, hour - absl::Hours(24 * 20)));
        results.push_back(SyntheticResult(arch, host_class, "6.6.0-1-cloud", "stock", benchmark,
                                          metric, base * 1.02,
                                          hour - absl::Hours(24 * 5) + absl::Minutes(10)));
        results.push_back(SyntheticResult(arch, host_class, "6.6.0-1-cloud",
                                          "patched/vma-retry", benchmark, metric, base * 0.88,
                                          hour - absl::Hours(24 * 5) + absl::Minutes(11)));
      }
    }
    // A stock kernel retries every major fault under mmap_lock; the patch series does not.
    results.push_back(TracedResult("6.6.0-1-cloud", "stock", 1.0,
                                   hour - absl::Hours(24 * 5) + absl::Minutes(12)));
    results.push_back(TracedResult("6.6.0-1-cloud", "patched/vma-retry", 0.02,
                                   hour - absl::Hours(24 * 5) + absl::Minutes(13)));
    StoreResults(store->get(), results);

    const CommandResult role = RunCommand(
        {"/usr/bin/psql", *conninfo_, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v",
         "grafana_password=dashboards-test", "-f",
         RunfilePath("dashboards/create_grafana_role.sql")},
        absl::Seconds(60));
    ASSERT_EQ(role.exit_code, 0) << role.output << role.errors;
  }

  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    conn_ = PQconnectdb((*conninfo_ + " user=faultline_grafana").c_str());
    ASSERT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
    absl::StatusOr<std::vector<Dashboard>> dashboards =
        LoadDashboards(RunfilePath("dashboards/grafana"));
    ASSERT_TRUE(dashboards.ok()) << dashboards.status();
    dashboards_ = *dashboards;
    ASSERT_EQ(dashboards_.size(), 3u);
  }

  void TearDown() override { PQfinish(conn_); }

  // Runs the dashboard's SQL variable queries in order, as Grafana does, choosing values the
  // way a user would: every value for multi-value variables, a preferred one otherwise.
  VariableValues ResolveVariables(const Dashboard& dashboard, SqlContext* context) {
    const std::vector<std::string> preferred = {"fault_anon", "ns_per_fault",
                                                "patched/vma-retry"};
    for (const DashboardQuery& q : ExtractQueries(dashboard)) {
      if (q.kind != QueryKind::kVariable || q.datasource_type != "postgres") continue;
      absl::StatusOr<std::string> sql = ExpandSql(q.text, *context);
      EXPECT_TRUE(sql.ok()) << q.dashboard << " " << q.where << ": " << sql.status();
      if (!sql.ok()) continue;
      PgResult r = Query(conn_, *sql);
      EXPECT_EQ(r.error, "") << q.dashboard << " " << q.where << ":\n" << *sql;
      EXPECT_FALSE(r.rows.empty()) << q.dashboard << " " << q.where << " has no values";
      if (r.rows.empty()) continue;
      std::vector<std::string> values;
      for (const auto& row : r.rows) values.push_back(row[0]);
      const std::string name = q.where.substr(q.where.find('$') + 1);
      std::vector<std::string> chosen = values;
      if (absl::StrContains(q.where, "benchmark") || absl::StrContains(q.where, "metric") ||
          (dashboard.file == "gate.json" && name == "kernel_label")) {
        chosen = {values[0]};
        for (const std::string& p : preferred) {
          if (std::find(values.begin(), values.end(), p) != values.end()) chosen = {p};
        }
      }
      context->variables[name] = chosen;
    }
    return context->variables;
  }

  static PostgresServer* server_;
  static std::string* conninfo_;
  static std::string* real_arch_;
  PGconn* conn_ = nullptr;
  std::vector<Dashboard> dashboards_;
};

PostgresServer* DashboardsSqlTest::server_ = nullptr;
std::string* DashboardsSqlTest::conninfo_ = nullptr;
std::string* DashboardsSqlTest::real_arch_ = nullptr;

TEST_F(DashboardsSqlTest, GrafanaRoleReadsResultsAndNothingElse) {
  EXPECT_EQ(Query(conn_, "SELECT count(*) FROM samples").error, "");
  EXPECT_THAT(Query(conn_, "SELECT registration FROM agents").error,
              ::testing::HasSubstr("permission denied"));
  EXPECT_THAT(Query(conn_, "SELECT lease_id FROM jobs").error,
              ::testing::HasSubstr("permission denied"));
  EXPECT_THAT(Query(conn_, "DELETE FROM samples RETURNING run_id").error,
              ::testing::HasSubstr("read-only transaction"));
}

TEST_F(DashboardsSqlTest, EverySqlQueryReturnsRowsWithTheColumnsGrafanaNeeds) {
  int checked = 0;
  for (const Dashboard& dashboard : dashboards_) {
    SqlContext context;
    context.from = absl::Now() - absl::Hours(24 * 90);
    context.to = absl::Now() + absl::Hours(1);
    context.interval = absl::Hours(1);
    ResolveVariables(dashboard, &context);
    for (const DashboardQuery& q : ExtractQueries(dashboard)) {
      if (q.datasource_type != "postgres" || q.kind == QueryKind::kVariable) continue;
      SCOPED_TRACE(absl::StrCat(q.dashboard, " ", q.where));
      absl::StatusOr<std::string> sql = ExpandSql(q.text, context);
      ASSERT_TRUE(sql.ok()) << sql.status();
      PgResult r = Query(conn_, *sql);
      ASSERT_EQ(r.error, "") << *sql;
      EXPECT_FALSE(r.rows.empty()) << "no rows from:\n" << *sql;
      ++checked;
      if (q.kind == QueryKind::kAnnotation) {
        const int time = ColumnIndex(r, "time");
        ASSERT_GE(time, 0) << "annotations need a time column";
        EXPECT_TRUE(IsTime(r.types[time]));
        EXPECT_GE(ColumnIndex(r, "text"), 0) << "annotations need a text column";
        continue;
      }
      if (q.format == "time_series") {
        const int time = ColumnIndex(r, "time");
        ASSERT_GE(time, 0) << "time series need a time column";
        EXPECT_TRUE(IsTime(r.types[time]));
        int values = 0;
        for (size_t c = 0; c < r.columns.size(); ++c) {
          if (static_cast<int>(c) != time && IsNumeric(r.types[c])) ++values;
        }
        EXPECT_GE(values, 1) << "time series need a numeric value column";
        const int metric = ColumnIndex(r, "metric");
        if (metric >= 0) {
          EXPECT_FALSE(IsNumeric(r.types[metric]));
        }
      } else {
        EXPECT_EQ(q.format, "table");
      }
    }
  }
  std::printf("ran %d dashboard SQL queries (panels and annotations)\n", checked);
  EXPECT_GE(checked, 8);
}

TEST_F(DashboardsSqlTest, ChangePointAnnotationMarksThePatchedKernel) {
  for (const Dashboard& dashboard : dashboards_) {
    if (dashboard.file != "regressions.json") continue;
    SqlContext context;
    context.from = absl::Now() - absl::Hours(24 * 90);
    context.to = absl::Now() + absl::Hours(1);
    ResolveVariables(dashboard, &context);
    ASSERT_EQ(context.variables["benchmark"], std::vector<std::string>{"fault_anon"});
    for (const DashboardQuery& q : ExtractQueries(dashboard)) {
      if (q.kind != QueryKind::kAnnotation) continue;
      absl::StatusOr<std::string> sql = ExpandSql(q.text, context);
      ASSERT_TRUE(sql.ok()) << sql.status();
      PgResult r = Query(conn_, *sql);
      ASSERT_EQ(r.error, "");
      std::vector<std::string> texts;
      for (const auto& row : r.rows) texts.push_back(row[ColumnIndex(r, "text")]);
      // -12% on each synthetic architecture; the 2% step between 6.1 and 6.6 stock is not one.
      EXPECT_THAT(texts, ::testing::Contains(::testing::HasSubstr(
                             "x86_64 x86_64-epyc-2cpu-8g-hvm: 6.6.0-1-cloud (stock) -> "
                             "6.6.0-1-cloud (patched/vma-retry): -13.7%")))
          << absl::StrJoin(texts, "\n");
      EXPECT_THAT(texts, ::testing::Contains(::testing::HasSubstr("arm64")));
      for (const std::string& t : texts) {
        EXPECT_THAT(t, ::testing::Not(::testing::HasSubstr(
                           "6.1.0-21-cloud (stock) -> 6.6.0-1-cloud (stock)")));
      }
    }
  }
}

TEST_F(DashboardsSqlTest, MmapLockFallbacksPanelShowsEachKernelsFallbacksPerFault) {
  for (const Dashboard& dashboard : dashboards_) {
    if (dashboard.file != "regressions.json") continue;
    SqlContext context;
    context.from = absl::Now() - absl::Hours(24 * 90);
    context.to = absl::Now() + absl::Hours(1);
    ResolveVariables(dashboard, &context);
    int panels = 0;
    for (const DashboardQuery& q : ExtractQueries(dashboard)) {
      if (!absl::StrContains(q.where, "mmap_lock fallbacks per fault by kernel")) continue;
      ++panels;
      absl::StatusOr<std::string> sql = ExpandSql(q.text, context);
      ASSERT_TRUE(sql.ok()) << sql.status();
      PgResult r = Query(conn_, *sql);
      ASSERT_EQ(r.error, "") << *sql;
      const int kernel = ColumnIndex(r, "kernel"), scope = ColumnIndex(r, "scope"),
                value = ColumnIndex(r, "fallbacks_per_fault");
      ASSERT_GE(kernel, 0);
      ASSERT_GE(scope, 0);
      ASSERT_GE(value, 0);
      std::map<std::string, std::string> by_kernel;
      for (const auto& row : r.rows) {
        if (row[scope] == "contended.faulter" && row[1] == "mmap_writer_contention") {
          by_kernel[row[kernel]] = row[value];
        }
      }
      EXPECT_EQ(by_kernel["x86_64 6.6.0-1-cloud (stock)"], "1") << *sql;
      EXPECT_EQ(by_kernel["x86_64 6.6.0-1-cloud (patched/vma-retry)"], "0.02") << *sql;
    }
    EXPECT_EQ(panels, 1);
  }
}

}  // namespace
}  // namespace faultline::testing
