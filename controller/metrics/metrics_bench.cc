// What metrics cost the controller: recording an RPC or store call on the hot path, and
// rendering a scrape for fleets of different sizes (the fleet gauges are computed per scrape).
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "controller/metrics/controller_metrics.h"
#include "controller/metrics/rpc_interceptor.h"

namespace faultline::controller::metrics {
namespace {

void BM_RecordRpc(benchmark::State& state) {
  ControllerMetrics metrics;
  for (auto _ : state) {
    metrics.RecordRpc("faultline.v1.AgentService/Heartbeat", "OK", absl::Microseconds(80));
  }
}
BENCHMARK(BM_RecordRpc)->ThreadRange(1, 2);

void BM_RecordStoreOperation(benchmark::State& state) {
  ControllerMetrics metrics;
  for (auto _ : state) {
    metrics.RecordStoreOperation("touch_agent", absl::Microseconds(40), true);
  }
}
BENCHMARK(BM_RecordStoreOperation);

void BM_RpcMethodLabel(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(RpcMethodLabel("/grpc.health.v1.Health/Check"));
  }
}
BENCHMARK(BM_RpcMethodLabel);

// A scrape with `range(0)` agents over 2 arches x 4 kernel labels x 8 host classes and a
// queue of 10 jobs per agent.
void BM_RenderScrape(benchmark::State& state) {
  const int agents = static_cast<int>(state.range(0));
  std::vector<store::AgentRecord> records(agents);
  for (int i = 0; i < agents; ++i) {
    records[i].host.set_arch(i % 2 ? v1::ARCH_ARM64 : v1::ARCH_X86_64);
    records[i].host.set_kernel_label(i % 4 ? absl::StrCat("patched/series-", i % 4) : "stock");
    records[i].host.set_host_class(absl::StrCat("class-", i % 8));
    records[i].state = i % 10 ? v1::AGENT_STATE_RUNNING : v1::AGENT_STATE_IDLE;
  }
  // Ten queued jobs per agent, spread over three priorities: the store hands back counts.
  std::map<int, int64_t> queue;
  for (int i = 0; i < agents * 10; ++i) ++queue[1 + i % 3];
  ControllerMetrics metrics;
  StateSources sources;
  sources.agents = [&] { return absl::StatusOr<std::vector<store::AgentRecord>>(records); };
  sources.queued_jobs = [&] { return absl::StatusOr<std::map<int, int64_t>>(queue); };
  metrics.SetStateSources(sources);
  for (const char* m : {"Register", "Heartbeat", "PollWork", "RenewLease", "ReportResult"}) {
    metrics.RecordRpc(absl::StrCat("faultline.v1.AgentService/", m), "OK", absl::Milliseconds(1));
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = metrics.Render();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["scrape_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderScrape)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace faultline::controller::metrics

BENCHMARK_MAIN();
