#include "cce/metrics/text_format.h"

#include <charconv>
#include <cmath>

namespace cce::metrics {

void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "Nan";
  } else if (std::isinf(value)) {
    out += value < 0 ? "-Inf" : "+Inf";
  } else {
    // As printf("%.16g") writes it (the standard defines it so), without printf's parsing.
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 16);
    out.append(buf, r.ptr);
  }
}

void append_label(std::string& labels, std::string_view name, std::string_view value) {
  if (!labels.empty()) labels += ',';
  labels += name;
  labels += "=\"";
  for (const char c : value) {
    switch (c) {
      case '\\':
        labels += "\\\\";
        break;
      case '"':
        labels += "\\\"";
        break;
      case '\n':
        labels += "\\n";
        break;
      default:
        labels += c;
    }
  }
  labels += '"';
}

void append_family_head(std::string& out, std::string_view name, std::string_view help,
                        std::string_view type) {
  if (!help.empty()) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += '\n';
  }
  out += "# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  append_value(out, value);
  out += '\n';
}

}  // namespace cce::metrics
