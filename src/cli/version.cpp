#include "cli/version.h"

namespace metadial::cli {

const char* version() { return METADIAL_VERSION; }

}  // namespace metadial::cli
