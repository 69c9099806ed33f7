// A fixed fleet for the validator fuzzers: three agents of two architectures and two kernel
// labels, each offering a catalog with every parameter type.
#ifndef FAULTLINE_TESTS_FUZZ_FAKE_FLEET_H_
#define FAULTLINE_TESTS_FUZZ_FAKE_FLEET_H_

#include <string>
#include <vector>

#include "controller/store/store.h"

namespace faultline::fuzz {

inline v1::BenchmarkSpec FakeBenchmark(const std::string& name) {
  v1::BenchmarkSpec b;
  b.set_name(name);
  v1::ParamSpec* region = b.add_params();
  region->set_name("region_mib");
  region->set_type(v1::PARAM_TYPE_INT);
  region->mutable_default_value()->set_int_value(64);
  region->mutable_min()->set_int_value(1);
  region->mutable_max()->set_int_value(4096);
  v1::ParamSpec* ratio = b.add_params();
  ratio->set_name("ratio");
  ratio->set_type(v1::PARAM_TYPE_DOUBLE);
  ratio->mutable_default_value()->set_double_value(0.5);
  ratio->mutable_min()->set_double_value(0);
  ratio->mutable_max()->set_double_value(1);
  v1::ParamSpec* populate = b.add_params();
  populate->set_name("populate");
  populate->set_type(v1::PARAM_TYPE_BOOL);
  populate->mutable_default_value()->set_bool_value(false);
  v1::ParamSpec* mode = b.add_params();
  mode->set_name("mode");
  mode->set_type(v1::PARAM_TYPE_ENUM);
  mode->mutable_default_value()->set_enum_value("private");
  mode->add_allowed_values("private");
  mode->add_allowed_values("shared");
  v1::MetricSpec* metric = b.add_metrics();
  metric->set_name("ns_per_fault");
  metric->set_unit("ns");
  metric->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
  return b;
}

inline controller::store::AgentRecord FakeAgent(const std::string& id, v1::Arch arch,
                                                const std::string& kernel_label,
                                                const std::string& host_class) {
  controller::store::AgentRecord agent;
  agent.agent_id = id;
  agent.host.set_hostname(id);
  agent.host.set_arch(arch);
  agent.host.set_kernel_release("6.1.0-27-amd64");
  agent.host.set_kernel_label(kernel_label);
  agent.host.set_host_class(host_class);
  agent.host.set_cpu_count(2);
  agent.catalog = {FakeBenchmark("fault_anon"), FakeBenchmark("fork_cow")};
  agent.tags = {"lab"};
  agent.provisionable_kernels = {"patched/mm"};
  agent.state = v1::AGENT_STATE_IDLE;
  return agent;
}

inline std::vector<controller::store::AgentRecord> FakeFleet() {
  return {FakeAgent("x86-a", v1::ARCH_X86_64, "stock", "x86-small"),
          FakeAgent("x86-b", v1::ARCH_X86_64, "patched/mm", "x86-small"),
          FakeAgent("arm-a", v1::ARCH_ARM64, "stock", "arm-small")};
}

}  // namespace faultline::fuzz

#endif  // FAULTLINE_TESTS_FUZZ_FAKE_FLEET_H_
