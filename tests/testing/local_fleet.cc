#include "tests/testing/local_fleet.h"

#include <signal.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"

namespace faultline::testing {

LocalFleet::LocalFleet(std::string dir) : dir_(std::move(dir)) {}

LocalFleet::~LocalFleet() {
  for (auto& [id, agent] : agents_) agent->Stop(SIGTERM, absl::Seconds(5));
  if (controller_) controller_->Stop(SIGTERM, absl::Seconds(10));
}

std::string LocalFleet::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::Status LocalFleet::StartController(const std::vector<std::string>& extra_flags) {
  const std::string port_file = dir_ + "/controller.port";
  unlink(port_file.c_str());
  std::vector<std::string> argv = {RunfilePath("controller/faultline-controller"),
                                   "--listen=127.0.0.1:0", "--db=" + db_path(),
                                   "--port_file=" + port_file, "--plaintext",
                                   // Tests run side by side: never the fixed default port.
                                   "--metrics_listen=127.0.0.1:0"};
  // A restarted controller keeps its port, so agents reconnect to the same address.
  if (port_ != 0) argv[1] = absl::StrCat("--listen=127.0.0.1:", port_);
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  controller_ = std::make_unique<Subprocess>();
  if (absl::Status s = controller_->Start(argv, dir_ + "/controller.log"); !s.ok()) return s;
  absl::StatusOr<std::string> port = WaitForFile(port_file, absl::Seconds(30));
  if (!port.ok()) return absl::UnavailableError(absl::StrCat("controller did not start:\n", Logs()));
  if (!absl::SimpleAtoi(*port, &port_)) return absl::InternalError("bad port file");
  stub_ = v1::CampaignService::NewStub(
      grpc::CreateChannel(address(), grpc::InsecureChannelCredentials()));
  return absl::OkStatus();
}

void LocalFleet::StopController(bool hard) {
  if (controller_) controller_->Stop(hard ? SIGKILL : SIGTERM);
}

absl::Status LocalFleet::StartAgent(const AgentOptions& options) {
  const std::string spool = dir_ + "/spool-" + options.agent_id;
  std::vector<std::string> argv = {RunfilePath("agent/faultline-agent"),
                                   "--controller=" + (options.controller_address.empty()
                                                          ? address()
                                                          : options.controller_address),
                                   "--agent_id=" + options.agent_id,
                                   "--kernel_label=" + options.kernel_label,
                                   "--spool_dir=" + spool,
                                   "--poll_wait_seconds=5", "--plaintext"};
  argv.insert(argv.end(), options.extra_flags.begin(), options.extra_flags.end());
  auto agent = std::make_unique<Subprocess>();
  if (absl::Status s = agent->Start(argv, dir_ + "/agent-" + options.agent_id + ".log");
      !s.ok()) {
    return s;
  }
  agents_[options.agent_id] = std::move(agent);
  return WaitForAgents(static_cast<int>(agents_.size()));
}

absl::Status LocalFleet::WaitForAgents(int count, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::ListAgentsResponse response;
    if (stub_->ListAgents(&ctx, v1::ListAgentsRequest(), &response).ok() &&
        response.agents_size() >= count) {
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(absl::StrCat("agents did not register:\n", Logs()));
}

CommandResult LocalFleet::Ctl(const std::vector<std::string>& args, absl::Duration timeout) {
  std::vector<std::string> argv = {RunfilePath("controller/cli/faultlinectl"),
                                   "--controller=" + address(), "--plaintext"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout);
}

absl::StatusOr<v1::Campaign> LocalFleet::WaitForCampaign(
    const std::string& campaign_id, const std::function<bool(const v1::Campaign&)>& done,
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  v1::Campaign campaign;
  while (absl::Now() < deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::GetCampaignRequest request;
    request.set_campaign_id(campaign_id);
    // Errors are expected while a controller restarts; keep polling.
    if (stub_->GetCampaign(&ctx, request, &campaign).ok() && done(campaign)) return campaign;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(absl::StrCat("campaign ", campaign_id,
                                                  " did not reach the expected state; last:\n",
                                                  campaign.DebugString(), Logs()));
}

absl::StatusOr<std::string> LocalFleet::Submit(const std::string& spec_text) {
  v1::SubmitCampaignRequest request;
  if (!google::protobuf::TextFormat::ParseFromString(spec_text, request.mutable_spec())) {
    return absl::InvalidArgumentError("campaign text does not parse");
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::Campaign campaign;
  grpc::Status status = stub_->SubmitCampaign(&ctx, request, &campaign);
  if (!status.ok()) return absl::UnknownError(status.error_message());
  return campaign.id();
}

std::vector<v1::StoredRun> LocalFleet::Runs(const std::string& campaign_id) {
  v1::QueryResultsRequest request;
  request.set_campaign_id(campaign_id);
  v1::QueryResultsResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  if (!stub_->QueryResults(&ctx, request, &response).ok()) return {};
  return {response.runs().begin(), response.runs().end()};
}

std::string LocalFleet::Logs() const {
  auto tail = [](const std::string& text) {
    return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
  };
  std::string out = absl::StrCat("--- controller.log ---\n",
                                 tail(ReadFileOrEmpty(dir_ + "/controller.log")));
  for (const auto& [id, agent] : agents_) {
    absl::StrAppend(&out, "--- agent ", id, " ---\n", tail(ReadFileOrEmpty(agent->log_path())));
  }
  return out;
}

}  // namespace faultline::testing
