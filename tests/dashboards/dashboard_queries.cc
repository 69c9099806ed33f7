#include "tests/dashboards/dashboard_queries.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"

namespace faultline::testing {
namespace {

using google::protobuf::Value;

const Value* Field(const Value& v, const std::string& name) {
  if (v.kind_case() != Value::kStructValue) return nullptr;
  auto it = v.struct_value().fields().find(name);
  return it == v.struct_value().fields().end() ? nullptr : &it->second;
}

std::string StringField(const Value& v, const std::string& name) {
  const Value* f = Field(v, name);
  return f != nullptr && f->kind_case() == Value::kStringValue ? f->string_value() : "";
}

const google::protobuf::ListValue* ListField(const Value& v, const std::string& name) {
  const Value* f = Field(v, name);
  return f != nullptr && f->kind_case() == Value::kListValue ? &f->list_value() : nullptr;
}

// Panels, with the panels of collapsed rows flattened in.
std::vector<const Value*> AllPanels(const Value& dashboard) {
  std::vector<const Value*> out;
  std::vector<const google::protobuf::ListValue*> todo;
  if (const auto* panels = ListField(dashboard, "panels")) todo.push_back(panels);
  while (!todo.empty()) {
    const google::protobuf::ListValue* list = todo.back();
    todo.pop_back();
    for (const Value& panel : list->values()) {
      out.push_back(&panel);
      if (const auto* nested = ListField(panel, "panels")) todo.push_back(nested);
    }
  }
  return out;
}

void CollectUids(const Value& v, std::set<std::string>* uids) {
  switch (v.kind_case()) {
    case Value::kStructValue:
      for (const auto& [key, child] : v.struct_value().fields()) {
        if (key == "datasource" && child.kind_case() == Value::kStructValue) {
          const std::string uid = StringField(child, "uid");
          if (!uid.empty()) uids->insert(uid);
        }
        CollectUids(child, uids);
      }
      break;
    case Value::kListValue:
      for (const Value& child : v.list_value().values()) CollectUids(child, uids);
      break;
    default:
      break;
  }
}

std::string SqlQuote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "''"}}), "'");
}

// As Grafana escapes values for =~ inside a PromQL string literal: the regex backslash is
// itself escaped for the string.
std::string RegexEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string("\\.+*?()|[]{}^$").find(c) != std::string::npos) out.append("\\\\");
    out.push_back(c);
  }
  return out;
}

absl::StatusOr<absl::Duration> ParseGrafanaDuration(std::string text) {
  text = std::string(absl::StripAsciiWhitespace(text));
  if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
    text = text.substr(1, text.size() - 2);
  }
  absl::Duration d;
  if (absl::ParseDuration(text, &d)) return d;
  if (!text.empty() && text.back() == 'd') {
    int64_t days = 0;
    if (absl::SimpleAtoi(text.substr(0, text.size() - 1), &days)) return absl::Hours(24 * days);
  }
  return absl::InvalidArgumentError(absl::StrCat("bad interval \"", text, "\""));
}

std::string DurationText(absl::Duration d) {
  return absl::StrCat(absl::ToInt64Seconds(d), "s");
}

// Replaces $name and ${name}; names are matched whole (not as a prefix of a longer name).
std::string ReplaceVariable(const std::string& text, const std::string& name,
                            const std::string& value) {
  std::string out = absl::StrReplaceAll(text, {{absl::StrCat("${", name, "}"), value}});
  const std::string token = "$" + name;
  std::string result;
  size_t pos = 0;
  while (true) {
    size_t hit = out.find(token, pos);
    if (hit == std::string::npos) break;
    const size_t end = hit + token.size();
    const bool whole = end >= out.size() ||
                       !(std::isalnum(static_cast<unsigned char>(out[end])) || out[end] == '_');
    result.append(out, pos, hit - pos);
    result.append(whole ? value : token);
    pos = end;
  }
  result.append(out, pos, std::string::npos);
  return result;
}

// Variables longest name first, so that $host_class is not read as $host.
std::vector<std::string> NamesLongestFirst(const VariableValues& vars) {
  std::vector<std::string> names;
  for (const auto& [name, values] : vars) names.push_back(name);
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return names;
}

absl::Status NoDollarLeft(const std::string& text) {
  const size_t dollar = text.find('$');
  if (dollar == std::string::npos) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unexpanded \"", text.substr(dollar, 30), "\" in: ", text));
}

}  // namespace

absl::StatusOr<std::vector<Dashboard>> LoadDashboards(const std::string& dir) {
  std::vector<Dashboard> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    Dashboard d;
    d.file = entry.path().filename().string();
    auto status = google::protobuf::util::JsonStringToMessage(text.str(), &d.model);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(d.file, ": not valid JSON: ", status.ToString()));
    }
    out.push_back(std::move(d));
  }
  if (ec) return absl::NotFoundError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  std::sort(out.begin(), out.end(),
            [](const Dashboard& a, const Dashboard& b) { return a.file < b.file; });
  return out;
}

std::vector<DashboardQuery> ExtractQueries(const Dashboard& dashboard) {
  std::vector<DashboardQuery> out;
  for (const Value* panel : AllPanels(dashboard.model)) {
    const Value* panel_ds = Field(*panel, "datasource");
    const auto* targets = ListField(*panel, "targets");
    if (targets == nullptr) continue;
    for (const Value& target : targets->values()) {
      const Value* ds = Field(target, "datasource");
      if (ds == nullptr || ds->kind_case() != Value::kStructValue) ds = panel_ds;
      DashboardQuery q;
      q.dashboard = dashboard.file;
      q.where = absl::StrCat("panel \"", StringField(*panel, "title"), "\" target ",
                             StringField(target, "refId"));
      q.kind = QueryKind::kPanel;
      if (ds != nullptr) {
        q.datasource_type = StringField(*ds, "type");
        q.datasource_uid = StringField(*ds, "uid");
      }
      q.format = StringField(target, "format");
      q.text = q.datasource_type == "prometheus" ? StringField(target, "expr")
                                                 : StringField(target, "rawSql");
      out.push_back(std::move(q));
    }
  }
  if (const Value* templating = Field(dashboard.model, "templating")) {
    if (const auto* list = ListField(*templating, "list")) {
      for (const Value& var : list->values()) {
        if (StringField(var, "type") != "query") continue;
        DashboardQuery q;
        q.dashboard = dashboard.file;
        q.where = absl::StrCat("variable $", StringField(var, "name"));
        q.kind = QueryKind::kVariable;
        if (const Value* ds = Field(var, "datasource")) {
          q.datasource_type = StringField(*ds, "type");
          q.datasource_uid = StringField(*ds, "uid");
        }
        const Value* query = Field(var, "query");
        if (query != nullptr && query->kind_case() == Value::kStructValue) {
          q.text = StringField(*query, "query");
        } else {
          q.text = StringField(var, "query");
        }
        q.format = "table";
        out.push_back(std::move(q));
      }
    }
  }
  if (const Value* annotations = Field(dashboard.model, "annotations")) {
    if (const auto* list = ListField(*annotations, "list")) {
      for (const Value& anno : list->values()) {
        DashboardQuery q;
        q.dashboard = dashboard.file;
        q.where = absl::StrCat("annotation \"", StringField(anno, "name"), "\"");
        q.kind = QueryKind::kAnnotation;
        if (const Value* ds = Field(anno, "datasource")) {
          q.datasource_type = StringField(*ds, "type");
          q.datasource_uid = StringField(*ds, "uid");
        }
        q.format = "table";
        std::set<std::string> texts;
        if (const Value* target = Field(anno, "target")) {
          texts.insert(q.datasource_type == "prometheus" ? StringField(*target, "expr")
                                                         : StringField(*target, "rawSql"));
        }
        texts.insert(q.datasource_type == "prometheus" ? StringField(anno, "expr")
                                                       : StringField(anno, "rawQuery"));
        texts.erase("");
        for (const std::string& text : texts) {
          q.text = text;
          out.push_back(q);
        }
      }
    }
  }
  return out;
}

std::vector<std::string> ValidateModel(const Dashboard& d) {
  std::vector<std::string> problems;
  auto need_string = [&](const Value& v, const std::string& field, const std::string& where) {
    if (StringField(v, field).empty()) {
      problems.push_back(absl::StrCat(d.file, ": ", where, " has no ", field));
    }
  };
  need_string(d.model, "uid", "dashboard");
  need_string(d.model, "title", "dashboard");
  const Value* schema = Field(d.model, "schemaVersion");
  if (schema == nullptr || schema->kind_case() != Value::kNumberValue ||
      schema->number_value() < 30) {
    problems.push_back(absl::StrCat(d.file, ": schemaVersion missing or older than 30"));
  }
  if (StringField(d.model, "uid").size() > 40) {
    problems.push_back(absl::StrCat(d.file, ": uid longer than Grafana's 40 characters"));
  }
  std::vector<const Value*> panels = AllPanels(d.model);
  if (panels.empty()) problems.push_back(absl::StrCat(d.file, ": no panels"));
  std::set<double> ids;
  for (const Value* panel : panels) {
    const std::string where = absl::StrCat("panel \"", StringField(*panel, "title"), "\"");
    need_string(*panel, "title", where);
    need_string(*panel, "type", where);
    const Value* id = Field(*panel, "id");
    if (id == nullptr || id->kind_case() != Value::kNumberValue) {
      problems.push_back(absl::StrCat(d.file, ": ", where, " has no numeric id"));
    } else if (!ids.insert(id->number_value()).second) {
      problems.push_back(absl::StrCat(d.file, ": ", where, " reuses id ", id->number_value()));
    }
    const Value* grid = Field(*panel, "gridPos");
    if (grid == nullptr || Field(*grid, "w") == nullptr || Field(*grid, "h") == nullptr ||
        Field(*grid, "x") == nullptr || Field(*grid, "y") == nullptr) {
      problems.push_back(absl::StrCat(d.file, ": ", where, " has no complete gridPos"));
    }
    if (StringField(*panel, "type") == "row") continue;
    const Value* ds = Field(*panel, "datasource");
    if (ds == nullptr || StringField(*ds, "uid").empty() || StringField(*ds, "type").empty()) {
      problems.push_back(absl::StrCat(d.file, ": ", where, " has no datasource type and uid"));
    }
    const auto* targets = ListField(*panel, "targets");
    if (targets == nullptr || targets->values().empty()) {
      problems.push_back(absl::StrCat(d.file, ": ", where, " has no targets"));
      continue;
    }
    for (const Value& target : targets->values()) need_string(target, "refId", where + " target");
  }
  return problems;
}

std::set<std::string> DatasourceUids(const Dashboard& dashboard) {
  std::set<std::string> uids;
  CollectUids(dashboard.model, &uids);
  return uids;
}

absl::StatusOr<std::string> ExpandSql(const std::string& sql, const SqlContext& context) {
  // Template variables first, as Grafana interpolates them before the backend sees macros.
  std::string text = sql;
  for (const std::string& name : NamesLongestFirst(context.variables)) {
    std::vector<std::string> quoted;
    for (const std::string& v : context.variables.at(name)) quoted.push_back(SqlQuote(v));
    text = ReplaceVariable(text, name, absl::StrJoin(quoted, ","));
  }
  text = ReplaceVariable(text, "__interval_ms",
                         absl::StrCat(absl::ToInt64Milliseconds(context.interval)));
  text = ReplaceVariable(text, "__interval", DurationText(context.interval));

  const std::string from = SqlQuote(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", context.from,
                                                     absl::UTCTimeZone()));
  const std::string to = SqlQuote(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", context.to,
                                                   absl::UTCTimeZone()));
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find("$__", pos);
    if (hit == std::string::npos) break;
    out.append(text, pos, hit - pos);
    size_t name_end = hit + 3;
    while (name_end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[name_end])) || text[name_end] == '_')) {
      ++name_end;
    }
    const std::string name = text.substr(hit + 3, name_end - hit - 3);
    std::vector<std::string> args;
    size_t next = name_end;
    if (name_end < text.size() && text[name_end] == '(') {
      int depth = 0;
      size_t i = name_end;
      std::string arg;
      for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '(' && depth++ == 0) continue;
        if (c == ')' && --depth == 0) break;
        if (c == ',' && depth == 1) {
          args.push_back(std::string(absl::StripAsciiWhitespace(arg)));
          arg.clear();
          continue;
        }
        arg.push_back(c);
      }
      if (i >= text.size()) {
        return absl::InvalidArgumentError(absl::StrCat("unbalanced $__", name, "( in: ", sql));
      }
      if (!absl::StripAsciiWhitespace(arg).empty() || !args.empty()) {
        args.push_back(std::string(absl::StripAsciiWhitespace(arg)));
      }
      next = i + 1;
    }
    auto need_args = [&](size_t min) -> absl::Status {
      if (args.size() < min) {
        return absl::InvalidArgumentError(
            absl::StrCat("$__", name, " needs ", min, " argument(s) in: ", sql));
      }
      return absl::OkStatus();
    };
    if (name == "timeFilter") {
      if (absl::Status s = need_args(1); !s.ok()) return s;
      absl::StrAppend(&out, args[0], " BETWEEN ", from, " AND ", to);
    } else if (name == "timeGroup" || name == "timeGroupAlias") {
      if (absl::Status s = need_args(2); !s.ok()) return s;
      absl::StatusOr<absl::Duration> step = ParseGrafanaDuration(args[1]);
      if (!step.ok()) return step.status();
      const int64_t seconds = std::max<int64_t>(1, absl::ToInt64Seconds(*step));
      absl::StrAppend(&out, "floor(extract(epoch from ", args[0], ")/", seconds, ")*", seconds);
      if (name == "timeGroupAlias") absl::StrAppend(&out, " AS \"time\"");
    } else if (name == "time") {
      if (absl::Status s = need_args(1); !s.ok()) return s;
      absl::StrAppend(&out, args[0], " AS \"time\"");
    } else if (name == "timeFrom") {
      out.append(from);
    } else if (name == "timeTo") {
      out.append(to);
    } else if (name == "unixEpochFilter") {
      if (absl::Status s = need_args(1); !s.ok()) return s;
      absl::StrAppend(&out, args[0], " >= ", absl::ToUnixSeconds(context.from), " AND ",
                      args[0], " <= ", absl::ToUnixSeconds(context.to));
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown macro $__", name, " in: ", sql));
    }
    pos = next;
  }
  out.append(text, pos, std::string::npos);
  if (absl::Status s = NoDollarLeft(out); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::string> ExpandPromQl(const std::string& expr, const PromContext& context) {
  std::string text = expr;
  text = ReplaceVariable(text, "__rate_interval", context.rate_interval);
  text = ReplaceVariable(text, "__range", context.range);
  text = ReplaceVariable(text, "__interval", context.interval);
  for (const std::string& name : NamesLongestFirst(context.variables)) {
    const std::vector<std::string>& values = context.variables.at(name);
    std::vector<std::string> escaped;
    for (const std::string& v : values) escaped.push_back(RegexEscape(v));
    const std::string value = escaped.size() == 1
                                  ? escaped[0]
                                  : absl::StrCat("(", absl::StrJoin(escaped, "|"), ")");
    text = ReplaceVariable(text, name, value);
  }
  if (absl::Status s = NoDollarLeft(text); !s.ok()) return s;
  return text;
}

}  // namespace faultline::testing
