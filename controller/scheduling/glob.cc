#include "controller/scheduling/glob.h"

#include <cstddef>

namespace faultline::controller::scheduling {

bool GlobMatch(absl::string_view pattern, absl::string_view text) {
  if (pattern.empty()) return true;
  // Iterative matcher with single-star backtracking: linear in practice and no recursion depth
  // for an adversarial pattern.
  size_t p = 0, t = 0;
  size_t star = absl::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace faultline::controller::scheduling
