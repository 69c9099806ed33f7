// Status propagation for the store's SQL code (Abseil 20220623 ships no status macros).
#ifndef FAULTLINE_CONTROLLER_STORE_STATUS_MACROS_H_
#define FAULTLINE_CONTROLLER_STORE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define FL_RETURN_IF_ERROR(expr)            \
  do {                                      \
    absl::Status fl_status_ = (expr);       \
    if (!fl_status_.ok()) return fl_status_; \
  } while (0)

// Assigns the value of a StatusOr expression to `lhs`, or returns its error.
#define FL_ASSIGN_OR_RETURN(lhs, expr) FL_ASSIGN_OR_RETURN_IMPL(FL_CONCAT(fl_or_, __LINE__), lhs, expr)
#define FL_CONCAT_INNER(a, b) a##b
#define FL_CONCAT(a, b) FL_CONCAT_INNER(a, b)
#define FL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(*tmp)

#endif  // FAULTLINE_CONTROLLER_STORE_STATUS_MACROS_H_
