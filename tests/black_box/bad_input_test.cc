// Bad input from a new user or a hostile client, through faultlinectl and raw gRPC bytes
// against a real controller and agent: each is refused naming the field, or, where the value
// is unambiguous, accepted; and the messages say each thing once.
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/faultline/v1/campaign_service.grpc.pb.h"
#include "tests/testing/local_fleet.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::LocalFleet;

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

class BadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fleet_ = new LocalFleet(testing::MakeTempDir("bad-input"));
    ASSERT_TRUE(fleet_->StartController().ok()) << fleet_->Logs();
    ASSERT_TRUE(fleet_->StartAgent({"box", "stock", {}, ""}).ok()) << fleet_->Logs();
  }
  static void TearDownTestSuite() {
    delete fleet_;
    fleet_ = nullptr;
  }

  // Submits `text` as a campaign file through faultlinectl.
  static testing::CommandResult SubmitFile(const std::string& name, const std::string& text,
                                           bool wait = false) {
    const std::string path = fleet_->dir() + "/" + name;
    Write(path, text);
    std::vector<std::string> args = {"submit", path};
    if (wait) args.push_back("--wait");
    return fleet_->Ctl(args);
  }

  static size_t CampaignCount() {
    grpc::ClientContext ctx;
    v1::ListCampaignsResponse response;
    EXPECT_TRUE(fleet_->stub()->ListCampaigns(&ctx, {}, &response).ok());
    return static_cast<size_t>(response.campaigns_size());
  }

  static LocalFleet* fleet_;
};

LocalFleet* BadInputTest::fleet_ = nullptr;

// Item 4: a label holding \xff\xfe is refused by faultlinectl naming the field, and the same
// bytes sent raw get INVALID_ARGUMENT with a message instead of a bare UNIMPLEMENTED.
TEST_F(BadInputTest, InvalidUtf8IsRefusedNamingTheFieldAndRawBytesGetInvalidArgument) {
  const size_t before = CampaignCount();
  testing::CommandResult ctl = SubmitFile("utf8.textproto", R"(name: "utf8"
targets { kernel_label: "patched/)" "\xff\xfe" R"(" }
suite { benchmark: "mmap_munmap" }
)");
  EXPECT_EQ(ctl.exit_code, 2) << ctl.errors;
  EXPECT_THAT(ctl.errors, HasSubstr("spec.targets[0].kernel_label: not valid UTF-8"));
  EXPECT_THAT(ctl.errors, Not(HasSubstr("UNIMPLEMENTED")));

  auto channel = grpc::CreateChannel(fleet_->address(), grpc::InsecureChannelCredentials());
  grpc::GenericStub generic(channel);
  auto call = [&](const std::string& method, const std::string& bytes) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    grpc::Status status;
    absl::Notification done;
    generic.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                      [&](grpc::Status s) {
                        status = std::move(s);
                        done.Notify();
                      });
    done.WaitForNotification();
    return status;
  };
  // SubmitCampaignRequest{spec: CampaignSpec{name: "\xff\xfe"}} by hand: field 1 (LEN) holding
  // field 1 (LEN) of two bytes.
  const std::string bad_utf8("\x0a\x04\x0a\x02\xff\xfe", 6);
  grpc::Status s = call("/faultline.v1.CampaignService/SubmitCampaign", bad_utf8);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("cannot be decoded as faultline.v1.SubmitCampaignRequest"));
  // Not a protobuf at all: a length running past the end.
  s = call("/faultline.v1.AgentService/Register", std::string("\x0a\x7f\x01", 3));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("faultline.v1.RegisterRequest"));
  // A method that does not exist is still UNIMPLEMENTED.
  s = call("/faultline.v1.CampaignService/NoSuchMethod", "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(CampaignCount(), before);
}

// Item 6: region_mib twice in one suite entry is refused naming both positions.
TEST_F(BadInputTest, DuplicatedParameterKeyIsRefusedNamingBothPositions) {
  const size_t before = CampaignCount();
  testing::CommandResult ctl = SubmitFile("dup.textproto", R"(name: "dup"
targets { kernel_label: "stock" }
suite {
  benchmark: "fault_anon"
  params { key: "region_mib" value { int_value: 64 } }
  params { key: "region_mib" value { int_value: 1 } }
}
)");
  EXPECT_EQ(ctl.exit_code, 2) << ctl.errors;
  EXPECT_THAT(ctl.errors, HasSubstr("dup.textproto:6:3: spec.suite[0].params: key \"region_mib\" "
                                    "given twice (first at "));
  EXPECT_THAT(ctl.errors, HasSubstr("dup.textproto:5:3)"));
  EXPECT_EQ(CampaignCount(), before);
}

// Item 8: an integer parameter written as a whole double is taken as that integer; a fraction
// is refused showing the number as written.
TEST_F(BadInputTest, IntegerParameterGivenAsWholeDoubleIsAccepted) {
  testing::CommandResult ok = SubmitFile("double.textproto", R"(name: "double"
repetitions: 1
targets { kernel_label: "stock" }
suite { benchmark: "fault_anon" warmup: 0
  params { key: "region_mib" value { double_value: 1.0 } }
  params { key: "passes" value { int_value: 1 } } }
)", /*wait=*/true);
  ASSERT_EQ(ok.exit_code, 0) << ok.errors << fleet_->Logs();
  testing::CommandResult csv = fleet_->Ctl({"results", "--format=csv", "--benchmark=fault_anon"});
  EXPECT_THAT(csv.output, HasSubstr("region_mib=1")) << csv.output;

  testing::CommandResult fraction = SubmitFile("fraction.textproto", R"(name: "fraction"
targets { kernel_label: "stock" }
suite { benchmark: "fault_anon" params { key: "region_mib" value { double_value: 1.5 } } }
)");
  EXPECT_EQ(fraction.exit_code, 2);
  EXPECT_THAT(fraction.errors, HasSubstr("region_mib: must be an integer, got 1.5"));
}

// Item 8: a refused run says "refused" once, in the results and in the job's diagnostic.
TEST_F(BadInputTest, RefusedRunSaysRefusedOnce) {
  // 64 GiB per worker: beyond this host's memory share, so the agent's guard refuses it.
  testing::CommandResult ran = SubmitFile("huge.textproto", R"(name: "huge"
repetitions: 1
targets { kernel_label: "stock" }
suite { benchmark: "fault_anon" warmup: 0
  params { key: "region_mib" value { int_value: 65536 } } }
)", /*wait=*/true);
  EXPECT_EQ(ran.exit_code, 1) << ran.errors;
  const std::string all = ran.output + ran.errors;
  EXPECT_THAT(all, HasSubstr("refused: "));
  EXPECT_THAT(all, Not(HasSubstr("refused: refused")));
  testing::CommandResult table = fleet_->Ctl({"results", "--benchmark=fault_anon"});
  EXPECT_THAT(table.output, HasSubstr("refused: "));
  EXPECT_THAT(table.output, Not(HasSubstr("refused: refused")));
}

// Item 8: --help exits 0, and a command's --help is that command's help.
TEST_F(BadInputTest, HelpExitsZeroAndCommandsHaveTheirOwn) {
  testing::CommandResult help = testing::RunCommand(
      {testing::RunfilePath("controller/cli/faultlinectl"), "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.errors;
  EXPECT_THAT(help.output, HasSubstr("Commands:"));
  testing::CommandResult gate = testing::RunCommand(
      {testing::RunfilePath("controller/cli/faultlinectl"), "gate", "--help"});
  EXPECT_EQ(gate.exit_code, 0) << gate.errors;
  EXPECT_THAT(gate.output, HasSubstr("gate --baseline=SEL --candidate=SEL --policy=FILE"));
  EXPECT_THAT(gate.output, HasSubstr("--policy_name"));
  EXPECT_THAT(gate.output, Not(HasSubstr("submit FILE")));
  EXPECT_THAT(gate.output, Not(HasSubstr("--format")));
}

}  // namespace
}  // namespace faultline
