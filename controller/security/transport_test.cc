#include "controller/security/transport.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::security {
namespace {

using ::testing::HasSubstr;

TEST(IsLoopbackAddressTest, OnlyLoopbackAndUnixSockets) {
  for (const char* yes : {"127.0.0.1:7070", "127.1.2.3:0", "localhost:7070", "LOCALHOST:1",
                          "[::1]:7070", "::1", "ipv4:127.0.0.1:7070", "dns:///localhost:7070",
                          "unix:/tmp/faultline.sock", "127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackAddress(yes)) << yes;
  }
  for (const char* no : {"0.0.0.0:7070", "[::]:7070", "10.0.0.1:7070", "128.0.0.1:1",
                         "controller.lab:7070", "[::ffff:127.0.0.1]:1", "localhost.evil:1",
                         "", ":7070"}) {
    EXPECT_FALSE(IsLoopbackAddress(no)) << no;
  }
}

TEST(TransportTest, PlaintextOnlyOnLoopback) {
  ServerTransport plaintext;
  plaintext.plaintext = true;
  EXPECT_TRUE(MakeServerCredentials(plaintext, "127.0.0.1:0").ok());
  absl::Status s = MakeServerCredentials(plaintext, "0.0.0.0:7070").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--plaintext"));

  ClientTransport client;
  client.plaintext = true;
  EXPECT_TRUE(MakeChannelCredentials(client, "127.0.0.1:7070").ok());
  EXPECT_EQ(MakeChannelCredentials(client, "controller.lab:7070").status().code(),
            absl::StatusCode::kFailedPrecondition);
  client.token = "flt_x";
  s = MakeChannelCredentials(client, "127.0.0.1:7070").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("needs TLS"));
}

TEST(TransportTest, TlsNeedsReadablePemFiles) {
  ServerTransport tls;
  EXPECT_EQ(MakeServerCredentials(tls, "0.0.0.0:7070").status().code(),
            absl::StatusCode::kFailedPrecondition);
  tls.cert_file = "/nonexistent/cert.pem";
  tls.key_file = "/nonexistent/key.pem";
  absl::Status s = MakeServerCredentials(tls, "0.0.0.0:7070").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--tls_cert"));

  ClientTransport client;
  client.cert_file = "/nonexistent/cert.pem";
  EXPECT_EQ(MakeChannelCredentials(client, "controller.lab:7070").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(MakeChannelCredentials(ClientTransport{}, "controller.lab:7070").ok());
}

}  // namespace
}  // namespace faultline::controller::security
