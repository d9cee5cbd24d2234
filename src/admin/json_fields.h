#pragma once

// Reading the organization APIs' records: a field that does not fit throws RecordError, which
// skips that record (with its position) and keeps the rest of the page.

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

namespace cce::admin::json_fields {

using nlohmann::json;

struct RecordError {
  std::string message;
};

// A non-negative finite number (integer or not: cents may be fractional).
inline double number(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return 0;
  if (!it->is_number()) throw RecordError{where + "." + key + " is not a number"};
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < 0) throw RecordError{where + "." + key + " is negative"};
  return v;
}

inline const json& object(const json& obj, const char* key, const std::string& where,
                          bool required) {
  static const json kEmpty = json::object();
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) throw RecordError{where + "." + key + " is missing"};
    return kEmpty;
  }
  if (!it->is_object()) throw RecordError{where + "." + key + " is not an object"};
  return *it;
}

inline std::string string_field(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    throw RecordError{where + "." + key + " is missing"};
  }
  return it->get<std::string>();
}

// "edit_tool" -> "edit"; an unknown future key keeps its name without the suffix.
inline std::string tool_label(const std::string& key) {
  constexpr std::string_view kSuffix = "_tool";
  if (key.size() > kSuffix.size() &&
      key.compare(key.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
    return key.substr(0, key.size() - kSuffix.size());
  }
  return key;
}

}  // namespace cce::admin::json_fields
