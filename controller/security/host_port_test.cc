#include "controller/security/host_port.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::security {
namespace {

using ::testing::HasSubstr;

TEST(HostPortTest, HostOfEveryForm) {
  EXPECT_EQ(HostOf("127.0.0.1:7070"), "127.0.0.1");
  EXPECT_EQ(HostOf("[::1]:7070"), "::1");
  EXPECT_EQ(HostOf("dns:///localhost:7070"), "localhost");
  EXPECT_EQ(HostOf("ipv4:10.0.0.1:1"), "10.0.0.1");
  EXPECT_EQ(HostOf("::1"), "::1");
}

TEST(HostPortTest, PortsMustBe0To65535) {
  for (const char* ok : {"127.0.0.1:0", "127.0.0.1:65535", "[::1]:7070", "dns:///host:1",
                         "unix:/run/faultline.sock", "controller.lab"}) {
    EXPECT_TRUE(ValidatePort(ok, "--listen").ok()) << ok;
  }
  for (const char* bad : {"127.0.0.1:65536", "127.0.0.1:99999", "[::1]:123456", "host:-1",
                          "host:80x", "host:", "host:0000070000"}) {
    absl::Status s = ValidatePort(bad, "--listen");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("--listen: ")) << bad;
  }
}

TEST(HostPortTest, ListenFailureReasonSaysThePortIsTaken) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t length = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  const int port = ntohs(addr.sin_port);
  EXPECT_THAT(ListenFailureReason(absl::StrCat("127.0.0.1:", port)),
              HasSubstr(absl::StrCat("port ", port, " is already in use")));
  close(fd);
  EXPECT_EQ(ListenFailureReason(absl::StrCat("127.0.0.1:", port)), "");
  EXPECT_EQ(ListenFailureReason("controller.lab:7070"), "");
}

}  // namespace
}  // namespace faultline::controller::security
