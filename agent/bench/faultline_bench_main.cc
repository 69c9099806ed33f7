// faultline-bench: run the benchmark library on a test box without a controller.
//
//   faultline-bench list [--json]
//   faultline-bench run NAME [--param k=v]... [--repetitions N] [--warmup N]
//                       [--max_memory_share F] [--max_scratch_share F] [--max_tasks_per_cpu N]
//                       [--time_limit_seconds N] [--trace_repetitions N]
//                       [--profile_repetitions N] [--aslr] [--json]
#include <sys/personality.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "agent/bench/runner.h"
#include "agent/bench/params.h"
#include "agent/bench/report_format.h"

namespace faultline::agent::bench {
namespace {

constexpr char kUsage[] =
    "usage: faultline-bench list [--json]\n"
    "       faultline-bench run NAME [--param k=v]... [--repetitions N] [--warmup N]\n"
    "                          [--trace_repetitions N] [--profile_repetitions N]"
    "\n"
    "                          [--max_memory_share F] [--max_scratch_share F]"
    " [--max_tasks_per_cpu N]\n"
    "                          [--time_limit_seconds N] [--aslr] [--json]\n"
    "A run re-executes itself with address-space randomisation off (as the agent's benchmark\n"
    "children run) unless --aslr is given.\n";

int Usage(const std::string& error) {
  if (!error.empty()) fprintf(stderr, "faultline-bench: %s\n", error.c_str());
  fputs(kUsage, stderr);
  return 2;
}

// Re-executes this program with address-space randomisation off, so the benchmark child's
// layout is the same from run to run.
int ReexecWithoutAslr(int argc, char** argv) {
  if (personality(0xffffffff) & ADDR_NO_RANDOMIZE) return -1;
  if (personality(ADDR_NO_RANDOMIZE) == -1) {
    perror("personality(ADDR_NO_RANDOMIZE)");
    return 1;
  }
  std::vector<char*> args(argv, argv + argc);
  args.push_back(nullptr);
  execv("/proc/self/exe", args.data());
  perror("execv /proc/self/exe");
  return 1;
}

int Main(int argc, char** argv) {
  if (argc < 2) return Usage("");
  const std::string command = argv[1];
  bool json = false;
  bool no_aslr = true;
  std::string name;
  std::vector<std::pair<std::string, std::string>> raw_params;
  RunOptions options;
  for (int i = 2; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    auto value = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)flag;
      return argv[++i];
    };
    if (arg == "--json") {
      json = true;
    } else if (arg == "--no_aslr") {
      no_aslr = true;  // The default; kept for scripts written when it was not.
    } else if (arg == "--aslr") {
      no_aslr = false;
    } else if (arg == "--param") {
      const char* kv = value("--param");
      const char* eq = kv ? strchr(kv, '=') : nullptr;
      if (eq == nullptr) return Usage("--param needs k=v");
      raw_params.emplace_back(std::string(kv, eq), std::string(eq + 1));
    } else if (arg == "--repetitions" || arg == "--warmup" || arg == "--time_limit_seconds" ||
               arg == "--max_tasks_per_cpu" || arg == "--trace_repetitions" ||
               arg == "--profile_repetitions") {
      const char* v = value(argv[i]);
      int64_t n;
      if (v == nullptr || !absl::SimpleAtoi(v, &n)) {
        return Usage(absl::StrCat(arg, " needs an integer"));
      }
      if (arg == "--repetitions") options.repetitions = static_cast<int>(n);
      if (arg == "--warmup") options.warmup = static_cast<int>(n);
      if (arg == "--time_limit_seconds") options.time_limit_seconds = n;
      if (arg == "--max_tasks_per_cpu") options.max_tasks_per_cpu = n;
      if (arg == "--trace_repetitions") options.trace_repetitions = static_cast<int>(n);
      if (arg == "--profile_repetitions") options.profile_repetitions = static_cast<int>(n);
    } else if (arg == "--max_memory_share" || arg == "--max_scratch_share") {
      const char* v = value(argv[i]);
      double* share =
          arg == "--max_memory_share" ? &options.max_memory_share : &options.max_scratch_share;
      if (v == nullptr || !absl::SimpleAtod(v, share)) {
        return Usage(absl::StrCat(arg, " needs a number"));
      }
    } else if (name.empty() && !arg.empty() && arg[0] != '-') {
      name = std::string(arg);
    } else {
      return Usage(absl::StrCat("unknown argument '", arg, "'"));
    }
  }

  if (command == "list") {
    fputs((json ? CatalogJson(Catalog()) : CatalogText(Catalog())).c_str(), stdout);
    return 0;
  }
  if (command != "run") return Usage(absl::StrCat("unknown command '", command, "'"));
  if (name.empty()) return Usage("run needs a benchmark name");
  if (no_aslr) {
    const int rc = ReexecWithoutAslr(argc, argv);
    if (rc >= 0) return rc;
  }
  const BenchmarkInfo* info = FindBenchmark(name);
  if (info == nullptr) {
    fprintf(stderr, "faultline-bench: no benchmark '%s' (see faultline-bench list)\n",
            name.c_str());
    return 2;
  }
  Params given;
  for (const auto& [k, v] : raw_params) {
    const ParamSpec* spec = nullptr;
    for (const ParamSpec& p : info->params) {
      if (p.name == k) spec = &p;
    }
    if (spec == nullptr) {
      // Let ResolveParams phrase the error with the known names.
      given[k] = v;
      continue;
    }
    absl::StatusOr<ParamValue> parsed = ParseParamValue(*spec, v);
    if (!parsed.ok()) {
      fprintf(stderr, "faultline-bench: %s\n", std::string(parsed.status().message()).c_str());
      return 2;
    }
    given[k] = *parsed;
  }
  absl::StatusOr<Params> params = ResolveParams(name, given);
  if (!params.ok()) {
    fprintf(stderr, "faultline-bench: %s\n", std::string(params.status().message()).c_str());
    return 2;
  }
  const RunOutput out = RunBenchmark(*info, *params, options);
  fputs((json ? RunOutputJson(name, *params, out) : RunOutputText(name, *params, out)).c_str(),
        stdout);
  switch (out.status) {
    case RunStatus::kOk:
      return 0;
    case RunStatus::kSkipped:
      return 3;
    case RunStatus::kRefused:
      return 4;
    case RunStatus::kFailed:
      return out.time_limit_reached ? 5 : 1;
  }
  return 1;
}

}  // namespace
}  // namespace faultline::agent::bench

int main(int argc, char** argv) { return faultline::agent::bench::Main(argc, argv); }
