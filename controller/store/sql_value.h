// Parameters and result cells of the SQL the store runs, independent of the database library.
#ifndef FAULTLINE_CONTROLLER_STORE_SQL_VALUE_H_
#define FAULTLINE_CONTROLLER_STORE_SQL_VALUE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace faultline::controller::store {

// One SQL value. Times are a kind of their own because the backends store them differently
// (SQLite: integer microseconds since the epoch; PostgreSQL: timestamptz).
class SqlValue {
 public:
  enum class Kind { kNull, kInt, kDouble, kText, kBlob, kTime };

  SqlValue() = default;
  static SqlValue Null() { return SqlValue(); }
  static SqlValue Int(int64_t v) {
    SqlValue s(Kind::kInt);
    s.int_ = v;
    return s;
  }
  static SqlValue Double(double v) {
    SqlValue s(Kind::kDouble);
    s.double_ = v;
    return s;
  }
  static SqlValue Text(std::string v) {
    SqlValue s(Kind::kText);
    s.bytes_ = std::move(v);
    return s;
  }
  static SqlValue Blob(std::string v) {
    SqlValue s(Kind::kBlob);
    s.bytes_ = std::move(v);
    return s;
  }
  static SqlValue Time(absl::Time v) {
    SqlValue s(Kind::kTime);
    s.time_ = v;
    return s;
  }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  // Conversions are lenient across numeric kinds; a NULL reads as 0, "", NaN or the epoch.
  int64_t AsInt() const;
  double AsDouble() const;
  const std::string& AsString() const { return bytes_; }
  absl::Time AsTime() const;

 private:
  explicit SqlValue(Kind kind) : kind_(kind) {}

  Kind kind_ = Kind::kNull;
  int64_t int_ = 0;
  double double_ = 0;
  std::string bytes_;
  absl::Time time_;
};

using SqlParams = std::vector<SqlValue>;
using SqlRow = std::vector<SqlValue>;
using SqlRows = std::vector<SqlRow>;

}  // namespace faultline::controller::store

#endif  // FAULTLINE_CONTROLLER_STORE_SQL_VALUE_H_
