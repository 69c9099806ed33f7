#include "controller/service/undecodable_request.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace faultline::controller::service {
namespace {

using grpc::experimental::InterceptionHookPoints;

class UndecodableRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit UndecodableRequestInterceptor(std::string request_type)
      : request_type_(std::move(request_type)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!request_type_.empty() &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED &&
          status.error_message().empty()) {
        methods->ModifySendStatus(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("request: cannot be decoded as ", request_type_,
                         " (malformed protobuf, or a string field that is not valid UTF-8)")));
      }
    }
    methods->Proceed();
  }

 private:
  const std::string request_type_;
};

class UndecodableRequestFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new UndecodableRequestInterceptor(FaultlineRequestType(info->method()));
  }
};

}  // namespace

std::string FaultlineRequestType(const std::string& path) {
  if (!absl::StartsWith(path, "/faultline.v1.")) return "";
  const size_t slash = path.find('/', 1);
  if (slash == std::string::npos) return "";
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          path.substr(1, slash - 1));
  if (service == nullptr) return "";
  const google::protobuf::MethodDescriptor* method =
      service->FindMethodByName(path.substr(slash + 1));
  return method == nullptr ? "" : method->input_type()->full_name();
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewUndecodableRequestFactory() {
  return std::make_unique<UndecodableRequestFactory>();
}

}  // namespace faultline::controller::service
