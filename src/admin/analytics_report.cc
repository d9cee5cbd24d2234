#include "cce/admin/analytics_report.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cce/usage/model_id.h"
#include "cce/util/strings.h"
#include "src/admin/json_fields.h"

namespace cce::admin {
namespace {

using nlohmann::json;
using usage::Quantity;
using namespace json_fields;

// A row's email, or nullopt for rows that are not a person's (service accounts, group rows,
// deleted accounts whose email is gone). Cost and usage rows name it `email` in the docs and
// `email_address` in newer SDKs; /users rows `user.email_address`.
std::optional<std::string> user_email(const json& actor) {
  if (!actor.is_object()) return std::nullopt;
  const std::string type = actor.value("type", "user_actor");
  if (type != "user_actor" && type != "user") return std::nullopt;
  for (const char* key : {"email_address", "email"}) {
    auto it = actor.find(key);
    if (it != actor.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      return util::lower(it->get<std::string>());
    }
  }
  return std::nullopt;
}

// A decimal amount: the APIs send money as strings ("41280.000000", cents).
double decimal(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return 0;
  if (it->is_number()) return number(obj, key, where);
  if (!it->is_string()) throw RecordError{where + "." + key + " is not a decimal string"};
  const std::string& text = it->get_ref<const std::string&>();
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || v < 0) {
    throw RecordError{where + "." + key + " \"" + text + "\" is not a non-negative decimal"};
  }
  return v;
}

struct Adder {
  const usage::ActorId& actor;
  util::Date day;
  const usage::ValueLimits& limits;
  std::vector<usage::Observation>& out;
  void operator()(Quantity q, usage::LabelValues labels, double v) const {
    if (auto e = usage::excess(q, v, limits)) throw RecordError{std::move(e->message)};
    out.push_back(usage::Observation{actor, day, q, std::move(labels), v});
  }
};

void parse_users_row(const json& row, const usage::ActorId& actor, util::Date day,
                     const usage::ValueLimits& limits, std::vector<usage::Observation>& out) {
  std::vector<usage::Observation> obs;
  Adder add{actor, day, limits, obs};
  const json& cc = object(row, "claude_code_metrics", "", false);
  const json& core = object(cc, "core_metrics", "claude_code_metrics", false);
  const std::string where = "claude_code_metrics.core_metrics";
  add(Quantity::kSessions, {}, number(core, "distinct_session_count", where));
  const json& loc = object(core, "lines_of_code", where, false);
  add(Quantity::kLinesAdded, {}, number(loc, "added_count", where + ".lines_of_code"));
  add(Quantity::kLinesRemoved, {}, number(loc, "removed_count", where + ".lines_of_code"));
  add(Quantity::kCommits, {}, number(core, "commit_count", where));
  add(Quantity::kPullRequests, {}, number(core, "pull_request_count", where));
  for (const auto& [key, counts] :
       object(cc, "tool_actions", "claude_code_metrics", false).items()) {
    const std::string at = "claude_code_metrics.tool_actions." + key;
    if (!counts.is_object()) throw RecordError{at + " is not an object"};
    const std::string tool = tool_label(key);
    add(Quantity::kToolDecisions, usage::join_labels({tool, "accepted"}),
        number(counts, "accepted_count", at));
    add(Quantity::kToolDecisions, usage::join_labels({tool, "rejected"}),
        number(counts, "rejected_count", at));
  }
  out.insert(out.end(), std::make_move_iterator(obs.begin()), std::make_move_iterator(obs.end()));
}

void parse_report_row(const json& row, ReportKind kind, const usage::ActorId& actor, util::Date day,
                      const usage::ValueLimits& limits, std::vector<usage::Observation>& out) {
  if (auto it = row.find("starting_at"); it != row.end() && it->is_string()) {
    const auto start = util::parse_time_point(it->get<std::string>());
    if (!start) throw RecordError{"starting_at \"" + it->get<std::string>() + "\" is not RFC 3339"};
    if (util::Date::from_time(*start) != day) {
      throw RecordError{"starting_at " + it->get<std::string>() + " is not in the requested day " +
                        day.str()};
    }
  }
  std::string model = "unknown";  // rows not tied to a model (e.g. code execution)
  if (auto it = row.find("model");
      it != row.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
    model = usage::normalize_model_id(it->get<std::string>());
  }
  std::vector<usage::Observation> obs;
  Adder add{actor, day, limits, obs};
  if (kind == ReportKind::kCost) {
    const std::string currency = row.value("currency", "USD");
    if (currency != "USD") throw RecordError{"currency is " + currency + ", not USD"};
    add(Quantity::kCostUsd, usage::join_labels({model}), decimal(row, "amount", "") / 100.0);
  } else {
    add(Quantity::kTokens, usage::join_labels({model, "input"}),
        number(row, "uncached_input_tokens", ""));
    add(Quantity::kTokens, usage::join_labels({model, "output"}), number(row, "output_tokens", ""));
    add(Quantity::kTokens, usage::join_labels({model, "cache_read"}),
        number(row, "cache_read_input_tokens", ""));
    const json& creation = object(row, "cache_creation", "", false);
    add(Quantity::kTokens, usage::join_labels({model, "cache_creation"}),
        number(creation, "ephemeral_5m_input_tokens", "cache_creation") +
            number(creation, "ephemeral_1h_input_tokens", "cache_creation"));
  }
  out.insert(out.end(), std::make_move_iterator(obs.begin()), std::make_move_iterator(obs.end()));
}

std::optional<json> parse_envelope(std::string_view body, PageError& error) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    error.message = "the response is not JSON: " + error_summary(body);
    return std::nullopt;
  }
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_array()) {
    error.message = "the response has no \"data\" array: " + error_summary(body);
    return std::nullopt;
  }
  return doc;
}

std::optional<std::string> cursor(const json& doc) {
  if (auto np = doc.find("next_page");
      np != doc.end() && np->is_string() && !np->get_ref<const std::string&>().empty()) {
    return np->get<std::string>();
  }
  return std::nullopt;
}

// Every row of a page: rows of a person (the email in row[who]) go to `parse`; rows that are
// nobody's are counted; a row that does not fit is skipped with its position.
template <typename Page, typename Parse>
void parse_rows(const json& rows, const char* who, Page& page, Parse&& parse) {
  size_t i = 0;
  for (const auto& row : rows) {
    ++page.records;
    try {
      if (!row.is_object()) throw RecordError{"not an object"};
      if (auto email = user_email(row.contains(who) ? row[who] : json())) {
        parse(row, usage::ActorId{usage::ActorType::kUser, *email});
      } else {
        ++page.non_user_rows;
      }
    } catch (const RecordError& e) {
      page.skipped.push_back("row " + std::to_string(i) + ": " + e.message);
    } catch (const json::exception& e) {
      page.skipped.push_back("row " + std::to_string(i) + ": " + e.what());
    }
    ++i;
  }
}

}  // namespace

std::variant<UsersPage, PageError> parse_users_page(std::string_view body, util::Date day,
                                                    const usage::ValueLimits& limits) {
  PageError error;
  auto doc = parse_envelope(body, error);
  if (!doc) return error;
  UsersPage page;
  page.next_page = cursor(*doc);
  parse_rows((*doc)["data"], "user", page, [&](const json& row, const usage::ActorId& actor) {
    parse_users_row(row, actor, day, limits, page.observations);
  });
  return page;
}

std::variant<ReportPage, PageError> parse_report_page(std::string_view body, ReportKind kind,
                                                      util::Date day,
                                                      const usage::ValueLimits& limits) {
  PageError error;
  auto doc = parse_envelope(body, error);
  if (!doc) return error;
  ReportPage page;
  auto has_more = doc->find("has_more");
  if (has_more == doc->end() || !has_more->is_boolean()) {
    return PageError{"the response has no boolean \"has_more\""};
  }
  page.has_more = has_more->get<bool>();
  page.next_page = cursor(*doc);
  if (page.has_more && !page.next_page) {
    return PageError{"has_more is true but next_page is missing"};
  }
  if (auto it = doc->find("organization_id"); it != doc->end() && it->is_string()) {
    page.organization_id = it->get<std::string>();
  }
  if (auto it = doc->find("data_refreshed_at"); it != doc->end() && it->is_string()) {
    page.data_refreshed_at = util::parse_time_point(it->get<std::string>());
  }
  parse_rows((*doc)["data"], "actor", page, [&](const json& row, const usage::ActorId& actor) {
    parse_report_row(row, kind, actor, day, limits, page.observations);
  });
  return page;
}

std::optional<util::Date> latest_available_day(std::string_view error_body, util::Date requested) {
  json doc = json::parse(error_body, nullptr, false);
  std::string message;
  if (!doc.is_discarded() && doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    message = doc["error"].value("message", "");
  } else {
    message = std::string(error_body.substr(0, 4096));
  }
  std::optional<util::Date> latest;
  for (size_t i = 0; i + 10 <= message.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(message[i]))) continue;
    const auto d = util::Date::parse(message.substr(i, 10));
    if (d && *d < requested && (!latest || *d > *latest)) latest = d;
  }
  return latest;
}

}  // namespace cce::admin
