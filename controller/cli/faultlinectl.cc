// faultlinectl: the command-line client of a faultline controller.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "controller/cli/campaign_file.h"
#include "controller/cli/results_table.h"
#include "grpcpp/grpcpp.h"
#include "proto/faultline/v1/campaign_service.grpc.pb.h"

ABSL_FLAG(std::string, controller, "127.0.0.1:7070", "Controller address (host:port).");
ABSL_FLAG(bool, wait, false, "submit: wait for the campaign to finish, showing progress.");
ABSL_FLAG(std::string, format, "table", "results: table, csv or json.");
ABSL_FLAG(std::string, output, "", "results: write to this file instead of stdout.");
ABSL_FLAG(std::string, campaign, "", "results: only this campaign.");
ABSL_FLAG(std::string, benchmark, "", "results: only this benchmark.");
ABSL_FLAG(std::string, kernel_label, "", "results: only kernels whose label matches this glob.");
ABSL_FLAG(int, limit, 0, "list/results: at most this many (0: the server's default).");
ABSL_FLAG(bool, all, false, "agents: include agents that stopped heartbeating.");
ABSL_FLAG(int, timeout_seconds, 3600, "submit --wait / watch: give up after this long.");

namespace {

namespace v1 = faultline::v1;

constexpr char kUsage[] = R"(faultlinectl [--controller=HOST:PORT] COMMAND [ARGS]

Commands:
  submit FILE [--wait]   submit a campaign (protobuf text format, docs/campaigns.md);
                         with --wait, show progress and print its results when done
  watch ID               show a campaign's progress until it finishes
  get ID                 show a campaign
  list                   list campaigns, newest first
  cancel ID              cancel a campaign's queued and running jobs
  agents [--all]         list registered agents
  results [--campaign=ID] [--benchmark=NAME] [--kernel_label=GLOB]
          [--format=table|csv|json] [--output=FILE]
                         print stored results

Exit status: 0 on success; 1 when a waited-for campaign failed or was cancelled;
2 on a usage, input or controller error.)";

int Fail(const std::string& message) {
  std::fprintf(stderr, "faultlinectl: %s\n", message.c_str());
  return 2;
}

int Fail(const grpc::Status& status) {
  static const char* kCodes[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                                 "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                                 "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  const int code = status.error_code();
  return Fail(absl::StrCat(code >= 0 && code <= 16 ? kCodes[code] : "ERROR", ": ",
                           status.error_message()));
}

std::string StateName(v1::CampaignState state) {
  std::string name = v1::CampaignState_Name(state);
  return name.substr(std::string("CAMPAIGN_STATE_").size());
}

bool IsFinal(v1::CampaignState s) {
  return s == v1::CAMPAIGN_STATE_SUCCEEDED || s == v1::CAMPAIGN_STATE_FAILED ||
         s == v1::CAMPAIGN_STATE_CANCELLED;
}

class Cli {
 public:
  explicit Cli(std::shared_ptr<grpc::Channel> channel)
      : stub_(v1::CampaignService::NewStub(channel)) {}

  int Submit(const std::string& path) {
    auto spec = faultline::cli::ReadCampaignFile(path);
    if (!spec.ok()) return Fail(std::string(spec.status().message()));
    v1::SubmitCampaignRequest request;
    *request.mutable_spec() = *spec;
    v1::Campaign campaign;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    grpc::Status status = stub_->SubmitCampaign(&ctx, request, &campaign);
    if (!status.ok()) return Fail(status);
    std::printf("%s\n", campaign.id().c_str());
    std::fflush(stdout);
    if (!absl::GetFlag(FLAGS_wait)) return 0;
    int rc = Watch(campaign.id());
    if (rc == 2) return rc;
    int results_rc = Results(campaign.id());
    return rc != 0 ? rc : results_rc;
  }

  int Watch(const std::string& id) {
    v1::WatchCampaignRequest request;
    request.set_campaign_id(id);
    grpc::ClientContext ctx;
    ctx.set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_timeout_seconds))));
    auto reader = stub_->WatchCampaign(&ctx, request);
    v1::Campaign campaign;
    const bool tty = isatty(STDERR_FILENO);
    while (reader->Read(&campaign)) {
      const std::string bar = faultline::cli::FormatProgressBar(campaign);
      // On a terminal the bar redraws in place; in logs each state is one line.
      std::fprintf(stderr, tty ? "\r%s" : "%s\n", bar.c_str());
    }
    if (tty) std::fprintf(stderr, "\n");
    grpc::Status status = reader->Finish();
    if (!status.ok()) return Fail(status);
    if (!IsFinal(campaign.state())) return Fail("watch ended before the campaign finished");
    std::fprintf(stderr, "campaign %s %s\n", id.c_str(), StateName(campaign.state()).c_str());
    return campaign.state() == v1::CAMPAIGN_STATE_SUCCEEDED ? 0 : 1;
  }

  int Get(const std::string& id) {
    v1::GetCampaignRequest request;
    request.set_campaign_id(id);
    v1::Campaign campaign;
    grpc::ClientContext ctx;
    grpc::Status status = stub_->GetCampaign(&ctx, request, &campaign);
    if (!status.ok()) return Fail(status);
    std::printf("%s", campaign.DebugString().c_str());
    return 0;
  }

  int List() {
    v1::ListCampaignsRequest request;
    request.set_limit(absl::GetFlag(FLAGS_limit));
    v1::ListCampaignsResponse response;
    grpc::ClientContext ctx;
    grpc::Status status = stub_->ListCampaigns(&ctx, request, &response);
    if (!status.ok()) return Fail(status);
    std::printf("%-10s %-10s %-24s %s\n", "ID", "STATE", "NAME", "PROGRESS");
    for (const auto& c : response.campaigns()) {
      std::printf("%-10s %-10s %-24s %s\n", c.id().c_str(), StateName(c.state()).c_str(),
                  c.spec().name().c_str(), faultline::cli::FormatProgressBar(c, 20).c_str());
    }
    return 0;
  }

  int Cancel(const std::string& id) {
    v1::CancelCampaignRequest request;
    request.set_campaign_id(id);
    v1::Campaign campaign;
    grpc::ClientContext ctx;
    grpc::Status status = stub_->CancelCampaign(&ctx, request, &campaign);
    if (!status.ok()) return Fail(status);
    std::printf("%s %s\n", campaign.id().c_str(), StateName(campaign.state()).c_str());
    return 0;
  }

  int Agents() {
    v1::ListAgentsRequest request;
    request.set_include_lost(absl::GetFlag(FLAGS_all));
    v1::ListAgentsResponse response;
    grpc::ClientContext ctx;
    grpc::Status status = stub_->ListAgents(&ctx, request, &response);
    if (!status.ok()) return Fail(status);
    std::printf("%-20s %-8s %-8s %-16s %-28s %-6s %s\n", "AGENT", "STATE", "ARCH", "KERNEL",
                "RELEASE", "CPUS", "HOST CLASS");
    for (const auto& a : response.agents()) {
      std::string state = v1::AgentState_Name(a.state()).substr(std::string("AGENT_STATE_").size());
      std::string arch = v1::Arch_Name(a.host().arch()).substr(std::string("ARCH_").size());
      std::printf("%-20s %-8s %-8s %-16s %-28s %-6u %s\n", a.agent_id().c_str(), state.c_str(),
                  arch.c_str(), a.host().kernel_label().c_str(),
                  a.host().kernel_release().c_str(), a.host().cpu_count(),
                  a.host().host_class().c_str());
    }
    return 0;
  }

  int Results(const std::string& campaign_id) {
    v1::QueryResultsRequest request;
    request.set_campaign_id(campaign_id);
    request.set_benchmark(absl::GetFlag(FLAGS_benchmark));
    request.set_kernel_label(absl::GetFlag(FLAGS_kernel_label));
    request.set_limit(absl::GetFlag(FLAGS_limit));
    v1::QueryResultsResponse response;
    grpc::ClientContext ctx;
    grpc::Status status = stub_->QueryResults(&ctx, request, &response);
    if (!status.ok()) return Fail(status);
    std::vector<v1::StoredRun> runs(response.runs().begin(), response.runs().end());
    // The store answers newest first; people read a campaign in the order it ran.
    std::sort(runs.begin(), runs.end(), [](const v1::StoredRun& a, const v1::StoredRun& b) {
      return a.run_id() < b.run_id();
    });
    const std::string format = absl::GetFlag(FLAGS_format);
    std::string text;
    if (format == "table") {
      text = faultline::cli::FormatResultsTable(runs);
    } else if (format == "csv") {
      text = faultline::cli::FormatResultsCsv(runs);
    } else if (format == "json") {
      text = faultline::cli::FormatResultsJson(runs);
    } else {
      return Fail(absl::StrCat("--format: \"", format, "\" is not one of table|csv|json"));
    }
    const std::string output = absl::GetFlag(FLAGS_output);
    if (output.empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      return 0;
    }
    std::ofstream out(output);
    out << text;
    if (!out.good()) return Fail(absl::StrCat(output, ": cannot write"));
    return 0;
  }

 private:
  std::unique_ptr<v1::CampaignService::Stub> stub_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) return Fail(absl::StrCat("missing command\n\n", kUsage));
  const std::string command = args[1];
  auto need_arg = [&]() -> const char* {
    return args.size() == 3 ? args[2] : nullptr;
  };
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(256 * 1024 * 1024);
  Cli cli(grpc::CreateCustomChannel(absl::GetFlag(FLAGS_controller),
                                    grpc::InsecureChannelCredentials(), channel_args));
  if (command == "submit") {
    const char* file = need_arg();
    if (file == nullptr) return Fail("usage: faultlinectl submit FILE [--wait]");
    return cli.Submit(file);
  }
  if (command == "watch" || command == "get" || command == "cancel") {
    const char* id = need_arg();
    if (id == nullptr) return Fail(absl::StrCat("usage: faultlinectl ", command, " ID"));
    if (command == "watch") return cli.Watch(id);
    if (command == "get") return cli.Get(id);
    return cli.Cancel(id);
  }
  if (args.size() != 2) return Fail(absl::StrCat(command, ": unexpected arguments"));
  if (command == "list") return cli.List();
  if (command == "agents") return cli.Agents();
  if (command == "results") return cli.Results(absl::GetFlag(FLAGS_campaign));
  return Fail(absl::StrCat("unknown command \"", command, "\"\n\n", kUsage));
}
