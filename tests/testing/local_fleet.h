// A controller and agents as real processes on loopback, for end-to-end tests: the binaries
// under test, started the way an operator would start them.
#ifndef FAULTLINE_TESTS_TESTING_LOCAL_FLEET_H_
#define FAULTLINE_TESTS_TESTING_LOCAL_FLEET_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/faultline/v1/campaign_service.grpc.pb.h"
#include "tests/testing/subprocess.h"

namespace faultline::testing {

struct AgentOptions {
  std::string agent_id;
  std::string kernel_label = "stock";
  std::vector<std::string> extra_flags;
  // host:port the agent dials; empty means the controller itself (set it to a TcpProxy).
  std::string controller_address;
};

class LocalFleet {
 public:
  // `dir` holds the database, port file, spools and logs.
  explicit LocalFleet(std::string dir);
  ~LocalFleet();

  // Starts faultline-controller on 127.0.0.1:0 over a SQLite file and waits for its port.
  absl::Status StartController(const std::vector<std::string>& extra_flags = {});
  // Stops the controller (SIGTERM, or SIGKILL when `hard`).
  void StopController(bool hard = false);
  // Starts faultline-agent against the controller and waits until it is registered.
  absl::Status StartAgent(const AgentOptions& options);
  Subprocess* agent(const std::string& agent_id) { return agents_[agent_id].get(); }
  // Waits until ListAgents shows `count` live agents.
  absl::Status WaitForAgents(int count, absl::Duration timeout = absl::Seconds(30));

  // Runs faultlinectl against the controller.
  CommandResult Ctl(const std::vector<std::string>& args,
                    absl::Duration timeout = absl::Seconds(300));

  // Polls GetCampaign until `done(campaign)` holds or `timeout` passes.
  absl::StatusOr<v1::Campaign> WaitForCampaign(const std::string& campaign_id,
                                               const std::function<bool(const v1::Campaign&)>& done,
                                               absl::Duration timeout);
  // Submits a campaign given as text format through the API; returns its id.
  absl::StatusOr<std::string> Submit(const std::string& spec_text);
  // Stored runs of a campaign.
  std::vector<v1::StoredRun> Runs(const std::string& campaign_id);

  v1::CampaignService::Stub* stub() { return stub_.get(); }
  int port() const { return port_; }
  std::string address() const;
  const std::string& dir() const { return dir_; }
  std::string db_path() const { return dir_ + "/faultline.db"; }
  // The tail of every log, for failure messages.
  std::string Logs() const;

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> controller_;
  std::map<std::string, std::unique_ptr<Subprocess>> agents_;
  std::unique_ptr<v1::CampaignService::Stub> stub_;
};

}  // namespace faultline::testing

#endif  // FAULTLINE_TESTS_TESTING_LOCAL_FLEET_H_
