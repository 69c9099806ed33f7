// Reads faultline's Grafana dashboards the way Grafana does: the JSON model, the queries in its
// panels, template variables and annotations, and the expansion of Grafana's template variables
// and SQL macros into the text a datasource finally runs. Shared by the PostgreSQL and
// Prometheus dashboard tests.
#ifndef FAULTLINE_TESTS_DASHBOARDS_DASHBOARD_QUERIES_H_
#define FAULTLINE_TESTS_DASHBOARDS_DASHBOARD_QUERIES_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"

namespace faultline::testing {

struct Dashboard {
  std::string file;
  google::protobuf::Value model;
};

// Every *.json directly in `dir`.
absl::StatusOr<std::vector<Dashboard>> LoadDashboards(const std::string& dir);

enum class QueryKind { kPanel, kVariable, kAnnotation };

struct DashboardQuery {
  std::string dashboard;  // File name.
  std::string where;      // Panel title, variable name or annotation name, for messages.
  QueryKind kind = QueryKind::kPanel;
  std::string datasource_type;  // "prometheus" or "postgres".
  std::string datasource_uid;
  std::string format;  // SQL targets: "time_series" or "table".
  std::string text;    // PromQL, SQL, or a Prometheus variable query such as label_values(...).
};

// Panels (nested rows included), template variables and annotations. A target without its own
// datasource inherits its panel's.
std::vector<DashboardQuery> ExtractQueries(const Dashboard& dashboard);

// Problems with the fields Grafana's dashboard model requires (uid, title, schemaVersion,
// panels with id, type, gridPos, datasource and targets); empty when the model is complete.
std::vector<std::string> ValidateModel(const Dashboard& dashboard);

// Datasource uids the dashboard refers to anywhere.
std::set<std::string> DatasourceUids(const Dashboard& dashboard);

// Values of the template variables, by name. One value or several (multi-value).
using VariableValues = std::map<std::string, std::vector<std::string>>;

struct SqlContext {
  absl::Time from;
  absl::Time to;
  absl::Duration interval = absl::Minutes(1);
  VariableValues variables;
};

// Expands $var / ${var} (as Grafana's SQL datasources do: quoted, comma-separated), $__interval,
// and the PostgreSQL macros $__timeFilter, $__timeGroup, $__timeGroupAlias, $__time,
// $__timeFrom, $__timeTo, $__unixEpochFilter. INVALID_ARGUMENT for an unknown macro or variable
// left in the text.
absl::StatusOr<std::string> ExpandSql(const std::string& sql, const SqlContext& context);

struct PromContext {
  std::string rate_interval = "1m";
  std::string range = "5m";
  std::string interval = "15s";
  VariableValues variables;
};

// Expands $__rate_interval, $__range, $__interval and $var / ${var} (regex-escaped values; several
// become (a|b), as Grafana formats them for =~ matchers).
absl::StatusOr<std::string> ExpandPromQl(const std::string& expr, const PromContext& context);

}  // namespace faultline::testing

#endif  // FAULTLINE_TESTS_DASHBOARDS_DASHBOARD_QUERIES_H_
