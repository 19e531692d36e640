// Small text helpers shared by every layer.
#pragma once

#include <string>
#include <string_view>

namespace metadial::text {

/// `s` as valid UTF-8: every byte that does not start a well-formed sequence (a stray
/// continuation byte, a truncated or overlong sequence, a surrogate, a code point above
/// U+10FFFF) becomes U+FFFD, the replacement character. Valid input comes back unchanged.
std::string valid_utf8(std::string_view s);

/// True if `s` holds a NUL byte or another ASCII control character (0x00-0x1F, 0x7F).
bool has_control_character(std::string_view s);

/// `s` with every control character written as an escape (\n, \t, \x1b, \x00, ...) and
/// backslashes doubled, so that a name printed to a terminal cannot move the cursor, change
/// colours or fake a line of output. Other bytes (UTF-8 included) are kept.
std::string escape_controls(std::string_view s);

}  // namespace metadial::text
