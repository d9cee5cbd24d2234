#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cce::util {

// ASCII lower case (emails, header values, enum-like attribute values).
std::string lower(std::string_view s);
// Without leading and trailing ASCII whitespace (spaces, tabs, CR, LF).
std::string_view trim(std::string_view s);
// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), as protobuf
// requires of a string field.
bool valid_utf8(std::string_view s);
// Lower-case hexadecimal of raw bytes.
std::string hex(std::string_view bytes);

// The credentials of an Authorization header value of one scheme: what follows `scheme`
// (lower case with its space, e.g. "basic "; matched ASCII case-insensitively). nullopt for
// another scheme, or nothing after it.
std::optional<std::string_view> credentials_after(std::string_view header, std::string_view scheme);

// Equality that takes as long whatever the inputs share, for secrets.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace cce::util
