#include "cce/admin/spend_limits_poll.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "cce/util/strings.h"
#include "src/admin/json_fields.h"

namespace cce::admin {
namespace {

using nlohmann::json;
using namespace json_fields;

// Minor units ("50000", "12050.5") to the currency's major unit.
double minor_units(const json& row, const char* key, int exponent) {
  const auto& v = row.at(key);
  double minor = 0;
  if (v.is_number()) {
    minor = v.get<double>();
  } else if (v.is_string()) {
    const std::string& text = v.get_ref<const std::string&>();
    char* end = nullptr;
    minor = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) {
      throw RecordError{std::string(key) + " \"" + text + "\" is not a decimal"};
    }
  } else {
    throw RecordError{std::string(key) + " is not a decimal string"};
  }
  if (!std::isfinite(minor) || minor < 0) throw RecordError{std::string(key) + " is negative"};
  return minor / std::pow(10.0, exponent);
}

}  // namespace

std::variant<SpendLimitsPage, PageError> parse_spend_limits_page(std::string_view body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return PageError{"the response is not JSON: " + error_summary(body)};
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_array()) {
    return PageError{"the response has no \"data\" array: " + error_summary(body)};
  }
  SpendLimitsPage page;
  if (auto np = doc.find("next_page");
      np != doc.end() && np->is_string() && !np->get_ref<const std::string&>().empty()) {
    page.next_page = np->get<std::string>();
  }
  size_t i = 0;
  for (const auto& row : doc["data"]) {
    ++page.records;
    try {
      if (!row.is_object()) throw RecordError{"not an object"};
      const json& actor = object(row, "actor", "", true);
      std::string email;
      if (actor.value("type", "") == "user_actor") {
        for (const char* key : {"email_address", "email"}) {
          if (auto it = actor.find(key); it != actor.end() && it->is_string()) {
            email = it->get<std::string>();
            if (!email.empty()) break;
          }
        }
      }
      if (email.empty()) {
        ++page.non_user_rows;
      } else {
        usage::SpendLimit limit;
        limit.actor = {usage::ActorType::kUser, util::lower(email)};
        limit.period = string_field(row, "period", "");
        limit.currency = string_field(row, "currency", "");
        const int exponent = usage::currency_exponent(limit.currency);
        if (row.contains("amount") && !row["amount"].is_null()) {
          limit.amount = minor_units(row, "amount", exponent);
        }
        if (row.contains("period_to_date_spend") && !row["period_to_date_spend"].is_null()) {
          limit.period_spend = minor_units(row, "period_to_date_spend", exponent);
        }
        page.rows.push_back(std::move(limit));
      }
    } catch (const RecordError& e) {
      page.skipped.push_back("row " + std::to_string(i) + ": " + e.message);
    } catch (const json::exception& e) {
      page.skipped.push_back("row " + std::to_string(i) + ": " + e.what());
    }
    ++i;
  }
  return page;
}

bool SpendLimitsPoll::run(Requests& requests) {
  const std::string& name = requests.name();
  std::vector<usage::SpendLimit> rows;
  std::set<usage::ActorId> members;
  size_t dropped = 0;
  CursorWalk walk(max_pages_);
  for (std::string cursor;;) {
    if (std::string stop = walk.next(cursor); !stop.empty()) {
      requests.metrics().failure(stop);
      spdlog::error("{}: spend limits: {}; the reading is dropped", name,
                    CursorWalk::describe(stop, max_pages_, "max_pages_per_day"));
      return true;
    }
    QueryParams params{{"limit", std::to_string(kPageLimit)}};
    if (!cursor.empty()) params.emplace_back("page", cursor);
    std::optional<SpendLimitsPage> page;
    auto attempt = requests.get(
        std::string("spend limits") + (cursor.empty() ? "" : " (next page)"),
        [&] { return api_.get(kPath, params); },
        [&](const HttpResult& r) -> std::string {
          auto parsed = parse_spend_limits_page(r.body);
          if (auto* e = std::get_if<PageError>(&parsed)) return e->message;
          page = std::move(std::get<SpendLimitsPage>(parsed));
          return "";
        });
    if (attempt.state != Requests::State::kAnswer) return true;  // the next reading tries again
    const HttpResult& r = attempt.result;
    if (r.status == 401 || r.status == 403 || r.status == 404) {
      // Not "auth": a key without this optional scope still reads usage (no unauthorized alert).
      requests.metrics().failure("spend_limits_unauthorized");
      spdlog::warn(
          "{}: spend limits: {} {}: the key cannot read spend caps (it needs the "
          "read:spend_limits scope); claude_code_spend_limit is not exposed. Add the scope to "
          "the key (claude.ai → Organization settings → API) and restart to expose them",
          name, r.status, requests.redact(error_summary(r.body)));
      return false;
    }
    if (r.status != 200) {
      requests.metrics().failure("client_error");
      spdlog::error("{}: spend limits: {} {}; tried again at the next reading", name, r.status,
                    requests.redact(error_summary(r.body)));
      return true;
    }
    for (const auto& s : page->skipped)
      spdlog::warn("{}: spend limits: skipped {}", name, requests.redact(s));
    requests.metrics().records_skipped(page->skipped.size());
    requests.metrics().non_user_rows(page->non_user_rows);
    for (auto& row : page->rows) {
      // Bounded like every other actor set: the series stay within limits.max_actors.
      if (members.size() >= max_members_ && !members.count(row.actor)) {
        ++dropped;
        continue;
      }
      members.insert(row.actor);
      rows.push_back(std::move(row));
    }
    if (!page->next_page) break;
    cursor = *page->next_page;
  }
  if (dropped) {
    spdlog::warn("{}: spend limits: {} rows of members beyond limits.max_actors ({}) dropped", name,
                 dropped, max_members_);
  }
  out_.replace(org_, std::move(rows));
  return true;
}

}  // namespace cce::admin
