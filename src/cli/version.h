#pragma once

namespace metadial::cli {

/// The metadial version, as in CMakeLists.txt.
const char* version();

}  // namespace metadial::cli
