// A real Prometheus (Debian's `prometheus`) on loopback scrapes a real controller and two real
// agents while they run a small campaign and the controller decides a gate on it. Then
// every PromQL expression and Prometheus variable query in the dashboards runs through
// Prometheus's HTTP API and must parse and return data; the scraped metadata must follow
// Prometheus naming conventions; and no label may carry a job, campaign or agent id.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "controller/metrics/http_get.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/faultline/v1/analysis.grpc.pb.h"
#include "tests/dashboards/dashboard_queries.h"
#include "tests/testing/local_fleet.h"

namespace faultline::testing {
namespace {

using controller::metrics::HttpGet;
using controller::metrics::UrlEncode;
using google::protobuf::Value;

constexpr char kPrometheus[] = "/usr/bin/prometheus";

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

const Value* Field(const Value& v, const std::string& name) {
  if (v.kind_case() != Value::kStructValue) return nullptr;
  auto it = v.struct_value().fields().find(name);
  return it == v.struct_value().fields().end() ? nullptr : &it->second;
}

std::string Str(const Value* v) {
  return v != nullptr && v->kind_case() == Value::kStringValue ? v->string_value() : "";
}

class PrometheusDashboardsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(access(kPrometheus, X_OK), 0)
        << kPrometheus << " not found: install Debian's prometheus (bazel/install_deps.sh --test)";
    dir_ = new std::string(MakeTempDir("prometheus"));
    exporter_ports_ = new std::vector<int>();
    fleet_ = new LocalFleet(*dir_ + "/fleet");
    mkdir((*dir_ + "/fleet").c_str(), 0755);
    ASSERT_TRUE(fleet_
                    ->StartController({"--metrics_port_file=" + *dir_ +
                                       "/controller.metrics_port"})
                    .ok())
        << fleet_->Logs();
    std::vector<std::string> targets_agent;
    for (auto [id, label] : {std::pair{"box-stock", "stock"},
                             std::pair{"box-patched", "patched/vma-retry"}}) {
      AgentOptions agent;
      agent.agent_id = id;
      agent.kernel_label = label;
      const std::string port_file = absl::StrCat(*dir_, "/", id, ".metrics_port");
      agent.extra_flags = {"--metrics_listen=127.0.0.1:0", "--metrics_port_file=" + port_file};
      ASSERT_TRUE(fleet_->StartAgent(agent).ok()) << fleet_->Logs();
      absl::StatusOr<std::string> port = WaitForFile(port_file, absl::Seconds(30));
      ASSERT_TRUE(port.ok()) << fleet_->Logs();
      targets_agent.push_back(absl::StrCat("'127.0.0.1:", *port, "'"));
      exporter_ports_->push_back(std::stoi(*port));
    }
    absl::StatusOr<std::string> controller_port =
        WaitForFile(*dir_ + "/controller.metrics_port", absl::Seconds(30));
    ASSERT_TRUE(controller_port.ok()) << fleet_->Logs();
    exporter_ports_->push_back(std::stoi(*controller_port));

    prometheus_port_ = FreeLoopbackPort();
    const std::string config = *dir_ + "/prometheus.yml";
    std::ofstream(config) << absl::StrCat(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: faultline-controller\n    static_configs:\n      - targets: ['127.0.0.1:",
        *controller_port, "']\n",
        "  - job_name: faultline-agent\n    static_configs:\n      - targets: [",
        absl::StrJoin(targets_agent, ", "), "]\n");
    prometheus_ = new Subprocess();
    ASSERT_TRUE(prometheus_
                    ->Start({kPrometheus, "--config.file=" + config,
                             "--storage.tsdb.path=" + *dir_ + "/tsdb",
                             absl::StrCat("--web.listen-address=127.0.0.1:", prometheus_port_),
                             "--storage.tsdb.retention.time=1d", "--log.level=warn"},
                            *dir_ + "/prometheus.log")
                    .ok());
    ASSERT_TRUE(WaitForTargetsUp(3)) << ReadFileOrEmpty(*dir_ + "/prometheus.log");

    // The campaign runs while Prometheus watches, so rates and histograms see it happen.
    v1::SubmitCampaignRequest submit;
    v1::CampaignSpec* spec = submit.mutable_spec();
    spec->set_name("metrics");
    spec->set_repetitions(1);
    v1::BenchmarkInvocation* inv = spec->add_suite();
    inv->set_benchmark("fault_anon");
    inv->set_repetitions(2);
    (*inv->mutable_params())["region_mib"].set_int_value(1);
    spec->add_targets()->set_kernel_label("stock");
    spec->add_targets()->set_kernel_label("patched/*");
    v1::Campaign campaign;
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      grpc::Status s = fleet_->stub()->SubmitCampaign(&ctx, submit, &campaign);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    campaign_id_ = new std::string(campaign.id());
    const absl::Time deadline = absl::Now() + absl::Seconds(120);
    while (absl::Now() < deadline && campaign.state() < v1::CAMPAIGN_STATE_SUCCEEDED) {
      absl::SleepFor(absl::Milliseconds(200));
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
      v1::GetCampaignRequest get;
      get.set_campaign_id(campaign.id());
      (void)fleet_->stub()->GetCampaign(&ctx, get, &campaign);
    }
    ASSERT_EQ(campaign.state(), v1::CAMPAIGN_STATE_SUCCEEDED) << fleet_->Logs();

    // An upgrade gate on the campaign's results; its verdict feeds faultline_gate_verdict.
    {
      v1::GateRequest gate;
      gate.set_policy("fault_anon ns_per_fault 50%\n");
      gate.set_policy_name("mm-upgrade");
      gate.mutable_baseline()->set_campaign_id(campaign.id());
      gate.mutable_baseline()->set_kernel_label("stock");
      gate.mutable_candidate()->set_campaign_id(campaign.id());
      gate.mutable_candidate()->set_kernel_label("patched/*");
      v1::GateResponse verdict;
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
      grpc::Status s =
          v1::AnalysisService::NewStub(grpc::CreateChannel(fleet_->address(),
                                                           grpc::InsecureChannelCredentials()))
              ->Gate(&ctx, gate, &verdict);
      ASSERT_TRUE(s.ok()) << s.error_message() << fleet_->Logs();
      gate_outcome_ = verdict.outcome();
      std::printf("gate mm-upgrade: %s\n", v1::GateOutcome_Name(verdict.outcome()).c_str());
    }
    // A few more scrapes so that the finished jobs are in Prometheus.
    ASSERT_TRUE(WaitForQuery("sum(faultline_controller_jobs_succeeded_total) >= 2 and "
                             "on() count(faultline_gate_verdict{gate=\"mm-upgrade\"}) == 1"))
        << fleet_->Logs();
    absl::SleepFor(absl::Seconds(2));
  }

  static void TearDownTestSuite() {
    if (prometheus_) prometheus_->Stop(SIGTERM, absl::Seconds(10));
    delete prometheus_;
    delete fleet_;
  }

  // GET /api/v1/<path> and return the parsed JSON; fails the test on transport errors.
  static absl::StatusOr<Value> Api(const std::string& path) {
    absl::StatusOr<controller::metrics::HttpResponse> r =
        HttpGet(prometheus_port_, "/api/v1/" + path);
    if (!r.ok()) return r.status();
    Value json;
    if (!google::protobuf::util::JsonStringToMessage(r->body, &json).ok()) {
      return absl::DataLossError(absl::StrCat("not JSON: ", r->body.substr(0, 300)));
    }
    if (Str(Field(json, "status")) != "success") {
      return absl::InvalidArgumentError(absl::StrCat("HTTP ", r->status, ": ",
                                                     Str(Field(json, "errorType")), ": ",
                                                     Str(Field(json, "error"))));
    }
    return json;
  }

  // The result list of an instant query.
  static absl::StatusOr<std::vector<Value>> Query(const std::string& expr) {
    absl::StatusOr<Value> json = Api("query?query=" + UrlEncode(expr));
    if (!json.ok()) return json.status();
    const Value* data = Field(*json, "data");
    const Value* result = data ? Field(*data, "result") : nullptr;
    if (result == nullptr) return absl::DataLossError("no data.result");
    if (result->kind_case() != Value::kListValue) return std::vector<Value>{*result};
    return std::vector<Value>(result->list_value().values().begin(),
                              result->list_value().values().end());
  }

  static bool WaitForTargetsUp(int count) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      absl::StatusOr<std::vector<Value>> up = Query("up == 1");
      if (up.ok() && static_cast<int>(up->size()) >= count) return true;
      absl::SleepFor(absl::Milliseconds(250));
    }
    return false;
  }

  static bool WaitForQuery(const std::string& expr) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      absl::StatusOr<std::vector<Value>> r = Query(expr);
      if (r.ok() && !r->empty()) return true;
      absl::SleepFor(absl::Milliseconds(250));
    }
    return false;
  }

  static std::string* dir_;
  static LocalFleet* fleet_;
  static Subprocess* prometheus_;
  static int prometheus_port_;
  static int gate_outcome_;
  static std::string* campaign_id_;
  // /metrics ports of the controller and the agents.
  static std::vector<int>* exporter_ports_;
};

std::string* PrometheusDashboardsTest::dir_ = nullptr;
LocalFleet* PrometheusDashboardsTest::fleet_ = nullptr;
Subprocess* PrometheusDashboardsTest::prometheus_ = nullptr;
int PrometheusDashboardsTest::prometheus_port_ = 0;
int PrometheusDashboardsTest::gate_outcome_ = 0;
std::string* PrometheusDashboardsTest::campaign_id_ = nullptr;
std::vector<int>* PrometheusDashboardsTest::exporter_ports_ = nullptr;

// label_values(<selector>, <label>) -> {selector, label}.
bool ParseLabelValues(const std::string& text, std::string* selector, std::string* label) {
  static const std::regex re(R"(^\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$)");
  std::smatch m;
  if (!std::regex_match(text, m, re)) return false;
  *selector = m[1];
  *label = m[2];
  return true;
}

TEST_F(PrometheusDashboardsTest, EveryPromQlExpressionParsesAndReturnsData) {
  absl::StatusOr<std::vector<Dashboard>> dashboards =
      LoadDashboards(RunfilePath("dashboards/grafana"));
  ASSERT_TRUE(dashboards.ok()) << dashboards.status();
  int expressions = 0;
  for (const Dashboard& dashboard : *dashboards) {
    PromContext context;
    context.rate_interval = "1m";
    context.range = "5m";
    context.interval = "1s";
    // Variables first, in order, each choosing every value it offers (Grafana's "All").
    for (const DashboardQuery& q : ExtractQueries(dashboard)) {
      if (q.kind != QueryKind::kVariable || q.datasource_type != "prometheus") continue;
      SCOPED_TRACE(absl::StrCat(q.dashboard, " ", q.where, ": ", q.text));
      std::string selector, label;
      ASSERT_TRUE(ParseLabelValues(q.text, &selector, &label));
      absl::StatusOr<std::string> expanded = ExpandPromQl(selector, context);
      ASSERT_TRUE(expanded.ok()) << expanded.status();
      absl::StatusOr<std::vector<Value>> series = Query(*expanded);
      ASSERT_TRUE(series.ok()) << series.status();
      std::set<std::string> values;
      for (const Value& s : *series) {
        const std::string v = Str(Field(*Field(s, "metric"), label));
        if (!v.empty()) values.insert(v);
      }
      ASSERT_FALSE(values.empty()) << "no values for " << label;
      context.variables[q.where.substr(q.where.find('$') + 1)] = {values.begin(), values.end()};
      ++expressions;
    }
    for (const DashboardQuery& q : ExtractQueries(dashboard)) {
      if (q.kind == QueryKind::kVariable || q.datasource_type != "prometheus") continue;
      SCOPED_TRACE(absl::StrCat(q.dashboard, " ", q.where));
      absl::StatusOr<std::string> expr = ExpandPromQl(q.text, context);
      ASSERT_TRUE(expr.ok()) << expr.status();
      absl::StatusOr<std::vector<Value>> result = Query(*expr);
      ASSERT_TRUE(result.ok()) << *expr << ": " << result.status();
      EXPECT_FALSE(result->empty()) << "no data for: " << *expr;
      // Range queries are what time series panels send.
      const int64_t now = absl::ToUnixSeconds(absl::Now());
      absl::StatusOr<Value> range = Api(absl::StrCat("query_range?query=", UrlEncode(*expr),
                                                     "&start=", now - 60, "&end=", now,
                                                     "&step=5"));
      ASSERT_TRUE(range.ok()) << *expr << ": " << range.status();
      const Value* data = Field(*range, "data");
      const Value* list = data ? Field(*data, "result") : nullptr;
      ASSERT_NE(list, nullptr);
      EXPECT_GT(list->list_value().values_size(), 0) << "no range data for: " << *expr;
      ++expressions;
    }
  }
  std::printf("ran %d PromQL expressions and variable queries from the dashboards\n",
              expressions);
  EXPECT_GE(expressions, 25);
}

TEST_F(PrometheusDashboardsTest, TheCampaignIsVisibleInTheMetrics) {
  auto value = [](const std::string& expr) {
    absl::StatusOr<std::vector<Value>> r = Query(expr);
    if (!r.ok() || r->empty()) return -1.0;
    double v = -1;
    const Value* pair = Field((*r)[0], "value");
    if (pair != nullptr && pair->list_value().values_size() == 2) {
      (void)absl::SimpleAtod(pair->list_value().values(1).string_value(), &v);
    }
    return v;
  };
  EXPECT_EQ(value("sum(faultline_controller_jobs_started_total)"), 2);
  EXPECT_EQ(value("sum(faultline_controller_jobs_succeeded_total)"), 2);
  EXPECT_EQ(value("sum(faultline_agent_jobs_total{result=\"ok\"})"), 2);
  EXPECT_EQ(value("sum(faultline_agent_benchmark_run_duration_seconds_count{benchmark=\"fault_"
                  "anon\"})"),
            2);
  EXPECT_EQ(value("sum(faultline_controller_agents{state!=\"lost\"})"), 2);
  EXPECT_EQ(value("sum(faultline_controller_agents{kernel_label=\"patched/vma-retry\"})"), 1);
  EXPECT_EQ(value("sum(faultline_controller_campaigns{state=\"succeeded\"})"), 1);
  // Idle agents park polls; the cap they are measured against is exported beside them.
  EXPECT_GE(value("faultline_controller_parked_polls"), 0);
  EXPECT_EQ(value("faultline_controller_parked_polls_limit"), 20000);
  // The gauge's encoding of the verdict the Gate RPC returned.
  const double expected_verdict = gate_outcome_ == v1::GATE_OUTCOME_PASS   ? 1
                                  : gate_outcome_ == v1::GATE_OUTCOME_FAIL ? -1
                                                                           : 0;
  EXPECT_EQ(value("faultline_gate_verdict{gate=\"mm-upgrade\",job=\"faultline-controller\"}"),
            expected_verdict);
  EXPECT_GT(value("sum(faultline_controller_rpcs_total{method=\"faultline.v1.AgentService/"
                  "ReportResult\",code=\"OK\"})"),
            0);
}

TEST_F(PrometheusDashboardsTest, MetricNamesFollowPrometheusConventions) {
  absl::StatusOr<Value> metadata = Api("metadata");
  ASSERT_TRUE(metadata.ok()) << metadata.status();
  const Value* data = Field(*metadata, "data");
  ASSERT_NE(data, nullptr);
  int ours = 0;
  for (const auto& [name, entries] : data->struct_value().fields()) {
    if (!absl::StartsWith(name, "faultline_")) continue;
    ++ours;
    const std::string type = Str(Field(entries.list_value().values(0), "type"));
    const std::string help = Str(Field(entries.list_value().values(0), "help"));
    EXPECT_FALSE(help.empty()) << name << " has no HELP";
    if (type == "counter") {
      EXPECT_TRUE(absl::EndsWith(name, "_total")) << "counter " << name << " lacks _total";
    } else {
      EXPECT_FALSE(absl::EndsWith(name, "_total")) << type << " " << name << " ends in _total";
    }
    if (type == "histogram") {
      EXPECT_TRUE(absl::EndsWith(name, "_seconds") || absl::EndsWith(name, "_bytes"))
          << "histogram " << name << " is not in a base unit";
    }
    for (const char* unit : {"_milliseconds", "_ms", "_microseconds", "_kilobytes", "_mib"}) {
      EXPECT_FALSE(absl::StrContains(name, unit)) << name << " is not in a base unit";
    }
    EXPECT_TRUE(std::regex_match(name, std::regex("[a-z_][a-z0-9_]*"))) << name;
  }
  EXPECT_GE(ours, 20);

  // Everything our processes export is ours (Prometheus adds up and scrape_*).
  absl::StatusOr<Value> names =
      Api("label/__name__/values?match[]=" + UrlEncode("{job=~\"faultline-.*\"}"));
  ASSERT_TRUE(names.ok()) << names.status();
  for (const Value& name : Field(*names, "data")->list_value().values()) {
    const std::string n = name.string_value();
    EXPECT_TRUE(absl::StartsWith(n, "faultline_") || absl::StartsWith(n, "scrape_") || n == "up")
        << n;
  }
}

// promtool's linter (Prometheus's own naming and exposition rules) finds nothing to report in
// what the controller and agents serve.
TEST_F(PrometheusDashboardsTest, PromtoolLintsTheExpositionClean) {
  ASSERT_EQ(exporter_ports_->size(), 3u);  // The controller and two agents.
  for (int port : *exporter_ports_) {
    absl::StatusOr<controller::metrics::HttpResponse> r = HttpGet(port, "/metrics");
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->status, 200);
    ASSERT_THAT(r->body, ::testing::HasSubstr("faultline_"));
    const std::string file = absl::StrCat(*dir_, "/metrics-", port, ".txt");
    std::ofstream(file) << r->body;
    const CommandResult lint =
        RunCommand({"/bin/sh", "-c", "exec /usr/bin/promtool check metrics < " + file},
                   absl::Seconds(30));
    EXPECT_EQ(lint.exit_code, 0) << lint.output << lint.errors;
    EXPECT_EQ(lint.output + lint.errors, "") << "port " << port;
  }
}

TEST_F(PrometheusDashboardsTest, NoLabelCarriesAJobCampaignOrAgentId) {
  const std::string campaign_id = *campaign_id_;
  ASSERT_FALSE(campaign_id.empty());
  absl::StatusOr<Value> series =
      Api("series?match[]=" + UrlEncode("{__name__=~\"faultline_.*\"}"));
  ASSERT_TRUE(series.ok()) << series.status();
  const auto& list = Field(*series, "data")->list_value().values();
  ASSERT_GT(list.size(), 50);
  const std::set<std::string> forbidden_names = {"job_id", "campaign_id", "agent_id",
                                                 "lease_id", "run_id", "campaign"};
  const std::regex id_like("(^c-[0-9]+)|(/j-[0-9]+)|(box-(stock|patched))");
  std::set<std::string> label_names;
  for (const Value& s : list) {
    for (const auto& [name, value] : s.struct_value().fields()) {
      label_names.insert(name);
      EXPECT_FALSE(forbidden_names.count(name)) << name;
      // Prometheus's own target labels name the scrape job and address, not ours.
      if (name == "job" || name == "instance") continue;
      const std::string& v = value.string_value();
      EXPECT_FALSE(std::regex_search(v, id_like)) << name << "=" << v;
      EXPECT_FALSE(absl::StrContains(v, campaign_id)) << name << "=" << v;
    }
  }
  EXPECT_THAT(label_names, ::testing::IsSupersetOf({"arch", "kernel_label", "state", "method",
                                                    "code", "operation", "gate", "benchmark"}));
}

}  // namespace
}  // namespace faultline::testing
