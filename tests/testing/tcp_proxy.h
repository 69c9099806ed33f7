// A loopback TCP proxy whose link can be cut and restored, to test what agents do when the
// network between them and the controller fails (while both processes keep running).
#ifndef FAULTLINE_TESTS_TESTING_TCP_PROXY_H_
#define FAULTLINE_TESTS_TESTING_TCP_PROXY_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace faultline::testing {

class TcpProxy {
 public:
  // Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:target_port.
  static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(int target_port);
  ~TcpProxy();

  int port() const { return port_; }
  // Resets every open connection and refuses new ones (accepted, then reset at once).
  void Cut();
  // Forwards new connections again.
  void Restore();
  int connections_accepted() const { return accepted_.load(); }

 private:
  TcpProxy(int listen_fd, int port, int target_port);
  void AcceptLoop();
  void Pump(int client_fd, int server_fd);

  const int listen_fd_;
  const int port_;
  const int target_port_;
  std::atomic<bool> cut_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<int> open_fds_;  // Guarded by mu_.
  std::vector<std::thread> pumps_;
  std::thread acceptor_;
};

}  // namespace faultline::testing

#endif  // FAULTLINE_TESTS_TESTING_TCP_PROXY_H_
