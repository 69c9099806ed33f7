// The dashboard JSON has what Grafana's dashboard model requires, every datasource it names is
// provisioned, and the macro expansion the SQL test relies on behaves like Grafana's.
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dashboards/dashboard_queries.h"
#include "tests/testing/subprocess.h"

namespace faultline::testing {
namespace {

using ::testing::HasSubstr;

std::vector<Dashboard> Load() {
  absl::StatusOr<std::vector<Dashboard>> d = LoadDashboards(RunfilePath("dashboards/grafana"));
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *d : std::vector<Dashboard>{};
}

// "uid:" and "type:" of each datasource in the provisioning file (its format is ours: one
// datasource per "- name:" item).
std::map<std::string, std::string> ProvisionedDatasources() {
  const std::string text =
      ReadFileOrEmpty(RunfilePath("dashboards/provisioning/datasources/faultline.yaml"));
  std::map<std::string, std::string> type_by_uid;
  std::string uid, type;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::StartsWith(line, "- name:")) {
      if (!uid.empty()) type_by_uid[uid] = type;
      uid.clear();
      type.clear();
    } else if (absl::ConsumePrefix(&line, "uid:")) {
      uid = std::string(absl::StripAsciiWhitespace(line));
    } else if (absl::ConsumePrefix(&line, "type:")) {
      type = std::string(absl::StripAsciiWhitespace(line));
    }
  }
  if (!uid.empty()) type_by_uid[uid] = type;
  return type_by_uid;
}

TEST(DashboardModelTest, ThreeDashboardsWithTheRequiredFields) {
  std::vector<Dashboard> dashboards = Load();
  std::vector<std::string> files;
  std::set<std::string> uids;
  for (const Dashboard& d : dashboards) {
    files.push_back(d.file);
    EXPECT_THAT(ValidateModel(d), ::testing::IsEmpty()) << d.file;
    const std::string uid = d.model.struct_value().fields().at("uid").string_value();
    EXPECT_TRUE(uids.insert(uid).second) << "duplicate uid " << uid;
  }
  EXPECT_THAT(files, ::testing::ElementsAre("fleet.json", "gate.json", "regressions.json"));
}

TEST(DashboardModelTest, EveryDatasourceIsProvisionedWithItsType) {
  const std::map<std::string, std::string> provisioned = ProvisionedDatasources();
  EXPECT_EQ(provisioned.size(), 2u);
  for (const Dashboard& d : Load()) {
    for (const std::string& uid : DatasourceUids(d)) {
      EXPECT_TRUE(provisioned.count(uid)) << d.file << " uses unprovisioned datasource " << uid;
    }
    for (const DashboardQuery& q : ExtractQueries(d)) {
      ASSERT_TRUE(provisioned.count(q.datasource_uid)) << q.dashboard << " " << q.where;
      EXPECT_EQ(provisioned.at(q.datasource_uid), q.datasource_type) << q.dashboard << q.where;
      EXPECT_FALSE(q.text.empty()) << q.dashboard << " " << q.where << " has no query";
    }
  }
}

TEST(DashboardModelTest, DashboardsProviderPointsGrafanaAtTheJsonFolder) {
  const std::string text =
      ReadFileOrEmpty(RunfilePath("dashboards/provisioning/dashboards/faultline.yaml"));
  EXPECT_THAT(text, HasSubstr("type: file"));
  EXPECT_THAT(text, HasSubstr("path: ${FAULTLINE_DASHBOARDS_DIR}"));
}

TEST(DashboardModelTest, TemplateVariablesCoverArchHostClassBenchmarkMetricAndKernel) {
  std::set<std::string> names;
  for (const Dashboard& d : Load()) {
    for (const DashboardQuery& q : ExtractQueries(d)) {
      if (q.kind == QueryKind::kVariable) names.insert(q.where.substr(q.where.find('$') + 1));
    }
  }
  for (const char* want : {"arch", "host_class", "benchmark", "metric", "kernel_label"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
}

TEST(ExpandSqlTest, ExpandsMacrosAndQuotesVariablesLikeGrafana) {
  SqlContext c;
  c.from = absl::FromUnixSeconds(1700000000);
  c.to = absl::FromUnixSeconds(1700003600);
  c.interval = absl::Minutes(5);
  c.variables["arch"] = {"x86_64", "arm64"};
  c.variables["host"] = {"o'brien"};
  c.variables["host_class"] = {"hc"};
  absl::StatusOr<std::string> sql = ExpandSql(
      "SELECT $__timeGroupAlias(s.time, $__interval), $__time(t) FROM x WHERE "
      "$__timeFilter(s.time) AND arch IN ($arch) AND h = ${host} AND c = $host_class AND "
      "g = $__timeGroup(time, '1h')",
      c);
  ASSERT_TRUE(sql.ok()) << sql.status();
  EXPECT_EQ(*sql,
            "SELECT floor(extract(epoch from s.time)/300)*300 AS \"time\", t AS \"time\" FROM x "
            "WHERE s.time BETWEEN '2023-11-14T22:13:20Z' AND '2023-11-14T23:13:20Z' AND arch IN "
            "('x86_64','arm64') AND h = 'o''brien' AND c = 'hc' AND g = "
            "floor(extract(epoch from time)/3600)*3600");
  EXPECT_FALSE(ExpandSql("SELECT $unknown", c).ok());
  EXPECT_FALSE(ExpandSql("SELECT $__nosuchmacro(x)", c).ok());
}

TEST(ExpandPromQlTest, EscapesRegexValuesForMatchers) {
  PromContext c;
  c.variables["kernel_label"] = {"patched/v1.2"};
  c.variables["arch"] = {"x86_64", "arm64"};
  absl::StatusOr<std::string> expr = ExpandPromQl(
      "rate(x{arch=~\"$arch\", kernel_label=~\"$kernel_label\"}[$__rate_interval])", c);
  ASSERT_TRUE(expr.ok()) << expr.status();
  EXPECT_EQ(*expr, "rate(x{arch=~\"(x86_64|arm64)\", kernel_label=~\"patched/v1\\\\.2\"}[1m])");
}

}  // namespace
}  // namespace faultline::testing
