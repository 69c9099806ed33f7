// The /metrics endpoints of a real faultline-controller and a real faultline-agent over https
// with a bearer token (--metrics_tls_cert, --metrics_tls_key, --metrics_bearer_token_file),
// certificates from controller/security/fleet_pki.sh: curl without the token gets 401, with it
// the metrics, verifying the test CA; plain http to the port gets nothing; and a real
// Prometheus (Debian's `prometheus`) scrapes both with `scheme: https`, `tls_config` and
// `authorization: {type: Bearer, credentials_file: ...}`, while the same targets without the
// token or over http are down.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "controller/metrics/http_get.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace faultline::testing {
namespace {

using ::testing::HasSubstr;
using google::protobuf::Value;

constexpr char kPrometheus[] = "/usr/bin/prometheus";
constexpr char kCurl[] = "/usr/bin/curl";
constexpr char kToken[] = "flt_metrics_0123456789abcdef0123456789abcdef";

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

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

const Value* Field(const Value& v, const std::string& name) {
  if (v.kind_case() != Value::kStructValue) return nullptr;
  auto it = v.struct_value().fields().find(name);
  return it == v.struct_value().fields().end() ? nullptr : &it->second;
}

std::string Str(const Value* v) {
  return v != nullptr && v->kind_case() == Value::kStringValue ? v->string_value() : "";
}

struct Fetched {
  int curl_exit = -1;
  std::string status;  // "401", "200", "000" (no HTTP answer)
  std::string headers;
  std::string body;
};

class MetricsEndpointTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(access(kCurl, X_OK), 0) << "install Debian's curl (bazel/install_deps.sh --test)";
    dir_ = new std::string(MakeTempDir("metrics-endpoint"));
    const std::string& d = *dir_;
    Pki({"ca", d + "/pki"});
    Pki({"server", d + "/pki", "metrics", "IP:127.0.0.1,DNS:localhost"});
    Write(d + "/token", std::string(kToken) + "\n");
    const std::vector<std::string> secure = {
        "--metrics_listen=127.0.0.1:0", "--metrics_tls_cert=" + d + "/pki/metrics.pem",
        "--metrics_tls_key=" + d + "/pki/metrics.key", "--metrics_bearer_token_file=" + d + "/token"};

    controller_ = new Subprocess();
    std::vector<std::string> argv = {RunfilePath("controller/faultline-controller"), "--plaintext",
                                     "--listen=127.0.0.1:0", "--db=" + d + "/faultline.db",
                                     "--port_file=" + d + "/port",
                                     "--metrics_port_file=" + d + "/controller.metrics_port"};
    argv.insert(argv.end(), secure.begin(), secure.end());
    ASSERT_TRUE(controller_->Start(argv, d + "/controller.log").ok());
    absl::StatusOr<std::string> port = WaitForFile(d + "/port", absl::Seconds(30));
    ASSERT_TRUE(port.ok()) << ReadFileOrEmpty(d + "/controller.log");
    absl::StatusOr<std::string> controller_metrics =
        WaitForFile(d + "/controller.metrics_port", absl::Seconds(30));
    ASSERT_TRUE(controller_metrics.ok()) << ReadFileOrEmpty(d + "/controller.log");
    controller_metrics_port_ = std::stoi(*controller_metrics);

    agent_ = new Subprocess();
    argv = {RunfilePath("agent/faultline-agent"), "--plaintext",
            "--controller=127.0.0.1:" + *port, "--agent_id=metrics-agent",
            "--kernel_label=stock", "--spool_dir=" + d + "/spool",
            "--metrics_port_file=" + d + "/agent.metrics_port"};
    argv.insert(argv.end(), secure.begin(), secure.end());
    ASSERT_TRUE(agent_->Start(argv, d + "/agent.log").ok());
    absl::StatusOr<std::string> agent_metrics =
        WaitForFile(d + "/agent.metrics_port", absl::Seconds(30));
    ASSERT_TRUE(agent_metrics.ok()) << ReadFileOrEmpty(d + "/agent.log");
    agent_metrics_port_ = std::stoi(*agent_metrics);
  }

  static void TearDownTestSuite() {
    if (agent_ != nullptr) agent_->Stop(SIGTERM);
    if (controller_ != nullptr) controller_->Stop(SIGTERM);
    delete agent_;
    delete controller_;
    agent_ = controller_ = nullptr;
  }

  static void Pki(std::vector<std::string> args) {
    args.insert(args.begin(), {"/bin/bash", RunfilePath("controller/security/fleet_pki.sh")});
    CommandResult r = RunCommand(args, absl::Seconds(60));
    ASSERT_EQ(r.exit_code, 0) << r.errors;
  }

  // curl `url` trusting the test CA (unless `trust` is false), with `authorization` if given.
  static Fetched Curl(const std::string& url, const std::string& authorization, bool trust = true) {
    const std::string& d = *dir_;
    std::remove((d + "/body").c_str());
    std::remove((d + "/headers").c_str());
    std::vector<std::string> argv = {kCurl, "-sS", "--max-time", "10", "-o", d + "/body",
                                     "-D", d + "/headers", "-w", "%{http_code}"};
    if (trust) argv.insert(argv.end(), {"--cacert", d + "/pki/ca.pem"});
    if (!authorization.empty()) argv.insert(argv.end(), {"-H", "Authorization: " + authorization});
    argv.push_back(url);
    CommandResult r = RunCommand(argv, absl::Seconds(30));
    return Fetched{r.exit_code, r.output, ReadFileOrEmpty(d + "/headers"),
                   ReadFileOrEmpty(d + "/body")};
  }

  static std::string* dir_;
  static Subprocess* controller_;
  static Subprocess* agent_;
  static int controller_metrics_port_;
  static int agent_metrics_port_;
};

std::string* MetricsEndpointTest::dir_ = nullptr;
Subprocess* MetricsEndpointTest::controller_ = nullptr;
Subprocess* MetricsEndpointTest::agent_ = nullptr;
int MetricsEndpointTest::controller_metrics_port_ = 0;
int MetricsEndpointTest::agent_metrics_port_ = 0;

TEST_F(MetricsEndpointTest, TheTokenAndTheCaAreNeeded) {
  for (const auto& [port, family] : std::vector<std::pair<int, std::string>>{
           {controller_metrics_port_, "faultline_controller_"},
           {agent_metrics_port_, "faultline_agent_"}}) {
    SCOPED_TRACE(family);
    const std::string url = absl::StrCat("https://127.0.0.1:", port, "/metrics");
    Fetched none = Curl(url, "");
    EXPECT_EQ(none.curl_exit, 0);
    EXPECT_EQ(none.status, "401");
    EXPECT_THAT(none.headers, HasSubstr("WWW-Authenticate: Bearer"));
    EXPECT_THAT(none.body, ::testing::Not(HasSubstr(family)));

    Fetched wrong = Curl(url, absl::StrCat("Bearer ", kToken, "x"));
    EXPECT_EQ(wrong.status, "401");
    EXPECT_EQ(Curl(url, absl::StrCat("Basic ", kToken)).status, "401");

    Fetched good = Curl(url, absl::StrCat("Bearer ", kToken));
    ASSERT_EQ(good.curl_exit, 0);
    EXPECT_EQ(good.status, "200");
    EXPECT_THAT(good.headers, HasSubstr("Content-Type: text/plain; version=0.0.4"));
    EXPECT_THAT(good.body, HasSubstr("# TYPE " + family));

    // A client that does not trust the CA stops at the handshake (curl 60: peer certificate
    // cannot be authenticated).
    Fetched untrusted = Curl(url, absl::StrCat("Bearer ", kToken), /*trust=*/false);
    EXPECT_EQ(untrusted.curl_exit, 60);
    EXPECT_EQ(untrusted.status, "000");
    // Plain http to the https port gets no HTTP answer at all.
    Fetched plain = Curl(absl::StrCat("http://127.0.0.1:", port, "/metrics"),
                         absl::StrCat("Bearer ", kToken));
    EXPECT_NE(plain.curl_exit, 0);
    EXPECT_EQ(plain.status, "000");
    EXPECT_THAT(plain.body, ::testing::Not(HasSubstr(family)));
  }
}

TEST_F(MetricsEndpointTest, PrometheusScrapesOverHttpsWithTheToken) {
  ASSERT_EQ(access(kPrometheus, X_OK), 0)
      << kPrometheus << " not found: install Debian's prometheus (bazel/install_deps.sh --test)";
  const std::string& d = *dir_;
  auto job = [&](const std::string& name, int port, const std::string& scheme, bool token) {
    std::string text = absl::StrCat("  - job_name: ", name, "\n    scheme: ", scheme, "\n");
    if (scheme == "https") absl::StrAppend(&text, "    tls_config:\n      ca_file: ", d, "/pki/ca.pem\n");
    if (token) {
      absl::StrAppend(&text, "    authorization:\n      type: Bearer\n      credentials_file: ", d,
                      "/token\n");
    }
    absl::StrAppend(&text, "    static_configs:\n      - targets: ['127.0.0.1:", port, "']\n");
    return text;
  };
  const std::string config = d + "/prometheus.yml";
  Write(config, absl::StrCat(
                    "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n",
                    job("faultline-controller", controller_metrics_port_, "https", true),
                    job("faultline-agent", agent_metrics_port_, "https", true),
                    job("no-token", controller_metrics_port_, "https", false),
                    job("plain-http", agent_metrics_port_, "http", true)));
  const int prometheus_port = FreeLoopbackPort();
  Subprocess prometheus;
  ASSERT_TRUE(prometheus
                  .Start({kPrometheus, "--config.file=" + config,
                          "--storage.tsdb.path=" + d + "/tsdb",
                          absl::StrCat("--web.listen-address=127.0.0.1:", prometheus_port),
                          "--log.level=warn"},
                         d + "/prometheus.log")
                  .ok());

  // job -> {health, lastError} from /api/v1/targets.
  std::map<std::string, std::pair<std::string, std::string>> health;
  auto all_scraped = [&] {
    health.clear();
    absl::StatusOr<controller::metrics::HttpResponse> r =
        controller::metrics::HttpGet(prometheus_port, "/api/v1/targets");
    Value json;
    if (!r.ok() || !google::protobuf::util::JsonStringToMessage(r->body, &json).ok()) return false;
    const Value* data = Field(json, "data");
    const Value* active = data ? Field(*data, "activeTargets") : nullptr;
    if (active == nullptr || active->kind_case() != Value::kListValue) return false;
    for (const Value& target : active->list_value().values()) {
      health[Str(Field(*Field(target, "labels"), "job"))] = {Str(Field(target, "health")),
                                                             Str(Field(target, "lastError"))};
    }
    if (health.size() < 4) return false;
    for (const auto& [name, state] : health) {
      if (state.first == "unknown") return false;
    }
    return health["faultline-controller"].first == "up" && health["faultline-agent"].first == "up";
  };
  bool scraped = false;
  for (int i = 0; i < 240 && !scraped; ++i) {
    scraped = all_scraped();
    if (!scraped) absl::SleepFor(absl::Milliseconds(250));
  }
  prometheus.Stop(SIGTERM, absl::Seconds(10));
  std::string report;
  for (const auto& [name, state] : health) {
    absl::StrAppend(&report, name, ": ", state.first, " ", state.second, "\n");
  }
  ASSERT_TRUE(scraped) << report << ReadFileOrEmpty(d + "/prometheus.log");
  EXPECT_EQ(health["faultline-controller"].second, "");
  EXPECT_EQ(health["faultline-agent"].second, "");
  EXPECT_EQ(health["no-token"].first, "down") << report;
  EXPECT_THAT(health["no-token"].second, HasSubstr("401")) << report;
  EXPECT_EQ(health["plain-http"].first, "down") << report;
}

TEST_F(MetricsEndpointTest, UnsafeOrBrokenSettingsAreRefusedAtStart) {
  const std::string& d = *dir_;
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--metrics_bearer_token_file=" + d + "/token"},
       "--metrics_bearer_token_file: needs --metrics_tls_cert"},
      {{"--metrics_tls_cert=" + d + "/pki/metrics.pem"},
       "--metrics_tls_cert and --metrics_tls_key: give both or neither"},
      {{"--metrics_tls_cert=" + d + "/pki/metrics.pem", "--metrics_tls_key=" + d + "/pki/ca.key"},
       "--metrics_tls_key: " + d + "/pki/ca.key: not the PEM private key of " + d +
           "/pki/metrics.pem"},
      {{"--metrics_tls_cert=" + d + "/pki/metrics.pem", "--metrics_tls_key=" + d + "/pki/metrics.key",
        "--metrics_bearer_token_file=" + d + "/missing"},
       "--metrics_bearer_token_file: " + d + "/missing: cannot read the bearer token"},
  };
  for (const Case& c : cases) {
    for (const std::string binary : {"controller/faultline-controller", "agent/faultline-agent"}) {
      std::vector<std::string> argv = {RunfilePath(binary), "--plaintext",
                                       "--metrics_listen=127.0.0.1:0"};
      if (absl::StrContains(binary, "controller")) {
        argv.insert(argv.end(), {"--listen=127.0.0.1:0", "--db=" + d + "/refused.db"});
      } else {
        argv.insert(argv.end(), {"--controller=127.0.0.1:1", "--agent_id=refused",
                                 "--spool_dir=" + d + "/refused-spool"});
      }
      argv.insert(argv.end(), c.flags.begin(), c.flags.end());
      CommandResult r = RunCommand(argv, absl::Seconds(30));
      EXPECT_NE(r.exit_code, 0) << binary << " " << c.message;
      EXPECT_THAT(r.errors, HasSubstr(c.message)) << binary;
    }
  }
}

}  // namespace
}  // namespace faultline::testing
