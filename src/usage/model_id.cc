#include "cce/usage/model_id.h"

#include <cctype>

namespace cce::usage {

std::string normalize_model_id(std::string_view raw) {
  std::string s;
  s.reserve(raw.size());
  for (char c : raw) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  // Context-window suffix: "claude-opus-4-6[1m]".
  if (auto br = s.find('['); br != std::string::npos) s.erase(br);
  // Bedrock: optional region/profile prefix ("us.", "eu.", "apac.", "global.") then
  // "anthropic.", and a "-v1:0" style version suffix.
  if (auto pos = s.find("anthropic."); pos != std::string::npos) {
    bool prefix_ok = pos == 0 || (s[pos - 1] == '.' && s.find('.') == pos - 1);
    if (prefix_ok) s.erase(0, pos + 10);
    if (auto v = s.rfind("-v"); v != std::string::npos && v + 2 < s.size()) {
      bool version = true;
      for (size_t i = v + 2; i < s.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != ':') version = false;
      }
      if (version) s.erase(v);
    }
  }
  // Vertex: "claude-sonnet-4-5@20250929" -> "claude-sonnet-4-5-20250929".
  if (auto at = s.find('@'); at != std::string::npos) {
    std::string date = s.substr(at + 1);
    s.erase(at);
    if (!date.empty() && date != "default") s += "-" + date;
  }
  return s;
}

}  // namespace cce::usage
