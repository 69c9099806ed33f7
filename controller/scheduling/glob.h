// Shell-style glob matching for kernel labels, releases and host classes in target selectors.
#ifndef FAULTLINE_CONTROLLER_GLOB_H_
#define FAULTLINE_CONTROLLER_GLOB_H_

#include "absl/strings/string_view.h"

namespace faultline::controller::scheduling {

// True when `text` matches `pattern`, where `*` matches any run of characters (including '/')
// and `?` any one character. An empty pattern matches everything: unset selector fields match
// any host.
bool GlobMatch(absl::string_view pattern, absl::string_view text);

}  // namespace faultline::controller::scheduling

#endif  // FAULTLINE_CONTROLLER_GLOB_H_
