#include "controller/store/postgres_connection.h"

#include <cmath>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace faultline::controller::store {
namespace {

// Type OIDs from PostgreSQL's pg_type.dat (stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kTimestampOid = 1114;
constexpr Oid kTimestamptzOid = 1184;
constexpr Oid kNumericOid = 1700;

void IgnoreNotice(void*, const char*) {}

std::string FormatTimestamptz(absl::Time t) {
  if (t == absl::InfiniteFuture()) return "infinity";
  if (t == absl::InfinitePast()) return "-infinity";
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone());
}

// Parses timestamptz output of a UTC, ISO-DateStyle session: "2027-01-15 08:00:00.25+00".
absl::Time ParseTimestamptz(const std::string& text) {
  if (text == "infinity") return absl::InfiniteFuture();
  if (text == "-infinity") return absl::InfinitePast();
  std::string local = text;
  size_t zone = local.find_last_of("+-");
  if (zone != std::string::npos && zone > 10) local.resize(zone);
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%d %H:%M:%E*S", local, absl::UTCTimeZone(), &t, &error)) {
    return absl::UnixEpoch();
  }
  return t;
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return absl::StrFormat("%.17g", v);
}

SqlValue Cell(PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column)) return SqlValue::Null();
  const char* text = PQgetvalue(result, row, column);
  int length = PQgetlength(result, row, column);
  switch (PQftype(result, column)) {
    case kInt8Oid:
    case kInt4Oid:
    case kInt2Oid:
    case kOidOid: {
      int64_t v = 0;
      (void)absl::SimpleAtoi(absl::string_view(text, length), &v);
      return SqlValue::Int(v);
    }
    case kBoolOid:
      return SqlValue::Int(text[0] == 't' ? 1 : 0);
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid: {
      double v = std::nan("");
      std::string s(text, length);
      if (s == "Infinity") {
        v = HUGE_VAL;
      } else if (s == "-Infinity") {
        v = -HUGE_VAL;
      } else if (s != "NaN") {
        (void)absl::SimpleAtod(s, &v);
      }
      return SqlValue::Double(v);
    }
    case kByteaOid: {
      size_t size = 0;
      unsigned char* bytes =
          PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &size);
      SqlValue v = SqlValue::Blob(bytes ? std::string(reinterpret_cast<char*>(bytes), size) : "");
      PQfreemem(bytes);
      return v;
    }
    case kTimestampOid:
    case kTimestamptzOid:
      return SqlValue::Time(ParseTimestamptz(std::string(text, length)));
    default:
      return SqlValue::Text(std::string(text, length));
  }
}

}  // namespace

std::string NumberPlaceholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + sql.size() / 4);
  int n = 0;
  bool in_literal = false;
  for (char c : sql) {
    if (c == '\'') in_literal = !in_literal;
    if (c == '?' && !in_literal) {
      absl::StrAppend(&out, "$", ++n);
    } else {
      out += c;
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<PostgresConnection>> PostgresConnection::Open(
    const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return absl::ResourceExhaustedError("libpq could not allocate a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL: ", message));
  }
  std::unique_ptr<PostgresConnection> connection(new PostgresConnection(conn));
  PQsetNoticeProcessor(conn, &IgnoreNotice, nullptr);
  absl::Status status =
      connection->ExecScript("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
                             "SET extra_float_digits = 3; SET client_min_messages = warning");
  if (!status.ok()) return status;
  return connection;
}

PostgresConnection::~PostgresConnection() { PQfinish(conn_); }

void PostgresConnection::ResetIfBroken() {
  if (PQstatus(conn_) == CONNECTION_OK) return;
  statement_names_.clear();
  PQreset(conn_);
  if (PQstatus(conn_) == CONNECTION_OK) {
    PQexec(conn_, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3");
  }
}

absl::Status PostgresConnection::ResultError(PGresult* result, const std::string& sql) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state ? state : "";
  std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn_);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  message = absl::StrCat("PostgreSQL: ", message, code.empty() ? "" : " [" + code + "]",
                         " in: ", sql.substr(0, 300));
  if (result) PQclear(result);
  if (PQstatus(conn_) != CONNECTION_OK) {
    ResetIfBroken();
    return absl::UnavailableError(message);
  }
  if (code == "23505") return absl::AlreadyExistsError(message);
  if (code == "40001" || code == "40P01") return absl::AbortedError(message);
  if (code.rfind("23", 0) == 0) return absl::FailedPreconditionError(message);
  if (code.rfind("08", 0) == 0 || code.rfind("57P", 0) == 0) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

absl::StatusOr<PGresult*> PostgresConnection::Run(const std::string& sql,
                                                  const SqlParams& params) {
  auto it = statement_names_.find(sql);
  if (it == statement_names_.end()) {
    std::string name = absl::StrCat("s", statement_names_.size() + 1);
    PGresult* prepared = PQprepare(conn_, name.c_str(), NumberPlaceholders(sql).c_str(),
                                   static_cast<int>(params.size()), nullptr);
    if (prepared == nullptr || PQresultStatus(prepared) != PGRES_COMMAND_OK) {
      return ResultError(prepared, sql);
    }
    PQclear(prepared);
    it = statement_names_.emplace(sql, std::move(name)).first;
  }
  const size_t n = params.size();
  std::vector<std::string> text(n);
  std::vector<const char*> values(n, nullptr);
  std::vector<int> lengths(n, 0);
  std::vector<int> formats(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const SqlValue& v = params[i];
    switch (v.kind()) {
      case SqlValue::Kind::kNull:
        continue;
      case SqlValue::Kind::kInt:
        text[i] = absl::StrCat(v.AsInt());
        break;
      case SqlValue::Kind::kDouble:
        text[i] = FormatDouble(v.AsDouble());
        break;
      case SqlValue::Kind::kTime:
        text[i] = FormatTimestamptz(v.AsTime());
        break;
      case SqlValue::Kind::kText:
        values[i] = v.AsString().c_str();
        continue;
      case SqlValue::Kind::kBlob:
        values[i] = v.AsString().data();
        lengths[i] = static_cast<int>(v.AsString().size());
        formats[i] = 1;
        continue;
    }
    values[i] = text[i].c_str();
  }
  PGresult* result = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(n), values.data(),
                                    lengths.data(), formats.data(), /*resultFormat=*/0);
  ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return ResultError(result, sql);
  return result;
}

absl::StatusOr<int64_t> PostgresConnection::Exec(const std::string& sql,
                                                 const SqlParams& params) {
  absl::StatusOr<PGresult*> result = Run(sql, params);
  if (!result.ok()) return result.status();
  int64_t changed = 0;
  (void)absl::SimpleAtoi(PQcmdTuples(*result), &changed);
  PQclear(*result);
  return changed;
}

absl::StatusOr<SqlRows> PostgresConnection::Query(const std::string& sql,
                                                  const SqlParams& params) {
  absl::StatusOr<PGresult*> result = Run(sql, params);
  if (!result.ok()) return result.status();
  SqlRows rows;
  const int row_count = PQntuples(*result);
  const int columns = PQnfields(*result);
  rows.reserve(row_count);
  for (int r = 0; r < row_count; ++r) {
    SqlRow row;
    row.reserve(columns);
    for (int c = 0; c < columns; ++c) row.push_back(Cell(*result, r, c));
    rows.push_back(std::move(row));
  }
  PQclear(*result);
  return rows;
}

absl::Status PostgresConnection::ExecScript(const std::string& sql) {
  PGresult* result = PQexec(conn_, sql.c_str());
  ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return ResultError(result, sql);
  PQclear(result);
  return absl::OkStatus();
}

}  // namespace faultline::controller::store
