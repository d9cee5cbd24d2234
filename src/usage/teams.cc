#include "cce/usage/teams.h"

#include <algorithm>

#include "cce/usage/identity.h"
#include "cce/util/strings.h"

namespace cce::usage {

bool glob_match(std::string_view p, std::string_view t) {
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*')
    ++pi;
  return pi == p.size();
}

TeamResolver::TeamResolver(const std::map<std::string, std::string>& map) {
  for (const auto& [k, v] : map) {
    if (k.find_first_of("*?") == std::string::npos) {
      exact_[util::lower(k)] = v;
    } else {
      patterns_.emplace_back(util::lower(k), v);
    }
  }
  auto literal = [](const std::string& p) {
    return std::count_if(p.begin(), p.end(), [](char c) { return c != '*' && c != '?'; });
  };
  std::stable_sort(patterns_.begin(), patterns_.end(), [&](const auto& a, const auto& b) {
    return literal(a.first) > literal(b.first);
  });
}

std::string TeamResolver::team(const ActorInfo& actor) const {
  const std::string id = actor.id.type == ActorType::kUser ? actor.id.id : util::lower(actor.id.id);
  if (auto it = exact_.find(id); it != exact_.end()) return it->second;
  for (const auto& [pattern, team] : patterns_) {
    if (glob_match(pattern, id)) return team;
  }
  return actor.otel_team;
}

}  // namespace cce::usage
