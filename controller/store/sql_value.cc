#include "controller/store/sql_value.h"

#include <limits>

namespace faultline::controller::store {

int64_t SqlValue::AsInt() const {
  switch (kind_) {
    case Kind::kInt:
      return int_;
    case Kind::kDouble:
      return static_cast<int64_t>(double_);
    case Kind::kTime:
      return absl::ToUnixMicros(time_);
    default:
      return 0;
  }
}

double SqlValue::AsDouble() const {
  switch (kind_) {
    case Kind::kDouble:
      return double_;
    case Kind::kInt:
      return static_cast<double>(int_);
    case Kind::kNull:
      return std::numeric_limits<double>::quiet_NaN();
    default:
      return 0;
  }
}

absl::Time SqlValue::AsTime() const {
  switch (kind_) {
    case Kind::kTime:
      return time_;
    case Kind::kInt:
      // SQLite's representation; the extremes stand for the infinite times they came from.
      if (int_ == std::numeric_limits<int64_t>::max()) return absl::InfiniteFuture();
      if (int_ == std::numeric_limits<int64_t>::min()) return absl::InfinitePast();
      return absl::FromUnixMicros(int_);
    default:
      return absl::UnixEpoch();
  }
}

}  // namespace faultline::controller::store
