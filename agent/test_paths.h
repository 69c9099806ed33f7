// Where tests find the faultline-agent binary they list in `data`.
#ifndef FAULTLINE_AGENT_TEST_PATHS_H_
#define FAULTLINE_AGENT_TEST_PATHS_H_

#include <cstdlib>
#include <string>

namespace faultline::agent {

inline std::string AgentBinaryPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return std::string(srcdir != nullptr ? srcdir : ".") + "/" +
         (workspace != nullptr ? workspace : "faultline") + "/agent/faultline-agent";
}

inline std::string TestTempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

}  // namespace faultline::agent

#endif  // FAULTLINE_AGENT_TEST_PATHS_H_
