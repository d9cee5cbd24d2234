#pragma once

#include <string>
#include <string_view>

namespace cce::metrics {

// The Prometheus text format (0.0.4), written byte for byte as prometheus-cpp's serializer
// writes it (a test holds the two equal), so the usage families can be rendered straight to
// text without building a family vector first.

// A sample value: "%.16g", "Nan", "+Inf", "-Inf".
void append_value(std::string& out, double value);
// `name="value"` with the value escaped (\\, \", \n), after a comma unless `labels` is empty.
void append_label(std::string& labels, std::string_view name, std::string_view value);
// "# HELP" (when there is help) and "# TYPE" lines.
void append_family_head(std::string& out, std::string_view name, std::string_view help,
                        std::string_view type);
// `name{labels} value` (no braces without labels).
void append_sample(std::string& out, std::string_view name, std::string_view labels, double value);

}  // namespace cce::metrics
