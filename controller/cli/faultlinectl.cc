// faultlinectl: the command-line client of a faultline controller.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "controller/analysis/gate.h"
#include "controller/analysis/latency_quantiles.h"
#include "controller/analysis/report_text.h"
#include "controller/cli/campaign_file.h"
#include "controller/cli/change_points_output.h"
#include "controller/cli/command_help.h"
#include "controller/cli/comparison_output.h"
#include "controller/cli/html_report.h"
#include "controller/cli/param_args.h"
#include "controller/cli/repeated_flag.h"
#include "controller/cli/run_args.h"
#include "controller/cli/results_table.h"
#include "controller/cli/selector.h"
#include "controller/validation/request_validation.h"
#include "controller/security/access_policy.h"
#include "controller/security/client_flags.h"
#include "controller/security/token_hash.h"
#include "controller/runs/campaign_rounds.h"
#include "controller/runs/rounds_until_decided.h"
#include "controller/service/analysis_proto.h"
#include "controller/service/sequential_proto.h"
#include "grpcpp/grpcpp.h"
#include "proto/faultline/v1/analysis.grpc.pb.h"
#include "proto/faultline/v1/campaign_service.grpc.pb.h"

ABSL_FLAG(std::string, controller, "127.0.0.1:7070", "Controller address (host:port).");
ABSL_FLAG(bool, wait, false, "submit: wait for the campaign to finish, showing progress.");
ABSL_FLAG(std::string, format, "table",
          "results/compare/run: table, csv or json; changepoints: table or json.");
ABSL_FLAG(std::string, output, "", "results/compare: write to this file instead of stdout.");
ABSL_FLAG(std::string, campaign, "", "results: only this campaign.");
ABSL_FLAG(std::string, benchmark, "", "results: only this benchmark.");
ABSL_FLAG(std::string, kernel_label, "", "results: only kernels whose label matches this glob.");
ABSL_FLAG(int, limit, 0,
          "list/results/changepoints: at most this many (changepoints: most recent runs; 0: the "
          "server's default).");
ABSL_FLAG(bool, all, false, "agents: include agents that stopped heartbeating.");
ABSL_FLAG(int, timeout_seconds, 3600,
          "submit --wait / watch / gate: give up after this long (gate: per campaign).");
ABSL_FLAG(std::string, baseline, "", "compare/gate: the baseline (A) selector (docs/analysis.md).");
ABSL_FLAG(std::string, candidate, "",
          "compare/gate: the candidate (B) selector; compare takes it more than once, one "
          "column per candidate against the same baseline.");
ABSL_FLAG(std::string, html, "", "compare: also write a self-contained HTML report here.");
ABSL_FLAG(std::string, policy, "", "gate: the gate policy file.");
ABSL_FLAG(std::string, policy_name, "",
          "gate: name for reports and the verdict metric; default the policy file's base name.");
ABSL_FLAG(std::string, suite, "",
          "gate: run this campaign file (no targets) first and decide on its results.");
ABSL_FLAG(std::string, role, "", "token new: the role of the new token (agent, read, submit).");
ABSL_FLAG(std::string, name, "",
          "token new: who holds the token (for role agent: the agent id it may act as).");
ABSL_FLAG(bool, confirm, true, "gate: re-run a single-host failure on a second host.");
ABSL_FLAG(std::optional<double>, min_effect, std::nullopt,
          "compare/gate: minimum effect (0.02 = 2%, the default; 0 is honoured).");
ABSL_FLAG(std::optional<double>, fdr_level, std::nullopt,
          "compare/gate: false-discovery rate in (0, 1); default 0.01.");
ABSL_FLAG(std::vector<std::string>, metrics, {},
          "compare: compare only these metrics, comma-separated globs over BENCHMARK:METRIC or "
          "METRIC (e.g. fault_anon:ns_per_fault); the false-discovery family is then theirs.");
ABSL_FLAG(bool, until_decided, false,
          "gate --suite / submit: keep adding interleaved rounds while the gate (submit: the "
          "comparison of the campaign's two targets) is undecided and its estimate says more "
          "rounds could decide it, within --budget and/or --max_rounds.");
ABSL_FLAG(absl::Duration, budget, absl::ZeroDuration(),
          "--until_decided: most wall time for all rounds, e.g. 30m (0: only --max_rounds).");
ABSL_FLAG(int, max_rounds, 0,
          "--until_decided: most rounds (runs per side) in all, the first campaign's included "
          "(0: only --budget).");
ABSL_FLAG(std::string, look, "",
          "compare: one look of a campaign that runs until it can decide, PREVIOUS:ROUNDS:MAX "
          "rounds per side (e.g. 5:9:14): test at the look's alpha-spending level and say "
          "whether more rounds could decide (faultline-lab --until_decided).");
ABSL_FLAG(std::string, replication, "auto",
          "compare/gate: the block a comparison replicates over: run, boot, or auto (boot when "
          "both sides span several boots).");

ABSL_FLAG(std::string, on, "",
          "run: a target, in selector syntax (kernel_label, kernel_release, arch, host_class, "
          "agent, target=NAME); once per kernel, the first is the baseline.");
ABSL_FLAG(int, repetitions, 10, "run: measured repetitions per target.");
ABSL_FLAG(int, repetitions_per_job, 1,
          "run: repetitions per job (one run each); targets alternate in rounds of this many.");
ABSL_FLAG(bool, compare, false,
          "run: when the campaign is done, compare its targets (the first --on is the baseline) "
          "instead of printing its results; takes compare's --format, --html, --min_effect, "
          "--fdr_level, --metrics.");
ABSL_FLAG(std::string, params, "",
          "changepoints: only runs with these parameter values, name=value[,name=value...].");
ABSL_FLAG(std::string, where, "",
          "changepoints: the hardware and kernels of the series: kernel_label=GLOB, "
          "host_class=GLOB, arch=x86_64|arm64 (selector syntax, comma-separated).");
ABSL_FLAG(std::string, order, "time",
          "changepoints: time (one point per run) or kernel (one per kernel, in order of first "
          "run).");
ABSL_FLAG(std::optional<double>, max_p_value, std::nullopt,
          "changepoints: significance a change point must reach, in (0, 1); default 0.001.");

namespace {

namespace v1 = faultline::v1;

// Calls that answer from the store at once: an unreachable or stuck controller fails them
// instead of hanging the terminal or a CI job.
constexpr absl::Duration kShortCallTimeout = absl::Seconds(30);

constexpr char kUsage[] = R"(faultlinectl [--controller=HOST:PORT] [--plaintext | --tls_ca=FILE
             [--tls_cert=FILE --tls_key=FILE] [--token_file=FILE]] COMMAND [ARGS]

Commands:
  submit FILE [--wait]   submit a campaign (protobuf text format, docs/campaigns.md);
                         with --wait, show progress and print its results when done
  submit FILE --until_decided --budget=DURATION|--max_rounds=N [--metrics=...]
                         run the campaign (two targets, interleaved), then more rounds
                         while its targets' comparison is undecided and could be decided
  run BENCHMARK [NAME=VALUE ...] --on=SEL --on=SEL ... [--repetitions=10]
          [--repetitions_per_job=1] [--compare [--format=table|json|csv] [--html=FILE]]
                         run one benchmark on each --on target in an interleaved, paired
                         campaign, wait, then print its results or, with --compare, compare
                         the targets against the first (docs/campaigns.md)
  watch ID               show a campaign's progress until it finishes
  get ID                 show a campaign
  list                   list campaigns, newest first
  cancel ID              cancel a campaign's queued and running jobs
  agents [--all]         list registered agents
  results [--campaign=ID] [--benchmark=NAME] [--kernel_label=GLOB]
          [--format=table|csv|json] [--output=FILE]
                         print stored results
  compare --baseline=SEL --candidate=SEL [--candidate=SEL ...] [--format=table|json|csv]
          [--output=FILE] [--html=FILE] [--min_effect=F] [--fdr_level=F]
          [--replication=auto|run|boot] [--metrics=BENCH:METRIC,...] [--look=P:R:M]
                         compare kernels' stored results (docs/analysis.md); with several
                         --candidate, one column per candidate against the baseline;
                         --look: one look of rounds until decided (faultline-lab)
  changepoints BENCHMARK METRIC [--params=NAME=VALUE,...] [--where=SEL]
          [--order=time|kernel] [--max_p_value=F] [--limit=N] [--format=table|json]
                         change points in a metric's stored history, each at the first
                         run (or kernel) after the change (docs/analysis.md)
  gate --baseline=SEL --candidate=SEL --policy=FILE [--suite=FILE] [--confirm=false]
       [--until_decided --budget=DURATION --max_rounds=N]
                         decide an upgrade gate; with --suite, run that campaign first;
                         with --until_decided, add rounds until decided or out of budget
  token new --role=agent|read|submit --name=NAME
                         make a bearer token: prints the token (give it to the user) and
                         the access-policy line holding only its hash (docs/security.md)

Selectors: comma-separated key=value, e.g. campaign=c-000012,target=stock or
kernel_label=patched/*,arch=x86_64 (keys: campaign, target, kernel_label,
kernel_release, arch, host_class, benchmark, agent).

Exit status: 0 on success; 1 when a waited-for campaign failed or was cancelled;
2 on a usage, input or controller error.
gate: 0 pass, 1 fail, 2 inconclusive; 3 on a usage, input or controller error.
compare: 0 when compared (whatever the verdicts); 3 on an error.)";

// Every --candidate given, in order (taken off the command line before Abseil parses it, which
// would keep only the last).
std::vector<std::string>& Candidates() {
  static auto* const candidates = new std::vector<std::string>();
  return *candidates;
}

// Every --on given to run, in order (the same way).
std::vector<std::string>& OnSelectors() {
  static auto* const on = new std::vector<std::string>();
  return *on;
}

// compare and gate keep 0/1/2 for verdicts, so their own errors exit 3.
constexpr int kAnalysisError = 3;


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

std::string ReadWholeFile(const std::string& path, bool* ok) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  *ok = static_cast<bool>(in) || in.eof();
  return text;
}

std::string BaseName(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  const size_t dot = base.find('.');
  if (dot != std::string::npos && dot > 0) base = base.substr(0, dot);
  std::string clean;
  for (char c : base) {
    const bool ok = isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    clean += ok ? c : '_';
  }
  return clean.empty() ? "gate" : clean.substr(0, 128);
}

const char* OutcomeName(v1::GateOutcome outcome) {
  return faultline::controller::analysis::GateOutcomeName(
      faultline::controller::service::GateOutcomeFromProto(outcome));
}

// Requests carry flags and file contents as given. The controller cannot decode a string that is
// not UTF-8, let alone say which one it was, so that is checked here.
bool Utf8OrFail(const google::protobuf::Message& request) {
  absl::Status valid = faultline::controller::validation::ValidateUtf8Strings(request, "");
  if (!valid.ok()) Fail(std::string(valid.message()));
  return valid.ok();
}

class Cli {
 public:
  explicit Cli(std::shared_ptr<grpc::Channel> channel)
      : stub_(v1::CampaignService::NewStub(channel)),
        analysis_(v1::AnalysisService::NewStub(channel)) {}

  int Compare() {
    auto baseline =
        faultline::controller::cli::ParseSelector(absl::GetFlag(FLAGS_baseline), "--baseline");
    if (!baseline.ok()) {
      Fail(std::string(baseline.status().message()));
      return kAnalysisError;
    }
    std::vector<Side> candidates;
    if (Candidates().empty()) {
      Fail("--candidate: empty selector; give one --candidate=SEL per kernel to compare");
      return kAnalysisError;
    }
    for (const std::string& text : Candidates()) {
      auto selector = faultline::controller::cli::ParseSelector(text, "--candidate");
      if (!selector.ok()) {
        Fail(std::string(selector.status().message()));
        return kAnalysisError;
      }
      candidates.push_back({text, *selector});
    }
    return CompareSides({absl::GetFlag(FLAGS_baseline), *baseline}, candidates);
  }

  // A selection and how the user wrote it.
  struct Side {
    std::string name;
    v1::ResultSelector selector;
  };

  // One Compare per candidate against `baseline`, printed in --format (and --html): the pair's
  // table, JSON and CSV for one candidate, the kernels' for several (each its own FDR family).
  int CompareSides(const Side& baseline, const std::vector<Side>& candidates) {
    const std::string format = absl::GetFlag(FLAGS_format);
    if (format != "table" && format != "json" && format != "csv") {
      Fail(absl::StrCat("--format: \"", format, "\" is not one of table|csv|json"));
      return kAnalysisError;
    }
    v1::CompareOptions options;
    if (!Options(&options)) return kAnalysisError;
    for (const std::string& glob : absl::GetFlag(FLAGS_metrics)) options.add_metrics(glob);
    v1::KernelsComparison kernels;
    *kernels.mutable_baseline() = baseline.selector;
    kernels.set_baseline_name(baseline.name);
    for (const Side& candidate : candidates) {
      v1::CompareRequest request;
      *request.mutable_baseline() = baseline.selector;
      *request.mutable_candidate() = candidate.selector;
      *request.mutable_options() = options;
      if (!absl::GetFlag(FLAGS_look).empty() && !LookFromFlag(request.mutable_look())) {
        return kAnalysisError;
      }
      if (!Utf8OrFail(request)) return kAnalysisError;
      v1::CandidateComparison* c = kernels.add_candidates();
      *c->mutable_selector() = candidate.selector;
      c->set_name(candidate.name);
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(300)));
      grpc::Status status = analysis_->Compare(&ctx, request, c->mutable_comparison());
      if (!status.ok()) {
        if (candidates.size() > 1) std::fprintf(stderr, "%s:\n", candidate.name.c_str());
        Fail(status);
        return kAnalysisError;
      }
    }
    namespace cli = faultline::controller::cli;
    std::string text;
    std::string html;
    if (candidates.size() == 1) {
      const v1::CompareResponse& response = kernels.candidates(0).comparison();
      if (format == "json") {
        text = cli::FormatComparisonJson(response);
      } else if (format == "csv") {
        text = cli::FormatComparisonCsv(response);
      } else {
        namespace service = faultline::controller::service;
        namespace analysis = faultline::controller::analysis;
        const analysis::SuiteComparison suite = service::SuiteComparisonFromProto(response);
        text = absl::StrCat(ComparisonHeader(response, baseline.name, candidates[0].name),
                            analysis::FormatComparisonTable(suite), DistributionsText(response));
        if (response.has_look()) absl::StrAppend(&text, LookLine(response.look()));
        for (const std::string& section :
             {analysis::FormatCounterTable(suite, service::CounterSuiteFromProto(response)),
              analysis::FormatProfileChanges(service::ProfileChangesFromProto(response))}) {
          if (!section.empty()) absl::StrAppend(&text, "\n", section);
        }
      }
      html = cli::RenderComparisonHtml(response, baseline.name, candidates[0].name);
    } else {
      if (format == "json") {
        text = cli::FormatKernelsJson(kernels);
      } else if (format == "csv") {
        text = cli::FormatKernelsCsv(kernels);
      } else {
        std::vector<std::string> names = {baseline.name};
        std::vector<faultline::controller::analysis::SuiteComparison> suites;
        // A warning every pair gives (the baseline's own) is said once, the others per pair.
        std::map<std::string, int> pairs_warning;
        for (const v1::CandidateComparison& c : kernels.candidates()) {
          for (const std::string& w : c.comparison().warnings()) ++pairs_warning[w];
        }
        for (const auto& [w, n] : pairs_warning) {
          if (n == kernels.candidates_size()) absl::StrAppend(&text, "warning: ", w, "\n");
        }
        for (int i = 0; i < kernels.candidates_size(); ++i) {
          const v1::CandidateComparison& c = kernels.candidates(i);
          names.push_back(c.name());
          suites.push_back(
              faultline::controller::service::SuiteComparisonFromProto(c.comparison()));
          for (const std::string& w : c.comparison().warnings()) {
            if (pairs_warning[w] == kernels.candidates_size()) continue;
            absl::StrAppend(&text, "warning (B", i + 1, "): ", w, "\n");
          }
        }
        absl::StrAppend(&text, faultline::controller::analysis::FormatKernelsTable(names, suites));
        for (int i = 0; i < kernels.candidates_size(); ++i) {
          const std::string d = DistributionsText(kernels.candidates(i).comparison());
          if (!d.empty()) absl::StrAppend(&text, "\nB", i + 1, " against A:", d);
        }
      }
      html = cli::RenderKernelsHtml(kernels);
    }
    if (!WriteOutput(text)) return kAnalysisError;
    const std::string html_path = absl::GetFlag(FLAGS_html);
    if (!html_path.empty()) {
      std::ofstream out(html_path);
      out << html;
      out.close();
      if (!out.good()) {
        Fail(absl::StrCat(html_path, ": cannot write"));
        return kAnalysisError;
      }
      std::fprintf(stderr, "wrote %s\n", html_path.c_str());
    }
    return 0;
  }

  int Gate() {
    v1::GateRequest request;
    int rc = Selectors(request.mutable_baseline(), request.mutable_candidate());
    if (rc != 0) return rc;
    const std::string policy_path = absl::GetFlag(FLAGS_policy);
    if (policy_path.empty()) {
      Fail("gate: --policy=FILE is required");
      return kAnalysisError;
    }
    bool ok = false;
    const std::string policy = ReadWholeFile(policy_path, &ok);
    if (!ok) {
      Fail(absl::StrCat(policy_path, ": cannot read policy file"));
      return kAnalysisError;
    }
    // Checked here too so the error names the file: "FILE:LINE:COLUMN: what was expected".
    absl::StatusOr<faultline::controller::analysis::GatePolicy> parsed =
        faultline::controller::analysis::ParseGatePolicyFile(policy, policy_path);
    if (!parsed.ok()) {
      Fail(std::string(parsed.status().message()));
      return kAnalysisError;
    }
    request.set_policy(policy);
    const std::string name = absl::GetFlag(FLAGS_policy_name);
    request.set_policy_name(name.empty() ? BaseName(policy_path) : name);
    if (!Options(request.mutable_options())) return kAnalysisError;
    request.set_skip_confirmation(!absl::GetFlag(FLAGS_confirm));
    const int timeout = absl::GetFlag(FLAGS_timeout_seconds);
    request.set_timeout_seconds(static_cast<uint32_t>(std::max(timeout, 1)));
    const std::string suite = absl::GetFlag(FLAGS_suite);
    // The longest the call may take: a campaign, a confirmation, and the rounds' budget.
    absl::Duration deadline = absl::Seconds(2 * timeout + 120);
    if (absl::GetFlag(FLAGS_until_decided)) {
      if (!SequentialPlanFromFlags(request.mutable_sequential())) return kAnalysisError;
      if (suite.empty()) {
        Fail("gate --until_decided: needs --suite (rounds are added to a campaign the gate runs)");
        return kAnalysisError;
      }
      deadline += request.sequential().budget_seconds() > 0
                      ? absl::Seconds(request.sequential().budget_seconds())
                      : absl::Seconds(timeout) * request.sequential().max_rounds();
    }
    if (!suite.empty()) {
      auto spec = faultline::controller::cli::ReadCampaignFile(suite);
      if (!spec.ok()) {
        Fail(std::string(spec.status().message()));
        return kAnalysisError;
      }
      *request.mutable_campaign() = *spec;
      std::fprintf(stderr, "gate %s: running %s, then deciding\n", request.policy_name().c_str(),
                   suite.c_str());
    }
    if (!Utf8OrFail(request)) return kAnalysisError;
    v1::GateResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    grpc::Status status = analysis_->Gate(&ctx, request, &response);
    if (!status.ok()) {
      Fail(status);
      return kAnalysisError;
    }
    if (!response.campaign_id().empty()) {
      std::printf("campaign %s\n", response.campaign_id().c_str());
    }
    const std::string table = absl::StrCat(
        ComparisonHeader(response.comparison(), absl::GetFlag(FLAGS_baseline),
                         Candidates()[0]),
        faultline::controller::analysis::FormatComparisonTable(
            faultline::controller::service::SuiteComparisonFromProto(response.comparison())),
        DistributionsText(response.comparison()));
    std::fwrite(table.data(), 1, table.size(), stdout);
    std::printf("\n");
    const std::string verdict = faultline::controller::analysis::FormatGateResult(
        faultline::controller::service::GateResultFromProto(response));
    std::fwrite(verdict.data(), 1, verdict.size(), stdout);
    if (response.has_sequential()) {
      std::fputs(
          faultline::controller::service::FormatSequentialOutcome(response.sequential()).c_str(),
          stdout);
    }
    for (const v1::GateConfirmation& c : response.confirmations()) {
      const std::string campaign =
          c.campaign_id().empty() ? "" : absl::StrCat(" (campaign ", c.campaign_id(), ")");
      std::printf("confirmation %s %s: %s on the original hosts, %s on second hosts%s: %s\n",
                  c.benchmark().c_str(), c.metric().c_str(), OutcomeName(c.original_outcome()),
                  OutcomeName(c.confirmation_outcome()), campaign.c_str(), c.reason().c_str());
    }
    if (!response.confirmations().empty()) {
      std::printf("gate after confirmation: %s (exit %d)\n", OutcomeName(response.outcome()),
                  response.exit_code());
    }
    return response.exit_code();
  }

  int Submit(const std::string& path) {
    auto spec = faultline::controller::cli::ReadCampaignFile(path);
    if (!spec.ok()) return Fail(std::string(spec.status().message()));
    if (absl::GetFlag(FLAGS_until_decided)) return SubmitUntilDecided(*spec);
    std::string id;
    if (int rc = SubmitSpec(*spec, &id, /*field_terms=*/false); rc != 0) return rc;
    std::printf("%s\n", id.c_str());
    std::fflush(stdout);
    if (!absl::GetFlag(FLAGS_wait)) return 0;
    int rc = Watch(id);
    if (rc == 2) return rc;
    int results_rc = Results(id);
    return rc != 0 ? rc : results_rc;
  }

  // submit --until_decided: the campaign, then further steps (campaigns of the rounds the
  // estimate asks for) while the comparison of its first target (the baseline) with its second
  // is undecided on a metric of interest (--metrics, or all), within --budget / --max_rounds:
  // runs::RunUntilDecided over the Rounds below. Prints the last look's comparison and the looks;
  // exit 0, 1 when a step's campaign had failed jobs, 2 on an error.
  int SubmitUntilDecided(const v1::CampaignSpec& spec) {
    if (spec.targets_size() != 2 || !spec.interleave()) {
      return Fail("submit --until_decided: the campaign needs two targets (the baseline first, "
                  "the candidate second) and interleave: true");
    }
    v1::SequentialPlan plan;
    if (!SequentialPlanFromFlags(&plan)) return 2;
    v1::CompareOptions options;
    if (!Options(&options)) return 2;
    for (const std::string& glob : absl::GetFlag(FLAGS_metrics)) options.add_metrics(glob);
    const faultline::controller::analysis::CompareOptions checked =
        faultline::controller::service::CompareOptionsFromProto(options);
    if (absl::Status valid = faultline::controller::analysis::ValidateCompareOptions(checked);
        !valid.ok()) {
      return Fail(absl::StrCat("--", valid.message()));
    }
    Rounds rounds(this, spec, options);
    faultline::controller::runs::RoundBudget budget;
    budget.max_rounds = static_cast<int>(plan.max_rounds());
    budget.time = absl::Seconds(plan.budget_seconds());
    absl::StatusOr<faultline::controller::runs::RoundsReport> report =
        faultline::controller::runs::RunUntilDecided(
            rounds, faultline::controller::runs::CampaignRounds(spec), budget, checked.fdr_level,
            "run", [] { return absl::Now(); });
    if (!report.ok()) {
      // The source said why already (a refused submission, a failed watch or compare).
      if (!rounds.failed_loudly) Fail(std::string(report.status().message()));
      return 2;
    }
    const v1::CompareResponse& last = rounds.last;
    std::string text = absl::StrCat(
        ComparisonHeader(last, spec.targets(0).name(), spec.targets(1).name()),
        faultline::controller::analysis::FormatComparisonTable(
            faultline::controller::service::SuiteComparisonFromProto(last)),
        "\n",
        faultline::controller::service::FormatSequentialOutcome(
            faultline::controller::service::RoundsReportToProto(*report, rounds.campaign_ids)));
    if (!WriteOutput(text)) return 2;
    return rounds.any_failed ? 1 : 0;
  }

  // A step is a campaign (the file's first, then runs::CampaignStep); a look compares every
  // step's two targets at the look's level (CompareRequest.look).
  class Rounds : public faultline::controller::runs::RoundSource {
   public:
    Rounds(Cli* cli, const v1::CampaignSpec& spec, const v1::CompareOptions& options)
        : cli_(cli), spec_(spec), options_(options) {}

    absl::Status AddRounds(int rounds) override {
      const v1::CampaignSpec step =
          campaign_ids.empty()
              ? spec_
              : faultline::controller::runs::CampaignStep(
                    spec_, campaign_ids.front(), static_cast<int>(campaign_ids.size()) + 1, rounds);
      std::string id;
      if (cli_->SubmitSpec(step, &id, /*field_terms=*/false) != 0) return Loud("submission");
      std::fprintf(stderr, "campaign %s: %d rounds\n", id.c_str(), rounds);
      campaign_ids.push_back(id);
      const int rc = cli_->Watch(id);
      if (rc == 2) return Loud("watch");
      any_failed |= rc != 0;
      return absl::OkStatus();
    }

    absl::StatusOr<std::vector<int>> Look(
        const faultline::controller::analysis::SequentialLook& look) override {
      v1::CompareRequest request;
      for (int side = 0; side < 2; ++side) {
        v1::ResultSelector* s = side == 0 ? request.mutable_baseline() : request.mutable_candidate();
        for (const std::string& id : campaign_ids) s->add_campaign_ids(id);
        s->set_target_name(spec_.targets(side).name());
      }
      *request.mutable_options() = options_;
      faultline::controller::service::SequentialLookToProto(look, request.mutable_look());
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(300)));
      v1::CompareResponse response;
      grpc::Status status = cli_->analysis_->Compare(&ctx, request, &response);
      if (!status.ok()) {
        Fail(status);
        return Loud("compare");
      }
      std::fprintf(stderr, "look at %d of %d rounds: %s %u: %s\n", look.blocks, look.max_blocks,
                   response.look().decision().c_str(), response.look().additional_rounds(),
                   response.look().reason().c_str());
      last = std::move(response);
      return faultline::controller::analysis::UndecidedEstimates(
          faultline::controller::service::SuiteComparisonFromProto(last));
    }

    std::vector<std::string> campaign_ids;
    v1::CompareResponse last;
    bool any_failed = false;
    bool failed_loudly = false;

   private:
    absl::Status Loud(const char* what) {
      failed_loudly = true;
      return absl::UnknownError(absl::StrCat(what, " failed"));
    }

    Cli* const cli_;
    const v1::CampaignSpec& spec_;
    const v1::CompareOptions options_;
  };

  // `run BENCHMARK [NAME=VALUE ...] --on=SEL ...`: builds the campaign (run_args.h), submits it,
  // waits, then prints its results or, with --compare, compares its targets (the first --on is
  // the baseline). stdout carries only the results or the comparison, so --format=json parses.
  int Run(const std::vector<std::string>& positional) {
    faultline::controller::cli::RunArgs run;
    run.benchmark = positional.empty() ? "" : positional[0];
    if (!positional.empty()) run.params.assign(positional.begin() + 1, positional.end());
    run.on = OnSelectors();
    run.repetitions = absl::GetFlag(FLAGS_repetitions);
    run.repetitions_per_job = absl::GetFlag(FLAGS_repetitions_per_job);
    absl::StatusOr<v1::CampaignSpec> spec = faultline::controller::cli::CampaignFromRunArgs(run);
    if (!spec.ok()) return Fail(std::string(spec.status().message()));
    const bool compare = absl::GetFlag(FLAGS_compare);
    const std::string format = absl::GetFlag(FLAGS_format);
    if (compare && spec->targets_size() < 2) {
      return Fail("--compare: needs at least two --on (the first is the baseline)");
    }
    if (format != "table" && format != "json" && format != "csv") {
      return Fail(absl::StrCat("--format: \"", format, "\" is not one of table|csv|json"));
    }
    // Checked before anything runs, so a bad option does not cost the campaign.
    v1::CompareOptions options;
    if (compare && !Options(&options)) return 2;
    if (compare) {
      absl::Status valid = faultline::controller::analysis::ValidateCompareOptions(
          faultline::controller::service::CompareOptionsFromProto(options));
      if (!valid.ok()) return Fail(absl::StrCat("--", valid.message()));
    }
    std::string id;
    if (int rc = SubmitSpec(*spec, &id, /*field_terms=*/true); rc != 0) return rc;
    std::fprintf(stderr, "campaign %s: %s, %d repetitions on each of %d targets, interleaved\n",
                 id.c_str(), spec->name().c_str(), run.repetitions, spec->targets_size());
    const int rc = Watch(id);
    if (rc != 0) return rc;
    if (!compare) return Results(id);
    auto side = [&](int t) {
      v1::ResultSelector selector;
      selector.set_campaign_id(id);
      selector.set_target_name(spec->targets(t).name());
      return Side{run.on[t], selector};
    };
    std::vector<Side> candidates;
    for (int t = 1; t < spec->targets_size(); ++t) candidates.push_back(side(t));
    // run keeps submit's exit codes: a comparison that could not be made is 2 like any error.
    return CompareSides(side(0), candidates) == 0 ? 0 : 2;
  }

  int Watch(const std::string& id) {
    v1::WatchCampaignRequest request;
    request.set_campaign_id(id);
    if (!Utf8OrFail(request)) return 2;
    grpc::ClientContext ctx;
    ctx.set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_timeout_seconds))));
    auto reader = stub_->WatchCampaign(&ctx, request);
    v1::Campaign campaign;
    const bool tty = isatty(STDERR_FILENO);
    while (reader->Read(&campaign)) {
      const std::string bar = faultline::controller::cli::FormatProgressBar(campaign);
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
    if (!Utf8OrFail(request)) return 2;
    v1::Campaign campaign;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kShortCallTimeout));
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
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kShortCallTimeout));
    grpc::Status status = stub_->ListCampaigns(&ctx, request, &response);
    if (!status.ok()) return Fail(status);
    std::printf("%-10s %-10s %-24s %s\n", "ID", "STATE", "NAME", "PROGRESS");
    for (const auto& c : response.campaigns()) {
      std::printf("%-10s %-10s %-24s %s\n", c.id().c_str(), StateName(c.state()).c_str(),
                  c.spec().name().c_str(),
                  faultline::controller::cli::FormatProgressBar(c, 20).c_str());
    }
    return 0;
  }

  int Cancel(const std::string& id) {
    v1::CancelCampaignRequest request;
    request.set_campaign_id(id);
    if (!Utf8OrFail(request)) return 2;
    v1::Campaign campaign;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kShortCallTimeout));
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
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kShortCallTimeout));
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

  int ChangePoints(const std::string& benchmark, const std::string& metric) {
    v1::ChangePointsRequest request;
    request.set_benchmark(benchmark);
    request.set_metric(metric);
    const std::string params_text = absl::GetFlag(FLAGS_params);
    if (!params_text.empty()) {
      auto params = faultline::controller::cli::ParseParamAssignments(
          absl::StrSplit(params_text, ','), "--params");
      if (!params.ok()) return Fail(std::string(params.status().message()));
      request.mutable_params()->insert(params->begin(), params->end());
    }
    const std::string where = absl::GetFlag(FLAGS_where);
    if (!where.empty()) {
      auto selector = faultline::controller::cli::ParseSelector(where, "--where");
      if (!selector.ok()) return Fail(std::string(selector.status().message()));
      // A history spans campaigns and agents; only the hardware and the kernels narrow it.
      v1::ResultSelector rest = *selector;
      rest.clear_kernel_label();
      rest.clear_host_class();
      rest.clear_arch();
      if (rest.ByteSizeLong() != 0) {
        return Fail(absl::StrCat("--where: changepoints takes only kernel_label, host_class and "
                                 "arch (the series is one benchmark's metric across campaigns); "
                                 "got \"", where, "\""));
      }
      request.set_kernel_label(selector->kernel_label());
      request.set_host_class(selector->host_class());
      request.set_arch(selector->arch());
    }
    const std::string order = absl::GetFlag(FLAGS_order);
    if (order == "time") {
      request.set_order(v1::ChangePointsRequest::ORDER_BY_TIME);
    } else if (order == "kernel") {
      request.set_order(v1::ChangePointsRequest::ORDER_BY_KERNEL);
    } else {
      return Fail(absl::StrCat("--order: \"", order, "\" is not one of time|kernel"));
    }
    if (std::optional<double> p = absl::GetFlag(FLAGS_max_p_value)) {
      // 0 would mean the server's default; a user who writes it means something else.
      if (!(*p > 0 && *p < 1)) return Fail("--max_p_value: must be in (0, 1)");
      request.set_max_p_value(*p);
    }
    const int limit = absl::GetFlag(FLAGS_limit);
    if (limit < 0) return Fail("--limit: must not be negative");
    request.set_limit(static_cast<uint32_t>(limit));
    const std::string format = absl::GetFlag(FLAGS_format);
    if (format != "table" && format != "json") {
      return Fail(absl::StrCat("--format: \"", format, "\" is not one of table|json"));
    }
    if (!Utf8OrFail(request)) return 2;
    v1::ChangePointsResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(300)));
    grpc::Status status = analysis_->ChangePoints(&ctx, request, &response);
    if (!status.ok()) return Fail(status);
    const std::string text =
        format == "json" ? faultline::controller::cli::FormatChangePointsJson(response)
                         : faultline::controller::cli::FormatChangePointsTable(
                               response, absl::StrCat(benchmark, " ", metric));
    return WriteOutput(text) ? 0 : 2;
  }

  int Results(const std::string& campaign_id) {
    v1::QueryResultsRequest request;
    request.set_campaign_id(campaign_id);
    request.set_benchmark(absl::GetFlag(FLAGS_benchmark));
    request.set_kernel_label(absl::GetFlag(FLAGS_kernel_label));
    request.set_limit(absl::GetFlag(FLAGS_limit));
    if (!Utf8OrFail(request)) return 2;
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
      text = faultline::controller::cli::FormatResultsTable(runs);
    } else if (format == "csv") {
      text = faultline::controller::cli::FormatResultsCsv(runs);
    } else if (format == "json") {
      text = faultline::controller::cli::FormatResultsJson(runs);
    } else {
      return Fail(absl::StrCat("--format: \"", format, "\" is not one of table|csv|json"));
    }
    return WriteOutput(text) ? 0 : 2;
  }

 private:
  // Submits `spec`; 0 with its id, else 2 after saying why. With `field_terms` the controller's
  // field paths are spelled as `run`'s arguments (run_args.h).
  int SubmitSpec(const v1::CampaignSpec& spec, std::string* id, bool field_terms) {
    v1::SubmitCampaignRequest request;
    *request.mutable_spec() = spec;
    if (!Utf8OrFail(request)) return 2;
    v1::Campaign campaign;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kShortCallTimeout));
    grpc::Status status = stub_->SubmitCampaign(&ctx, request, &campaign);
    if (!status.ok() && field_terms) {
      status = grpc::Status(status.error_code(),
                            std::string(faultline::controller::cli::InCommandLineTerms(
                                            absl::Status(static_cast<absl::StatusCode>(
                                                             status.error_code()),
                                                         status.error_message()))
                                            .message()));
    }
    if (!status.ok()) return Fail(status);
    *id = campaign.id();
    return 0;
  }

  int Selectors(v1::ResultSelector* baseline, v1::ResultSelector* candidate) {
    auto a = faultline::controller::cli::ParseSelector(absl::GetFlag(FLAGS_baseline), "--baseline");
    if (!a.ok()) {
      Fail(std::string(a.status().message()));
      return kAnalysisError;
    }
    if (Candidates().size() > 1) {
      Fail("--candidate: a gate decides one candidate; give --candidate once");
      return kAnalysisError;
    }
    auto b = faultline::controller::cli::ParseSelector(
        Candidates().empty() ? "" : Candidates()[0], "--candidate");
    if (!b.ok()) {
      Fail(std::string(b.status().message()));
      return kAnalysisError;
    }
    *baseline = *a;
    *candidate = *b;
    return 0;
  }

  // --look=PREVIOUS:ROUNDS:MAX; fails (and returns false) when it is not three numbers (their
  // order is the controller's to check).
  static bool LookFromFlag(v1::SequentialLookAt* look) {
    const std::string text = absl::GetFlag(FLAGS_look);
    std::vector<std::string> parts = absl::StrSplit(text, ':');
    uint32_t values[3] = {0, 0, 0};
    bool ok = parts.size() == 3;
    for (size_t i = 0; ok && i < 3; ++i) ok = absl::SimpleAtoi(parts[i], &values[i]);
    if (!ok) {
      Fail(absl::StrCat("--look: \"", text, "\" is not PREVIOUS:ROUNDS:MAX (e.g. 5:9:14)"));
      return false;
    }
    look->set_previous_rounds(values[0]);
    look->set_rounds(values[1]);
    look->set_max_rounds(values[2]);
    return true;
  }

  // "until decided: look at 9 of 14 rounds per side (level 0.0021): more_blocks 4: REASON".
  static std::string LookLine(const v1::SequentialLook& l) {
    return absl::StrFormat("until decided: look at %u of %u rounds per side (level %.3g): %s %u: %s\n",
                           l.rounds(), l.max_rounds(), l.level(), l.decision(),
                           l.additional_rounds(), l.reason());
  }

  // --budget and --max_rounds; fails (and returns false) when neither bounds the rounds.
  static bool SequentialPlanFromFlags(v1::SequentialPlan* plan) {
    const absl::Duration budget = absl::GetFlag(FLAGS_budget);
    const int max_rounds = absl::GetFlag(FLAGS_max_rounds);
    if (budget < absl::ZeroDuration()) {
      Fail("--budget: must not be negative");
      return false;
    }
    if (max_rounds < 0) {
      Fail("--max_rounds: must not be negative");
      return false;
    }
    if (budget == absl::ZeroDuration() && max_rounds == 0) {
      Fail("--until_decided: set --budget=DURATION (e.g. 30m) and/or --max_rounds=N");
      return false;
    }
    plan->set_budget_seconds(static_cast<uint32_t>(
        std::min<int64_t>(absl::ToInt64Seconds(budget), std::numeric_limits<uint32_t>::max())));
    plan->set_max_rounds(static_cast<uint32_t>(max_rounds));
    return true;
  }

  // Fails (and returns false) on a --replication that is not a unit.
  static bool Options(v1::CompareOptions* options) {
    if (std::optional<double> v = absl::GetFlag(FLAGS_min_effect)) options->set_min_effect(*v);
    if (std::optional<double> v = absl::GetFlag(FLAGS_fdr_level)) options->set_fdr_level(*v);
    const std::string unit = absl::GetFlag(FLAGS_replication);
    if (unit == "run") {
      options->set_replication_unit(v1::REPLICATION_UNIT_RUN);
    } else if (unit == "boot") {
      options->set_replication_unit(v1::REPLICATION_UNIT_BOOT);
    } else if (unit != "auto") {
      Fail(absl::StrCat("--replication: \"", unit, "\" is not one of run|boot|auto"));
      return false;
    }
    return true;
  }

  // Writes `text` to --output, or stdout; false (after saying why) when the file cannot be written.
  static bool WriteOutput(const std::string& text) {
    const std::string output = absl::GetFlag(FLAGS_output);
    if (output.empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      return true;
    }
    std::ofstream out(output);
    out << text;
    out.close();
    if (!out.good()) {
      Fail(absl::StrCat(output, ": cannot write"));
      return false;
    }
    return true;
  }

  // The latency distributions' table (analysis/latency_quantiles.h); "" when there are none.
  static std::string DistributionsText(const v1::CompareResponse& r) {
    std::vector<faultline::controller::analysis::LatencyDistribution> distributions;
    for (const v1::DistributionComparison& d : r.distributions()) {
      distributions.push_back(faultline::controller::service::DistributionFromProto(d));
    }
    return faultline::controller::analysis::FormatDistributionTable(
        distributions, r.options().confidence(),
        r.replication_unit() == v1::REPLICATION_UNIT_BOOT ? "boot" : "run");
  }

  static std::string ComparisonHeader(const v1::CompareResponse& r, const std::string& baseline,
                                      const std::string& candidate) {
    std::string out = absl::StrFormat(
        "baseline (A): %s  [%u runs, %s]\ncandidate (B): %s  [%u runs, %s]\n", baseline,
        r.baseline_runs(), r.baseline_host_class(), candidate, r.candidate_runs(),
        r.candidate_host_class());
    for (const std::string& w : r.warnings()) absl::StrAppend(&out, "warning: ", w, "\n");
    return absl::StrCat(out, "\n");
  }

  std::unique_ptr<v1::CampaignService::Stub> stub_;
  std::unique_ptr<v1::AnalysisService::Stub> analysis_;
};

// `token new`: needs no controller; the token is shown once and only its hash is kept.
int NewToken(const std::vector<char*>& args) {
  if (args.size() != 3 || std::string(args[2]) != "new") {
    return Fail("usage: faultlinectl token new --role=agent|read|submit --name=NAME");
  }
  const std::string role = absl::GetFlag(FLAGS_role);
  const std::string name = absl::GetFlag(FLAGS_name);
  if (role != "agent" && role != "read" && role != "submit") {
    return Fail("--role: expected agent, read or submit");
  }
  // Parsing the line it prints checks the name the same way the controller will.
  absl::StatusOr<std::string> token = faultline::controller::security::NewToken();
  if (!token.ok()) return Fail(std::string(token.status().message()));
  const std::string line = absl::StrCat(
      "token ", faultline::controller::security::HashToken(*token), " ", role, " ", name);
  absl::StatusOr<faultline::controller::security::AccessPolicy> check =
      faultline::controller::security::AccessPolicy::Parse(line, "--name");
  if (!check.ok()) return Fail(std::string(check.status().message()));
  std::printf("token:  %s\npolicy: %s\n", token->c_str(), line.c_str());
  return 0;
}

// `--help` anywhere: the command's own help when a command is named, else the usage. Handled
// before absl's flag parsing, whose --help lists every linked library's flags and exits 1.
bool PrintedHelp(int argc, char** argv) {
  if (std::none_of(argv + 1, argv + argc,
                   [](const char* arg) { return faultline::controller::cli::IsHelpFlag(arg); })) {
    return false;
  }
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') continue;
    const std::string help = faultline::controller::cli::CommandHelp(kUsage, argv[i]);
    if (!help.empty()) {
      std::fputs(help.c_str(), stdout);
      return true;
    }
  }
  std::printf("%s\n", kUsage);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  if (PrintedHelp(argc, argv)) return 0;
  std::vector<char*> argv_list(argv, argv + argc);
  absl::StatusOr<std::vector<std::string>> candidates =
      faultline::controller::cli::TakeRepeatedFlag(&argv_list, "candidate");
  if (!candidates.ok()) {
    Fail(std::string(candidates.status().message()));
    return kAnalysisError;
  }
  Candidates() = *candidates;
  absl::StatusOr<std::vector<std::string>> on =
      faultline::controller::cli::TakeRepeatedFlag(&argv_list, "on");
  if (!on.ok()) return Fail(std::string(on.status().message()));
  OnSelectors() = *on;
  std::vector<char*> args =
      absl::ParseCommandLine(static_cast<int>(argv_list.size()), argv_list.data());
  if (args.size() < 2) return Fail(absl::StrCat("missing command\n\n", kUsage));
  const std::string command = args[1];
  auto need_arg = [&]() -> const char* {
    return args.size() == 3 ? args[2] : nullptr;
  };
  if (command == "token") return NewToken(args);
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(256 * 1024 * 1024);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      faultline::controller::security::ChannelCredentialsFromFlags(
          absl::GetFlag(FLAGS_controller));
  if (!credentials.ok()) {
    Fail(std::string(credentials.status().message()));
    return command == "compare" || command == "gate" ? kAnalysisError : 2;
  }
  Cli cli(grpc::CreateCustomChannel(absl::GetFlag(FLAGS_controller), *credentials,
                                    channel_args));
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
  if (command == "run") {
    return cli.Run(std::vector<std::string>(args.begin() + 2, args.end()));
  }
  if (command == "changepoints") {
    if (args.size() != 4) {
      return Fail("usage: faultlinectl changepoints BENCHMARK METRIC [--params=...] [--where=SEL]");
    }
    return cli.ChangePoints(args[2], args[3]);
  }
  if ((command == "compare" || command == "gate") && args.size() != 2) {
    Fail(absl::StrCat(command, ": unexpected arguments (selectors and files are flags)"));
    return kAnalysisError;
  }
  if (args.size() != 2) return Fail(absl::StrCat(command, ": unexpected arguments"));
  if (command == "list") return cli.List();
  if (command == "agents") return cli.Agents();
  if (command == "results") return cli.Results(absl::GetFlag(FLAGS_campaign));
  if (command == "compare") return cli.Compare();
  if (command == "gate") return cli.Gate();
  return Fail(absl::StrCat("unknown command \"", command, "\"\n\n", kUsage));
}
