// Turns fuzzer bytes into a request message: protobuf text format first (what the seed corpus
// holds, so mutations stay near meaningful requests), else the binary wire format (what a gRPC
// peer actually sends).
#ifndef FAULTLINE_TESTS_FUZZ_FUZZ_INPUT_H_
#define FAULTLINE_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"

namespace faultline::fuzz {

// Parse errors are the expected outcome for most inputs; keep them off stderr.
class SilentErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
};

inline bool ParseRequest(const uint8_t* data, size_t size, google::protobuf::Message* message) {
  // The binary parser logs every invalid UTF-8 string it refuses.
  static const bool silenced = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)silenced;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  SilentErrors errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (parser.ParseFromString(bytes, message)) return true;
  message->Clear();
  return message->ParseFromString(bytes);
}

}  // namespace faultline::fuzz

#endif  // FAULTLINE_TESTS_FUZZ_FUZZ_INPUT_H_
