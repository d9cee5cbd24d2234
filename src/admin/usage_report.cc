#include "cce/admin/usage_report.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "cce/usage/identity.h"
#include "cce/usage/model_id.h"
#include "cce/util/strings.h"
#include "src/admin/json_fields.h"

namespace cce::admin {
namespace {

using nlohmann::json;
using usage::Quantity;
using namespace json_fields;

usage::ActorId actor_of(const json& rec) {
  const json& actor = object(rec, "actor", "", true);
  const std::string type = actor.value("type", "");
  if (type == "user_actor" || (type.empty() && actor.contains("email_address"))) {
    return {usage::ActorType::kUser, util::lower(string_field(actor, "email_address", "actor"))};
  }
  if (type == "api_actor" || (type.empty() && actor.contains("api_key_name"))) {
    return {usage::ActorType::kApiKey, string_field(actor, "api_key_name", "actor")};
  }
  throw RecordError{"actor.type \"" + type + "\" is neither user_actor nor api_actor"};
}

void parse_record(const json& rec, util::Date day, const usage::ValueLimits& limits,
                  std::vector<usage::Observation>& out) {
  if (!rec.is_object()) throw RecordError{"not an object"};
  const usage::ActorId actor = actor_of(rec);
  const std::string date_text = string_field(rec, "date", "");
  const auto date = util::Date::parse(date_text);
  if (!date) throw RecordError{"date \"" + date_text + "\" is neither YYYY-MM-DD nor RFC 3339"};
  if (*date != day) {
    throw RecordError{"date " + date->str() + " is not the requested day " + day.str()};
  }
  std::vector<usage::Observation> obs;
  auto add = [&](Quantity q, usage::LabelValues labels, double v) {
    if (auto e = usage::excess(q, v, limits)) throw RecordError{std::move(e->message)};
    obs.push_back(usage::Observation{actor, *date, q, std::move(labels), v});
  };

  const json& core = object(rec, "core_metrics", "", true);
  add(Quantity::kSessions, {}, number(core, "num_sessions", "core_metrics"));
  const json& loc = object(core, "lines_of_code", "core_metrics", false);
  add(Quantity::kLinesAdded, {}, number(loc, "added", "core_metrics.lines_of_code"));
  add(Quantity::kLinesRemoved, {}, number(loc, "removed", "core_metrics.lines_of_code"));
  add(Quantity::kCommits, {}, number(core, "commits_by_claude_code", "core_metrics"));
  add(Quantity::kPullRequests, {}, number(core, "pull_requests_by_claude_code", "core_metrics"));

  for (const auto& [key, counts] : object(rec, "tool_actions", "", false).items()) {
    if (!counts.is_object()) throw RecordError{"tool_actions." + key + " is not an object"};
    const std::string where = "tool_actions." + key;
    const std::string tool = tool_label(key);
    add(Quantity::kToolDecisions, usage::join_labels({tool, "accepted"}),
        number(counts, "accepted", where));
    add(Quantity::kToolDecisions, usage::join_labels({tool, "rejected"}),
        number(counts, "rejected", where));
  }

  if (auto it = rec.find("model_breakdown"); it != rec.end() && !it->is_null()) {
    if (!it->is_array()) throw RecordError{"model_breakdown is not an array"};
    size_t i = 0;
    for (const auto& m : *it) {
      const std::string where = "model_breakdown[" + std::to_string(i++) + "]";
      if (!m.is_object()) throw RecordError{where + " is not an object"};
      const std::string model = usage::normalize_model_id(string_field(m, "model", where));
      const json& tokens = object(m, "tokens", where, false);
      for (const auto& [api_key, label] :
           {std::pair{"input", "input"}, std::pair{"output", "output"},
            std::pair{"cache_read", "cache_read"}, std::pair{"cache_creation", "cache_creation"}}) {
        add(Quantity::kTokens, usage::join_labels({model, label}),
            number(tokens, api_key, where + ".tokens"));
      }
      const json& cost = object(m, "estimated_cost", where, false);
      if (!cost.empty()) {
        const std::string currency = cost.value("currency", "USD");
        if (currency != "USD") {
          throw RecordError{where + ".estimated_cost.currency is " + currency + ", not USD"};
        }
        // Minor units: cents.
        add(Quantity::kCostUsd, usage::join_labels({model}),
            number(cost, "amount", where + ".estimated_cost") / 100.0);
      }
    }
  }
  out.insert(out.end(), std::make_move_iterator(obs.begin()), std::make_move_iterator(obs.end()));
}

}  // namespace

std::variant<Page, PageError> parse_page(std::string_view body, util::Date day,
                                         const usage::ValueLimits& limits) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return PageError{"the response is not JSON: " + error_summary(body)};
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_array()) {
    return PageError{"the response has no \"data\" array: " + error_summary(body)};
  }
  Page page;
  auto has_more = doc.find("has_more");
  if (has_more == doc.end() || !has_more->is_boolean()) {
    return PageError{"the response has no boolean \"has_more\""};
  }
  page.has_more = has_more->get<bool>();
  if (auto np = doc.find("next_page"); np != doc.end() && np->is_string()) {
    page.next_page = np->get<std::string>();
  }
  if (page.has_more && !page.next_page) {
    return PageError{"has_more is true but next_page is missing"};
  }
  size_t i = 0;
  for (const auto& rec : doc["data"]) {
    ++page.records;
    if (page.organization_id.empty() && rec.is_object()) {
      if (auto o = rec.find("organization_id"); o != rec.end() && o->is_string()) {
        page.organization_id = o->get<std::string>();
      }
    }
    try {
      parse_record(rec, day, limits, page.observations);
    } catch (const RecordError& e) {
      page.skipped.push_back("record " + std::to_string(i) + ": " + e.message);
    } catch (const json::exception& e) {
      page.skipped.push_back("record " + std::to_string(i) + ": " + e.what());
    }
    ++i;
  }
  return page;
}

std::string error_summary(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_discarded() && doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    const auto& e = doc["error"];
    std::string s = e.value("type", "error");
    if (e.contains("message") && e["message"].is_string())
      s += ": " + e["message"].get<std::string>();
    if (doc.contains("request_id") && doc["request_id"].is_string()) {
      s += " (request_id " + doc["request_id"].get<std::string>() + ")";
    }
    return s;
  }
  std::string prefix(body.substr(0, 120));
  for (auto& c : prefix) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return "\"" + prefix + (body.size() > 120 ? "…" : "") + "\"";
}

}  // namespace cce::admin
