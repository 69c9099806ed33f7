// Answers a request the server could not decode with INVALID_ARGUMENT and a message.
//
// gRPC's callback API answers a request whose bytes do not parse as the method's message (a
// malformed protobuf, or a proto3 string that is not valid UTF-8) with UNIMPLEMENTED and an
// empty message, before any handler runs (grpcpp/impl/codegen/server_callback_handlers.h:
// "if deserialization or reactor creator failed ... UnimplementedUnaryReactor"). Our handlers
// never finish that way, so on a faultline.v1 method that status means exactly that.
#ifndef FAULTLINE_CONTROLLER_SERVICE_UNDECODABLE_REQUEST_H_
#define FAULTLINE_CONTROLLER_SERVICE_UNDECODABLE_REQUEST_H_

#include <memory>
#include <string>

#include "grpcpp/support/server_interceptor.h"

namespace faultline::controller::service {

// The request message's full name for a faultline.v1 method path such as
// "/faultline.v1.AgentService/Register", or "" for any other path.
std::string FaultlineRequestType(const std::string& path);

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewUndecodableRequestFactory();

}  // namespace faultline::controller::service

#endif  // FAULTLINE_CONTROLLER_SERVICE_UNDECODABLE_REQUEST_H_
