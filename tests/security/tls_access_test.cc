// Transport security and access control, end to end: certificates are made at test time with
// controller/security/fleet_pki.sh (the documented openssl path), tokens with `faultlinectl
// token new`, and a real faultline-controller serves TLS with an access policy. Callers with the
// wrong CA, an expired certificate, another agent's id, no token, or a read-only token trying to
// submit are each refused with their own status code, and nothing they sent is stored.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "controller/security/transport.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/faultline/v1/agent_service.grpc.pb.h"
#include "proto/faultline/v1/campaign_service.grpc.pb.h"
#include "tests/testing/subprocess.h"

namespace faultline {
namespace {

using controller::security::ClientTransport;
using controller::security::MakeChannelCredentials;
using testing::CommandResult;
using testing::RunCommand;
using testing::RunfilePath;
using ::testing::HasSubstr;

constexpr char kProbeBenchmark[] = "security_probe";
constexpr char kProbeLabel[] = "security-probe";

std::unique_ptr<grpc::ClientContext> Context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return ctx;
}

// A line of `text` that starts with `prefix`, without the prefix.
std::string LineAfter(const std::string& text, absl::string_view prefix) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, prefix)) return std::string(absl::StripAsciiWhitespace(line));
  }
  return "";
}

class TlsAccessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::MakeTempDir("tls-access"));
    const std::string& d = *dir_;
    // The fleet's CA and a rogue one; the controller's certificate names 127.0.0.1.
    Pki({"ca", d + "/pki"});
    Pki({"server", d + "/pki", "controller", "IP:127.0.0.1,DNS:localhost"});
    for (const char* agent : {"agent-real", "agent-a", "agent-b"}) Pki({"client", d + "/pki", agent});
    Pki({"client", d + "/pki", "agent-old", "-1"});  // expired yesterday
    Pki({"ca", d + "/rogue"});
    Pki({"client", d + "/rogue", "agent-a"});

    // Tokens as an operator makes them: the policy gets the hash, the user the token.
    std::string policy = "# test fleet\ncert agent-* agent\n";
    for (const auto& [role, name] : std::vector<std::pair<std::string, std::string>>{
             {"read", "grafana"}, {"submit", "ci"}}) {
      CommandResult made = RunCommand({RunfilePath("controller/cli/faultlinectl"), "token", "new",
                                       "--role=" + role, "--name=" + name});
      ASSERT_EQ(made.exit_code, 0) << made.errors;
      const std::string token = LineAfter(made.output, "token:");
      const std::string line = LineAfter(made.output, "policy:");
      ASSERT_FALSE(token.empty() || line.empty()) << made.output;
      EXPECT_THAT(line, ::testing::Not(HasSubstr(token)));
      absl::StrAppend(&policy, line, "\n");
      Write(d + "/" + role + ".token", token + "\n");
      (role == "read" ? read_token_ : submit_token_) = new std::string(token);
    }
    Write(d + "/policy", policy);

    controller_ = new testing::Subprocess();
    ASSERT_TRUE(controller_
                    ->Start({RunfilePath("controller/faultline-controller"),
                             "--listen=127.0.0.1:0", "--db=" + d + "/faultline.db",
                             "--port_file=" + d + "/port", "--metrics_listen=",
                             "--tls_cert=" + d + "/pki/controller.pem",
                             "--tls_key=" + d + "/pki/controller.key",
                             "--client_ca=" + d + "/pki/ca.pem", "--access_policy=" + d + "/policy"},
                            d + "/controller.log")
                    .ok());
    absl::StatusOr<std::string> port = testing::WaitForFile(d + "/port", absl::Seconds(30));
    ASSERT_TRUE(port.ok()) << testing::ReadFileOrEmpty(d + "/controller.log");
    address_ = new std::string(absl::StrCat("127.0.0.1:", *port));
  }

  static void TearDownTestSuite() {
    if (controller_ != nullptr) controller_->Stop(SIGTERM);
    delete controller_;
    controller_ = nullptr;
  }

  static void Pki(std::vector<std::string> args) {
    args.insert(args.begin(), {"/bin/bash", RunfilePath("controller/security/fleet_pki.sh")});
    CommandResult r = RunCommand(args, absl::Seconds(60));
    ASSERT_EQ(r.exit_code, 0) << r.errors;
  }

  static void Write(const std::string& path, const std::string& text) {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr) << path;
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }

  // TLS trusting `ca_dir`'s CA, with `client`'s certificate from `cert_dir` when given, and a
  // bearer token when given.
  static std::shared_ptr<grpc::Channel> Channel(const std::string& client,
                                                const std::string& token = "",
                                                const std::string& cert_dir = "pki",
                                                const std::string& ca_dir = "pki") {
    ClientTransport t;
    t.ca_file = *dir_ + "/" + ca_dir + "/ca.pem";
    if (!client.empty()) {
      t.cert_file = *dir_ + "/" + cert_dir + "/" + client + ".pem";
      t.key_file = *dir_ + "/" + cert_dir + "/" + client + ".key";
    }
    t.token = token;
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
        MakeChannelCredentials(t, *address_);
    EXPECT_TRUE(creds.ok()) << creds.status();
    return grpc::CreateChannel(*address_, *creds);
  }

  static std::unique_ptr<v1::AgentService::Stub> AgentStub(const std::string& client,
                                                           const std::string& cert_dir = "pki",
                                                           const std::string& ca_dir = "pki") {
    return v1::AgentService::NewStub(Channel(client, "", cert_dir, ca_dir));
  }
  static std::unique_ptr<v1::CampaignService::Stub> Users(const std::string& token) {
    return v1::CampaignService::NewStub(Channel("", token));
  }

  static v1::RegisterRequest Registration(const std::string& agent_id) {
    v1::RegisterRequest request;
    request.set_agent_id(agent_id);
    v1::HostFingerprint* host = request.mutable_host();
    host->set_hostname(agent_id);
    host->set_arch(v1::ARCH_X86_64);
    host->set_kernel_release("6.1.0-security");
    host->set_kernel_label(kProbeLabel);
    host->set_host_class("security-class");
    host->set_cpu_count(2);
    v1::BenchmarkSpec* bench = request.add_catalog();
    bench->set_name(kProbeBenchmark);
    v1::MetricSpec* metric = bench->add_metrics();
    metric->set_name("value");
    metric->set_unit("ns");
    metric->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
    request.set_agent_version("security-test");
    return request;
  }

  static int CampaignCount() {
    v1::ListCampaignsResponse list;
    grpc::Status s = Users(*read_token_)->ListCampaigns(Context().get(), {}, &list);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return list.campaigns_size();
  }

  static std::vector<std::string> AgentIds() {
    v1::ListAgentsRequest request;
    request.set_include_lost(true);
    v1::ListAgentsResponse list;
    grpc::Status s = Users(*read_token_)->ListAgents(Context().get(), request, &list);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids;
    for (const v1::AgentInfo& a : list.agents()) ids.push_back(a.agent_id());
    return ids;
  }

  CommandResult Ctl(std::vector<std::string> args, const std::string& token_role) {
    args.insert(args.begin(), {RunfilePath("controller/cli/faultlinectl"),
                               "--controller=" + *address_, "--tls_ca=" + *dir_ + "/pki/ca.pem",
                               "--token_file=" + *dir_ + "/" + token_role + ".token"});
    return RunCommand(args, absl::Seconds(120));
  }

  static std::string* dir_;
  static std::string* address_;
  static std::string* read_token_;
  static std::string* submit_token_;
  static testing::Subprocess* controller_;
};

std::string* TlsAccessTest::dir_ = nullptr;
std::string* TlsAccessTest::address_ = nullptr;
std::string* TlsAccessTest::read_token_ = nullptr;
std::string* TlsAccessTest::submit_token_ = nullptr;
testing::Subprocess* TlsAccessTest::controller_ = nullptr;

TEST_F(TlsAccessTest, RealAgentAndCliWorkOverMutualTls) {
  const std::string& d = *dir_;
  testing::Subprocess agent;
  ASSERT_TRUE(agent
                  .Start({RunfilePath("agent/faultline-agent"), "--controller=" + *address_,
                          "--agent_id=agent-real", "--kernel_label=stock",
                          "--spool_dir=" + d + "/spool-real", "--poll_wait_seconds=5",
                          "--tls_ca=" + d + "/pki/ca.pem", "--tls_cert=" + d + "/pki/agent-real.pem",
                          "--tls_key=" + d + "/pki/agent-real.key"},
                         d + "/agent-real.log")
                  .ok());
  bool registered = false;
  for (int i = 0; i < 300 && !registered; ++i) {
    for (const std::string& id : AgentIds()) registered |= id == "agent-real";
    if (!registered) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(registered) << testing::ReadFileOrEmpty(d + "/agent-real.log");
  Write(d + "/campaign.textproto", R"(name: "over-tls" repetitions: 2
targets { kernel_label: "stock" agent_ids: "agent-real" }
suite { benchmark: "mmap_munmap" warmup: 0 params { key: "iterations" value { int_value: 2000 } } }
)");
  CommandResult submitted = Ctl({"submit", d + "/campaign.textproto", "--wait"}, "submit");
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output << submitted.errors
                                    << testing::ReadFileOrEmpty(d + "/agent-real.log");
  CommandResult results = Ctl({"results", "--format=csv"}, "read");
  ASSERT_EQ(results.exit_code, 0) << results.errors;
  EXPECT_THAT(results.output, HasSubstr("agent-real"));
  EXPECT_THAT(results.output, HasSubstr("mmap_munmap"));
  // The read-only token is refused by the CLI with the controller's reason and exit 2.
  CommandResult refused = Ctl({"submit", d + "/campaign.textproto"}, "read");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.errors, HasSubstr("PERMISSION_DENIED"));
  agent.Stop(SIGTERM);
}

// A real agent whose certificate names another agent is refused at registration for good
// (PERMISSION_DENIED): it exits with the controller's reason instead of retrying forever.
TEST_F(TlsAccessTest, AgentRefusedAtRegistrationExitsNonZero) {
  const std::string& d = *dir_;
  const absl::Time start = absl::Now();
  CommandResult agent = RunCommand(
      {RunfilePath("agent/faultline-agent"), "--controller=" + *address_, "--agent_id=agent-a",
       "--spool_dir=" + d + "/spool-impostor", "--tls_ca=" + d + "/pki/ca.pem",
       "--tls_cert=" + d + "/pki/agent-b.pem", "--tls_key=" + d + "/pki/agent-b.key"},
      absl::Seconds(30));
  EXPECT_EQ(agent.exit_code, 2) << agent.errors;
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  EXPECT_THAT(agent.errors, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(agent.errors, HasSubstr("is not the authenticated agent \"agent-b\""));
  EXPECT_THAT(agent.errors, ::testing::Not(HasSubstr("retrying")));
}

TEST_F(TlsAccessTest, HandshakesWithUntrustedOrExpiredCertificatesFail) {
  v1::RegisterResponse response;
  // Client certificate from another CA.
  grpc::Status s = AgentStub("agent-a", "rogue")->Register(Context().get(),
                                                           Registration("agent-a"), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  // Expired client certificate from the right CA.
  s = AgentStub("agent-old")->Register(Context().get(), Registration("agent-old"), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  // A client that trusts another CA does not accept the controller.
  s = AgentStub("agent-a", "pki", "rogue")->Register(Context().get(), Registration("agent-a"),
                                                     &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  // Plaintext to a TLS port.
  auto plain = v1::AgentService::NewStub(
      grpc::CreateChannel(*address_, grpc::InsecureChannelCredentials()));
  s = plain->Register(Context().get(), Registration("agent-a"), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  for (const std::string& id : AgentIds()) EXPECT_NE(id, "agent-old");
}

TEST_F(TlsAccessTest, AgentCannotActUnderAnotherAgentsId) {
  v1::RegisterResponse registered;
  grpc::Status s = AgentStub("agent-b")->Register(Context().get(), Registration("agent-a"),
                                                  &registered);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(),
              HasSubstr("agent_id: \"agent-a\" is not the authenticated agent \"agent-b\""));
  v1::HeartbeatRequest beat;
  beat.set_agent_id("agent-a");
  v1::HeartbeatResponse answer;
  s = AgentStub("agent-b")->Heartbeat(Context().get(), beat, &answer);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::PollWorkRequest poll;
  poll.set_agent_id("agent-a");
  poll.set_wait_seconds(1);
  v1::PollWorkResponse work;
  s = AgentStub("agent-b")->PollWork(Context().get(), poll, &work);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Users' tokens cannot act as agents either.
  s = v1::AgentService::NewStub(Channel("", *submit_token_))
          ->Register(Context().get(), Registration("ci"), &registered);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(TlsAccessTest, StolenLeaseReplayedByAnotherAgentIsRefused) {
  auto agent_a = AgentStub("agent-a");
  auto agent_b = AgentStub("agent-b");
  v1::RegisterResponse registered;
  ASSERT_TRUE(agent_a->Register(Context().get(), Registration("agent-a"), &registered).ok());
  ASSERT_TRUE(agent_b->Register(Context().get(), Registration("agent-b"), &registered).ok());

  v1::SubmitCampaignRequest submit;
  v1::CampaignSpec* spec = submit.mutable_spec();
  spec->set_name("lease-replay");
  spec->set_repetitions(1);
  v1::TargetSelector* target = spec->add_targets();
  target->set_kernel_label(kProbeLabel);
  target->add_agent_ids("agent-a");
  v1::BenchmarkInvocation* entry = spec->add_suite();
  entry->set_benchmark(kProbeBenchmark);
  entry->set_warmup(0);
  v1::Campaign campaign;
  grpc::Status s = Users(*submit_token_)->SubmitCampaign(Context().get(), submit, &campaign);
  ASSERT_TRUE(s.ok()) << s.error_message();

  v1::PollWorkRequest poll;
  poll.set_agent_id("agent-a");
  poll.set_wait_seconds(5);
  v1::PollWorkResponse work;
  ASSERT_TRUE(agent_a->PollWork(Context().get(), poll, &work).ok());
  ASSERT_TRUE(work.has_assignment());
  const v1::Assignment& lease = work.assignment();

  v1::ReportResultRequest report;
  report.set_agent_id("agent-a");
  report.set_job_id(lease.job().id());
  report.set_attempt(lease.job().attempt());
  report.set_lease_id(lease.lease_id());
  v1::RunResult* result = report.mutable_result();
  result->set_benchmark(kProbeBenchmark);
  result->set_state(v1::RUN_STATE_OK);
  *result->mutable_host() = Registration("agent-a").host();
  v1::Repetition* rep = result->add_repetitions();
  rep->set_index(0);
  rep->set_wall_ns(1000);
  v1::MetricValue* metric = rep->add_metrics();
  metric->set_name("value");
  metric->set_unit("ns");
  metric->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
  metric->set_value(42);

  // agent-b replays agent-a's lease, first claiming to be agent-a, then as itself.
  v1::ReportResultResponse stored;
  s = agent_b->ReportResult(Context().get(), report, &stored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  v1::ReportResultRequest as_b = report;
  as_b.set_agent_id("agent-b");
  *as_b.mutable_result()->mutable_host() = Registration("agent-b").host();
  s = agent_b->ReportResult(Context().get(), as_b, &stored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  v1::RenewLeaseRequest renew;
  renew.set_agent_id("agent-b");
  renew.set_job_id(lease.job().id());
  renew.set_lease_id(lease.lease_id());
  v1::RenewLeaseResponse renewed;
  s = agent_b->RenewLease(Context().get(), renew, &renewed);
  EXPECT_NE(s.error_code(), grpc::StatusCode::OK);

  // Nothing was stored for agent-b; the holder's report is stored once.
  s = agent_a->ReportResult(Context().get(), report, &stored);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(stored.stored());
  v1::QueryResultsRequest query;
  query.set_campaign_id(campaign.id());
  v1::QueryResultsResponse runs;
  ASSERT_TRUE(Users(*read_token_)->QueryResults(Context().get(), query, &runs).ok());
  ASSERT_EQ(runs.runs_size(), 1);
  EXPECT_EQ(runs.runs(0).agent_id(), "agent-a");
}

TEST_F(TlsAccessTest, TokensGrantTheirRoleAndNothingMore) {
  const int campaigns_before = CampaignCount();
  v1::ListCampaignsResponse list;
  // No credentials at all, and a token the policy does not know.
  grpc::Status s = Users("")->ListCampaigns(Context().get(), {}, &list);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  s = Users("flt_not-a-known-token")->ListCampaigns(Context().get(), {}, &list);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  // The stored hash is not a credential.
  s = Users("sha256:" + std::string(64, '0'))->ListCampaigns(Context().get(), {}, &list);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  v1::SubmitCampaignRequest submit;
  submit.mutable_spec()->set_name("read-only-may-not");
  submit.mutable_spec()->set_repetitions(1);
  submit.mutable_spec()->add_targets()->set_kernel_label("stock");
  submit.mutable_spec()->add_suite()->set_benchmark("mmap_munmap");
  v1::Campaign campaign;
  s = Users(*read_token_)->SubmitCampaign(Context().get(), submit, &campaign);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("needs role submit"));
  v1::CancelCampaignRequest cancel;
  cancel.set_campaign_id("c-000001");
  s = Users(*read_token_)->CancelCampaign(Context().get(), cancel, &campaign);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // An agent's certificate cannot query or submit.
  s = v1::CampaignService::NewStub(Channel("agent-a"))->ListCampaigns(Context().get(), {}, &list);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = v1::CampaignService::NewStub(Channel("agent-a"))
          ->SubmitCampaign(Context().get(), submit, &campaign);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CampaignCount(), campaigns_before);
  // The read token may watch; the stream is refused without one.
  v1::WatchCampaignRequest watch;
  watch.set_campaign_id("c-000001");
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto reader = Users("")->WatchCampaign(&ctx, watch);
  v1::Campaign update;
  while (reader->Read(&update)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // The submit token may.
  submit.mutable_spec()->set_name("submit-may");
  s = Users(*submit_token_)->SubmitCampaign(Context().get(), submit, &campaign);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(CampaignCount(), campaigns_before + 1);
  cancel.set_campaign_id(campaign.id());
  EXPECT_TRUE(Users(*submit_token_)->CancelCampaign(Context().get(), cancel, &campaign).ok());
}

TEST_F(TlsAccessTest, UnsafeConfigurationsAreRefusedAtStart) {
  const std::string& d = *dir_;
  const std::string controller = RunfilePath("controller/faultline-controller");
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  Write(d + "/bad-policy", "cert agent-* agent\ntoken abc read grafana\n");
  const std::vector<Case> cases = {
      {{"--plaintext", "--listen=0.0.0.0:0"}, "--plaintext: only allowed on a loopback address"},
      {{"--listen=127.0.0.1:0"}, "--tls_cert and --tls_key are required"},
      {{"--listen=127.0.0.1:0", "--tls_cert=" + d + "/pki/controller.pem",
        "--tls_key=" + d + "/pki/controller.key"},
       "--access_policy: required with TLS"},
      {{"--listen=127.0.0.1:0", "--tls_cert=" + d + "/pki/controller.pem",
        "--tls_key=" + d + "/pki/controller.key", "--access_policy=" + d + "/bad-policy"},
       d + "/bad-policy:2: expected a token hash"},
      {{"--plaintext", "--listen=127.0.0.1:0", "--access_policy=" + d + "/policy"},
       "--access_policy: needs TLS"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {controller, "--db=" + d + "/refused.db", "--metrics_listen="};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    CommandResult r = RunCommand(argv, absl::Seconds(30));
    EXPECT_NE(r.exit_code, 0) << c.message;
    EXPECT_THAT(r.errors, HasSubstr(c.message));
  }
  // Clients refuse plaintext off loopback, and tokens over plaintext.
  CommandResult agent = RunCommand({RunfilePath("agent/faultline-agent"), "--plaintext",
                                    "--controller=10.1.2.3:7070", "--agent_id=x",
                                    "--spool_dir=" + d + "/spool-x"},
                                   absl::Seconds(30));
  EXPECT_EQ(agent.exit_code, 2);
  EXPECT_THAT(agent.errors, HasSubstr("--plaintext: only allowed to a loopback address"));
  CommandResult ctl = RunCommand({RunfilePath("controller/cli/faultlinectl"), "--plaintext",
                                  "--controller=127.0.0.1:1", "--token_file=" + d + "/read.token",
                                  "list"},
                                 absl::Seconds(30));
  EXPECT_EQ(ctl.exit_code, 2);
  EXPECT_THAT(ctl.errors, HasSubstr("a bearer token needs TLS"));
}

// A revoked token stops working on SIGHUP, without a restart; a broken policy file keeps the
// one in force. Restores the original policy, so the order of the cases does not matter.
TEST_F(TlsAccessTest, SighupReloadsThePolicyAndABrokenFileKeepsTheOldOne) {
  const std::string& d = *dir_;
  const std::string original = testing::ReadFileOrEmpty(d + "/policy");
  ASSERT_THAT(original, HasSubstr(" read grafana"));
  auto read_works = [] {
    v1::ListCampaignsResponse list;
    return Users(*read_token_)->ListCampaigns(Context().get(), {}, &list).error_code();
  };
  auto wait_for = [&](grpc::StatusCode code) {
    for (int i = 0; i < 100 && read_works() != code; ++i) absl::SleepFor(absl::Milliseconds(100));
    return read_works();
  };
  ASSERT_EQ(read_works(), grpc::StatusCode::OK);

  std::string revoked;
  for (absl::string_view line : absl::StrSplit(original, '\n')) {
    if (!line.empty() && !absl::StrContains(line, " read grafana")) {
      absl::StrAppend(&revoked, line, "\n");
    }
  }
  Write(d + "/policy", revoked);
  ASSERT_EQ(kill(controller_->pid(), SIGHUP), 0);
  EXPECT_EQ(wait_for(grpc::StatusCode::UNAUTHENTICATED), grpc::StatusCode::UNAUTHENTICATED);

  // A typo is reported and changes nothing: the submit token still works, read stays revoked.
  Write(d + "/policy", revoked + "token not-a-hash read grafana\n");
  ASSERT_EQ(kill(controller_->pid(), SIGHUP), 0);
  const std::string log = d + "/controller.log";
  for (int i = 0; i < 100 && !absl::StrContains(testing::ReadFileOrEmpty(log), "not reloaded");
       ++i) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_THAT(testing::ReadFileOrEmpty(log),
              HasSubstr("access policy not reloaded, keeping the current one: " + d +
                        "/policy:4: expected a token hash"));
  v1::ListCampaignsResponse list;
  EXPECT_TRUE(Users(*submit_token_)->ListCampaigns(Context().get(), {}, &list).ok());
  EXPECT_EQ(read_works(), grpc::StatusCode::UNAUTHENTICATED);

  Write(d + "/policy", original);
  ASSERT_EQ(kill(controller_->pid(), SIGHUP), 0);
  EXPECT_EQ(wait_for(grpc::StatusCode::OK), grpc::StatusCode::OK);
}

}  // namespace
}  // namespace faultline
