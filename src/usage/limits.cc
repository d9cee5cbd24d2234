#include "cce/usage/limits.h"

namespace cce::usage {

bool truncate_label(std::string& s, size_t max) {
  if (s.size() <= max) return false;
  size_t cut = max;
  // Back up over continuation bytes (10xxxxxx) so the cut lands before a sequence's lead byte.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
    --cut;
  s.resize(cut);
  return true;
}

bool is_capped_label(std::string_view name) {
  return name == "model" || name == "tool" || name == "tool_name" || name == "language" ||
         name == "status_code";
}

}  // namespace cce::usage
