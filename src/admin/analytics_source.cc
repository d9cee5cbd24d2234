#include "cce/admin/analytics_source.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <map>

namespace cce::admin {

namespace {

std::string rfc3339(util::Date d) {
  return d.str() + "T00:00:00Z";
}

const char* endpoint_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}

// Leaves out the people whose every value that day is zero.
void drop_idle_actors(std::vector<usage::Observation>& obs) {
  std::map<usage::ActorId, bool> active;
  for (const auto& o : obs)
    active[o.actor] = active[o.actor] || o.value != 0;
  std::erase_if(obs, [&](const usage::Observation& o) { return !active[o.actor]; });
}

}  // namespace

DayOutcome AnalyticsSource::refused(const HttpResult& r, const char* path, util::Date day,
                                    Requests& requests, DayFetch& out) {
  const std::string& name = requests.name();
  if (r.status == 400) {
    // A day the API has not finished yet is refused with the latest day it has.
    // Only a plausible lag: a stray date in an error message must not skip a month.
    if (auto latest = latest_available_day(r.body, day); latest && day - *latest <= 7) {
      out.latest_available = latest;
      spdlog::debug("{}: {}: not available yet (the latest day is {})", name, day.str(),
                    latest->str());
      return DayOutcome::kNotYet;
    }
    requests.metrics().failure("client_error");
    spdlog::error("{}: {} {}: 400 {}; the day is skipped", name, endpoint_name(path), day.str(),
                  requests.redact(error_summary(r.body)));
    return DayOutcome::kSkipped;
  }
  const bool auth = r.status == 401 || r.status == 403 || r.status == 404;
  requests.metrics().failure(auth ? "auth" : "client_error");
  if (auth) {
    // The docs and the support articles disagree on 401, 403 and 404 here: all three mean this
    // key cannot use this endpoint. Every request would fail alike; no retries.
    spdlog::error(
        "{}: {} {}: the key cannot read {} (it needs the read:analytics scope, and the "
        "organization's API access must be switched on). The primary owner creates such a key at "
        "claude.ai → "
        "Organization settings → API; polling pauses until the next cycle",
        name, r.status, requests.redact(error_summary(r.body)), path);
  } else {
    spdlog::error("{}: {} {} {}: the request was refused; polling pauses until the next cycle",
                  name, endpoint_name(path), r.status, requests.redact(error_summary(r.body)));
  }
  return DayOutcome::kHalted;
}

DayOutcome AnalyticsSource::fetch_users(util::Date day, Requests& requests, DayFetch& out) {
  CursorWalk walk(max_pages_per_day_);
  for (std::string cursor;;) {
    if (std::string stop = walk.next(cursor); !stop.empty()) {
      requests.metrics().failure(stop);
      spdlog::error(
          "{}: users {}: {}; the day is skipped", requests.name(), day.str(),
          CursorWalk::describe(stop, max_pages_per_day_, "enterprise_analytics.max_pages_per_day"));
      return DayOutcome::kSkipped;
    }
    QueryParams params{{"date", day.str()}, {"limit", std::to_string(kPageLimit)}};
    if (!cursor.empty()) params.emplace_back("page", cursor);
    std::optional<UsersPage> page;
    auto attempt = requests.get(
        "users " + day.str() + (cursor.empty() ? "" : " (next page)"),
        [&] { return api_.get(kUsersPath, params); },
        [&](const HttpResult& r) -> std::string {
          auto parsed = parse_users_page(r.body, day, limits_);
          if (auto* e = std::get_if<PageError>(&parsed)) return e->message;
          page = std::move(std::get<UsersPage>(parsed));
          return "";
        });
    if (attempt.state == Requests::State::kStopped) return DayOutcome::kStopped;
    if (attempt.state == Requests::State::kGaveUp) return DayOutcome::kGaveUp;
    if (attempt.result.status != 200) {
      return refused(attempt.result, kUsersPath, day, requests, out);
    }
    for (const auto& s : page->skipped)
      spdlog::warn("{}: users {}: skipped {}", requests.name(), day.str(), requests.redact(s));
    requests.metrics().records_skipped(page->skipped.size());
    requests.metrics().non_user_rows(page->non_user_rows);
    out.observations.insert(out.observations.end(),
                            std::make_move_iterator(page->observations.begin()),
                            std::make_move_iterator(page->observations.end()));
    if (!page->next_page) return DayOutcome::kStored;
    cursor = *page->next_page;
  }
}

DayOutcome AnalyticsSource::fetch_report(ReportKind kind, util::Date day, Requests& requests,
                                         DayFetch& out) {
  const char* path = kind == ReportKind::kCost ? kCostPath : kUsagePath;
  const char* what = endpoint_name(path);
  const util::TimePoint day_end = util::TimePoint(std::chrono::seconds((day + 1).unix_seconds()));
  for (int restarts = 0;; ++restarts) {
    std::vector<usage::Observation> collected;
    CursorWalk walk(max_pages_per_day_);
    bool expired = false;
    for (std::string cursor;;) {
      if (std::string stop = walk.next(cursor); !stop.empty()) {
        requests.metrics().failure(stop);
        spdlog::error("{}: {} {}: {}; the day is skipped", requests.name(), what, day.str(),
                      CursorWalk::describe(stop, max_pages_per_day_,
                                           "enterprise_analytics.max_pages_per_day"));
        return DayOutcome::kSkipped;
      }
      // The same parameters on every page: a cursor is tied to its query.
      QueryParams params{{"starting_at", rfc3339(day)}, {"ending_at", rfc3339(day + 1)},
                         {"bucket_width", "1d"},        {"products[]", "claude_code"},
                         {"group_by[]", "model"},       {"limit", std::to_string(kPageLimit)}};
      if (!cursor.empty()) params.emplace_back("page", cursor);
      std::optional<ReportPage> page;
      auto attempt = requests.get(
          std::string(what) + " " + day.str() + (cursor.empty() ? "" : " (next page)"),
          [&] { return api_.get(path, params); },
          [&](const HttpResult& r) -> std::string {
            auto parsed = parse_report_page(r.body, kind, day, limits_);
            if (auto* e = std::get_if<PageError>(&parsed)) return e->message;
            page = std::move(std::get<ReportPage>(parsed));
            return "";
          });
      if (attempt.state == Requests::State::kStopped) return DayOutcome::kStopped;
      if (attempt.state == Requests::State::kGaveUp) return DayOutcome::kGaveUp;
      if (attempt.result.status == 410) {
        // The cursor expired after a data refresh: the report starts over at its first page.
        requests.metrics().failure("cursor_expired");
        expired = true;
        break;
      }
      if (attempt.result.status != 200) {
        return refused(attempt.result, path, day, requests, out);
      }
      if (page->data_refreshed_at && *page->data_refreshed_at < day_end) {
        // Exported only up to a time within the day: the day is not complete yet.
        return DayOutcome::kNotYet;
      }
      for (const auto& s : page->skipped)
        spdlog::warn("{}: {} {}: skipped {}", requests.name(), what, day.str(), requests.redact(s));
      requests.metrics().records_skipped(page->skipped.size());
      requests.metrics().non_user_rows(page->non_user_rows);
      if (out.organization_id.empty()) out.organization_id = page->organization_id;
      collected.insert(collected.end(), std::make_move_iterator(page->observations.begin()),
                       std::make_move_iterator(page->observations.end()));
      if (!page->has_more) break;
      cursor = *page->next_page;
    }
    if (!expired) {
      out.observations.insert(out.observations.end(), std::make_move_iterator(collected.begin()),
                              std::make_move_iterator(collected.end()));
      return DayOutcome::kStored;
    }
    if (restarts + 1 >= kMaxRestarts) {
      spdlog::error("{}: {} {}: the cursor expired {} times; the day is fetched again next cycle",
                    requests.name(), what, day.str(), kMaxRestarts);
      return DayOutcome::kGaveUp;
    }
    spdlog::warn("{}: {} {}: the cursor expired (410); starting the report over", requests.name(),
                 what, day.str());
  }
}

DayFetch AnalyticsSource::fetch_day(util::Date day, Requests& requests) {
  DayFetch out;
  // Engagement first: it is the last to be ready, so a recent day costs one request.
  out.outcome = fetch_users(day, requests, out);
  for (auto kind : {ReportKind::kCost, ReportKind::kUsage}) {
    if (out.outcome != DayOutcome::kStored) break;
    out.outcome = fetch_report(kind, day, requests, out);
  }
  if (out.outcome != DayOutcome::kStored) {
    out.observations.clear();
    return out;
  }
  drop_idle_actors(out.observations);
  return out;
}

}  // namespace cce::admin
