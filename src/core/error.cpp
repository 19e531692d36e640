#include "metadial/core/error.h"

namespace metadial::detail {

void assert_fail(const char* expr, const char* file, int line, const std::string& msg) {
  throw Error(concat("internal error (a metadial bug, please report it): ", expr, " failed at ", file,
                     ":", line, msg.empty() ? "" : ": ", msg));
}

}  // namespace metadial::detail
