#include "controller/cli/campaign_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace faultline::cli {
namespace {

class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit FirstErrorCollector(std::string filename) : filename_(std::move(filename)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    // The parser reports 0-based positions; editors count from 1.
    if (first_.empty()) first_ = absl::StrCat(filename_, ":", line + 1, ":", column + 1, ": ",
                                              message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string filename_;
  std::string first_;
};

}  // namespace

absl::StatusOr<v1::CampaignSpec> ParseCampaignText(const std::string& text,
                                                   const std::string& filename) {
  v1::CampaignSpec spec;
  FirstErrorCollector errors(filename);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &spec)) {
    return absl::InvalidArgumentError(
        errors.first().empty() ? absl::StrCat(filename, ": not a valid campaign") : errors.first());
  }
  return spec;
}

absl::StatusOr<v1::CampaignSpec> ReadCampaignFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open campaign file"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (buffer.str().size() > 4 * 1024 * 1024) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": larger than 4 MiB"));
  }
  return ParseCampaignText(buffer.str(), path);
}

}  // namespace faultline::cli
