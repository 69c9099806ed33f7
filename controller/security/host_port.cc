#include "controller/security/host_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace faultline::controller::security {
namespace {

absl::string_view WithoutScheme(absl::string_view address) {
  absl::ConsumePrefix(&address, "dns:///");
  absl::ConsumePrefix(&address, "ipv4:");
  absl::ConsumePrefix(&address, "ipv6:");
  return address;
}

// The text after the host, or "" when the address has no port.
absl::string_view PortOf(absl::string_view address) {
  address = WithoutScheme(address);
  if (absl::ConsumePrefix(&address, "[")) {
    const size_t close = address.find(']');
    if (close == absl::string_view::npos) return "";
    address.remove_prefix(close + 1);
    return absl::ConsumePrefix(&address, ":") ? address : "";
  }
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || address.find(':') != colon) return "";
  return address.substr(colon + 1);
}

}  // namespace

absl::string_view HostOf(absl::string_view address) {
  address = WithoutScheme(address);
  if (absl::ConsumePrefix(&address, "[")) {
    return address.substr(0, address.find(']'));
  }
  const size_t colon = address.rfind(':');
  // More than one colon without brackets: a bare IPv6 address.
  if (colon != absl::string_view::npos && address.find(':') == colon) {
    return address.substr(0, colon);
  }
  return address;
}

absl::Status ValidatePort(absl::string_view address, absl::string_view flag) {
  if (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:")) {
    return absl::OkStatus();
  }
  const absl::string_view port = PortOf(address);
  if (port.empty()) {
    if (absl::EndsWith(address, ":")) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": \"", address, "\" has an empty port"));
    }
    return absl::OkStatus();
  }
  uint32_t value = 0;
  const bool digits = std::all_of(port.begin(), port.end(), absl::ascii_isdigit);
  if (!digits || port.size() > 5 || !absl::SimpleAtoi(port, &value) || value > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": port \"", port, "\" in \"", address, "\" is not a number in 0..65535"));
  }
  return absl::OkStatus();
}

std::string ListenFailureReason(absl::string_view address) {
  const std::string host(HostOf(address));
  uint32_t port = 0;
  if (!absl::SimpleAtoi(PortOf(address), &port) || port > 65535) return "";
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof(*v4);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof(*v6);
  } else {
    return "";
  }
  const int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  // Without SO_REUSEPORT, as every faultline server now binds: a port another listener holds
  // fails here exactly as it fails for the server.
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const int bound = bind(fd, reinterpret_cast<sockaddr*>(&storage), length);
  const int error = errno;
  close(fd);
  if (bound == 0) return "";
  if (error == EADDRINUSE) {
    return absl::StrCat("port ", port, " is already in use (another process listens on it)");
  }
  if (error == EADDRNOTAVAIL) {
    return absl::StrCat(host, " is not an address of this machine");
  }
  return absl::StrCat("bind ", address, ": ", std::strerror(error));
}

}  // namespace faultline::controller::security
