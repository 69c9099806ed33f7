#include "controller/cli/campaign_file.h"

#include <fstream>
#include <sstream>

#include <map>

#include "absl/strings/str_cat.h"
#include "controller/validation/request_validation.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace faultline::controller::cli {
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

std::string Position(const google::protobuf::TextFormat::ParseLocation& at) {
  return absl::StrCat(at.line + 1, ":", at.column + 1);
}

// The text parser lets a later entry of a map (a suite entry's params, the labels) overwrite an
// earlier one with the same key, so `region_mib` given twice would silently run with the last
// value. Right after parsing, a map field's entries are still all there, in file order, and
// `tree` has where each one was written.
absl::Status CheckDuplicateMapKeys(const google::protobuf::Message& message,
                                   const google::protobuf::TextFormat::ParseInfoTree& tree,
                                   const std::string& filename, const std::string& path) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string field_path = path.empty() ? f->name() : absl::StrCat(path, ".", f->name());
    const int count = f->is_repeated() ? reflection->FieldSize(message, f) : 1;
    std::map<std::string, int> first_index;
    for (int i = 0; i < count; ++i) {
      const google::protobuf::Message& child =
          f->is_repeated() ? reflection->GetRepeatedMessage(message, f, i)
                           : reflection->GetMessage(message, f);
      const google::protobuf::TextFormat::ParseInfoTree* nested =
          tree.GetTreeForNested(f, f->is_repeated() ? i : -1);
      if (f->is_map()) {
        const FieldDescriptor* key_field = f->message_type()->map_key();
        const std::string key = child.GetReflection()->GetString(child, key_field);
        auto [it, inserted] = first_index.emplace(key, i);
        if (!inserted) {
          return absl::InvalidArgumentError(absl::StrCat(
              filename, ":", Position(tree.GetLocation(f, i)), ": ", field_path, ": key \"", key,
              "\" given twice (first at ", filename, ":",
              Position(tree.GetLocation(f, it->second)), ")"));
        }
        continue;
      }
      if (nested == nullptr) continue;
      const std::string child_path = f->is_repeated() ? absl::StrCat(field_path, "[", i, "]")
                                                      : field_path;
      absl::Status status = CheckDuplicateMapKeys(child, *nested, filename, child_path);
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::CampaignSpec> ParseCampaignText(const std::string& text,
                                                   const std::string& filename) {
  v1::CampaignSpec spec;
  FirstErrorCollector errors(filename);
  google::protobuf::TextFormat::Parser parser;
  google::protobuf::TextFormat::ParseInfoTree tree;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(text, &spec)) {
    return absl::InvalidArgumentError(
        errors.first().empty() ? absl::StrCat(filename, ": not a valid campaign") : errors.first());
  }
  absl::Status duplicates = CheckDuplicateMapKeys(spec, tree, filename, "spec");
  if (!duplicates.ok()) return duplicates;
  // The text parser takes any bytes into a string; the controller could not even decode them.
  absl::Status utf8 = controller::validation::ValidateUtf8Strings(spec, "spec");
  if (!utf8.ok()) return absl::InvalidArgumentError(absl::StrCat(filename, ": ", utf8.message()));
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

}  // namespace faultline::controller::cli
