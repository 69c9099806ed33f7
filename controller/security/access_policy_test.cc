#include "controller/security/access_policy.h"

#include "controller/security/token_hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::controller::security {
namespace {

using ::testing::HasSubstr;

CallerCredentials Token(std::string token) {
  CallerCredentials c;
  c.bearer_token = std::move(token);
  return c;
}

CallerCredentials Cert(std::string cn) {
  CallerCredentials c;
  c.certificate_common_name = std::move(cn);
  return c;
}

AccessPolicy MustParse(const std::string& text) {
  absl::StatusOr<AccessPolicy> policy = AccessPolicy::Parse(text, "policy.txt");
  EXPECT_TRUE(policy.ok()) << policy.status();
  return *std::move(policy);
}

TEST(TokenHashTest, HashIsSha256HexAndTokensAreFresh) {
  // sha256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(HashToken("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(IsTokenHash(HashToken("x")));
  EXPECT_FALSE(IsTokenHash("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
  EXPECT_FALSE(IsTokenHash("md5:00"));
  absl::StatusOr<std::string> a = NewToken();
  absl::StatusOr<std::string> b = NewToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->size(), 4u + 64u);
  EXPECT_TRUE(ConstantTimeEquals(*a, *a));
  EXPECT_FALSE(ConstantTimeEquals(*a, *b));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
}

TEST(AccessPolicyTest, TokensAreMatchedByHashAndCarryRoleAndName) {
  const std::string text = "# fleet policy\n"
                           "token " + HashToken("s3cret-read") + " read grafana\n"
                           "token " + HashToken("s3cret-submit") + "  submit ci  # pipeline\n"
                           "token " + HashToken("s3cret-agent") + " agent lab-arm64-07\n"
                           "cert agent-* agent\n"
                           "cert ci-runner submit\n";
  AccessPolicy policy = MustParse(text);
  // The policy text holds no token in clear.
  EXPECT_THAT(text, ::testing::Not(HasSubstr("s3cret")));

  absl::StatusOr<Principal> p = policy.Authenticate(Token("s3cret-read"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "grafana");
  EXPECT_EQ(p->role, Role::kRead);
  p = policy.Authenticate(Token("s3cret-agent"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->name, "lab-arm64-07");
  EXPECT_EQ(p->role, Role::kAgent);
  p = policy.Authenticate(Cert("agent-x86-01"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->name, "agent-x86-01");
  EXPECT_EQ(p->role, Role::kAgent);
  p = policy.Authenticate(Cert("ci-runner"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->role, Role::kSubmit);
}

TEST(AccessPolicyTest, UnknownCallersAreUnauthenticated) {
  AccessPolicy policy = MustParse("token " + HashToken("good") + " submit ci\ncert agent-* agent\n");
  EXPECT_EQ(policy.Authenticate({}).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(policy.Authenticate(Token("bad")).status().code(),
            absl::StatusCode::kUnauthenticated);
  // The hash itself is not a token.
  EXPECT_EQ(policy.Authenticate(Token(HashToken("good"))).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(policy.Authenticate(Cert("intruder")).status().code(),
            absl::StatusCode::kUnauthenticated);
  // A wrong token is refused even with a good certificate.
  CallerCredentials both = Cert("agent-1");
  both.bearer_token = "bad";
  EXPECT_EQ(policy.Authenticate(both).status().code(), absl::StatusCode::kUnauthenticated);
  // A matching glob does not admit a common name that is not a plain name.
  EXPECT_EQ(policy.Authenticate(Cert("agent-1 evil")).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(AccessPolicyTest, ParseErrorsNameFileLineAndWhatWasExpected) {
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"\n\ntoken abc read x\n", "policy.txt:3: expected a token hash"},
      {"cert agent-* admin\n", "policy.txt:1: expected a role (agent, read, submit), got \"admin\""},
      {"cert agent-*\n", "policy.txt:1: expected: cert <common-name glob> <role>"},
      {"token " + HashToken("t") + " read\n", "policy.txt:1: expected: token <sha256:hex>"},
      {"token " + HashToken("t") + " read bad/name\n", "policy.txt:1: expected a name"},
      {"user alice submit\n", "policy.txt:1: expected \"cert\" or \"token\", got \"user\""},
      {"token " + HashToken("t") + " read a\ntoken " + HashToken("t") + " submit b\n",
       "policy.txt:2: this token hash is already listed"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AccessPolicy> policy = AccessPolicy::Parse(c.text, "policy.txt");
    ASSERT_FALSE(policy.ok()) << c.text;
    EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(policy.status().message()), HasSubstr(c.message)) << c.text;
  }
  EXPECT_EQ(AccessPolicy::Load("/nonexistent/policy").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(AuthorizeTest, RolesGrantExactlyTheirRpcs) {
  const Principal agent{"agent-1", Role::kAgent};
  const Principal read{"grafana", Role::kRead};
  const Principal submit{"ci", Role::kSubmit};
  const Principal local{"local", Role::kLocal};

  EXPECT_TRUE(Authorize(agent, Permission::kAgent, "agent-1").ok());
  EXPECT_EQ(Authorize(agent, Permission::kQuery).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Authorize(agent, Permission::kSubmit).code(), absl::StatusCode::kPermissionDenied);

  EXPECT_TRUE(Authorize(read, Permission::kQuery).ok());
  absl::Status s = Authorize(read, Permission::kSubmit);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("needs role submit"));
  EXPECT_EQ(Authorize(read, Permission::kAgent, "grafana").code(),
            absl::StatusCode::kPermissionDenied);

  EXPECT_TRUE(Authorize(submit, Permission::kQuery).ok());
  EXPECT_TRUE(Authorize(submit, Permission::kSubmit).ok());
  EXPECT_EQ(Authorize(submit, Permission::kAgent, "ci").code(),
            absl::StatusCode::kPermissionDenied);

  EXPECT_TRUE(Authorize(local, Permission::kAgent, "any").ok());
  EXPECT_TRUE(Authorize(local, Permission::kSubmit).ok());
}

TEST(AuthorizeTest, AnAgentActsOnlyUnderItsOwnId) {
  const Principal agent{"agent-1", Role::kAgent};
  absl::Status s = Authorize(agent, Permission::kAgent, "agent-2");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("agent_id: \"agent-2\" is not the authenticated agent \"agent-1\""));
  EXPECT_EQ(Authorize(agent, Permission::kAgent, "").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Authorize(agent, Permission::kAgent, "agent-10").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(AccessPolicyTest, OpenPolicyAdmitsEveryoneAsLocal) {
  AccessPolicy open = AccessPolicy::Open();
  EXPECT_TRUE(open.open());
  absl::StatusOr<Principal> p = open.Authenticate({});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->role, Role::kLocal);
}

}  // namespace
}  // namespace faultline::controller::security
