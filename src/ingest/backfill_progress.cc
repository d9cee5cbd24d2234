#include <sstream>

#include "cce/ingest/sink.h"

namespace cce::ingest {

std::string BackfillProgress::serialize() const {
  return "oldest=" + oldest.str() + " next=" + next.str();
}

std::optional<BackfillProgress> BackfillProgress::parse(const std::string& s) {
  std::istringstream in(s);
  std::string a, b;
  in >> a >> b;
  if (a.rfind("oldest=", 0) != 0 || b.rfind("next=", 0) != 0) return std::nullopt;
  auto oldest = util::Date::parse(a.substr(7));
  auto next = util::Date::parse(b.substr(5));
  if (!oldest || !next) return std::nullopt;
  return BackfillProgress{*oldest, *next};
}

}  // namespace cce::ingest
