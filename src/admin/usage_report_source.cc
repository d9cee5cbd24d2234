#include "cce/admin/usage_report_source.h"

#include <spdlog/spdlog.h>

#include "cce/admin/usage_report.h"

namespace cce::admin {

DayFetch UsageReportSource::fetch_day(util::Date day, Requests& requests) {
  DayFetch out;
  CursorWalk walk(max_pages_per_day_);
  const std::string& name = requests.name();
  for (std::string cursor;;) {
    if (std::string stop = walk.next(cursor); !stop.empty()) {
      // The API is misbehaving for this day: skip it (a refresh tries it again next cycle) so
      // the days behind it are not held up.
      requests.metrics().failure(stop);
      spdlog::error("{}: {}: {}; the day is skipped", name, day.str(),
                    CursorWalk::describe(stop, max_pages_per_day_, "admin_api.max_pages_per_day"));
      out.outcome = DayOutcome::kSkipped;
      return out;
    }
    std::optional<Page> page;
    QueryParams params{{"starting_at", day.str()}, {"limit", std::to_string(kPageLimit)}};
    if (!cursor.empty()) params.emplace_back("page", cursor);
    auto attempt = requests.get(
        day.str() + (cursor.empty() ? "" : " (next page)"), [&] { return api_.get(kPath, params); },
        [&](const HttpResult& r) -> std::string {
          auto parsed = parse_page(r.body, day, limits_);
          if (auto* e = std::get_if<PageError>(&parsed)) return e->message;
          page = std::move(std::get<Page>(parsed));
          return "";
        });
    if (attempt.state == Requests::State::kStopped) {
      out.outcome = DayOutcome::kStopped;
      return out;
    }
    if (attempt.state == Requests::State::kGaveUp) return out;
    const HttpResult& r = attempt.result;
    if (r.status == 400) {
      // Bad parameters for this day (e.g. a date the API does not serve): skip the day.
      requests.metrics().failure("client_error");
      spdlog::error("{}: {}: 400 {}; the day is skipped", name, day.str(),
                    requests.redact(error_summary(r.body)));
      out.outcome = DayOutcome::kSkipped;
      return out;
    }
    if (r.status != 200) {
      // 401, 403, 402, 404 and other 4xx concern the key, the organization or the endpoint,
      // not this day: every request would fail alike, so the cycle stops here.
      const bool auth = r.status == 401 || r.status == 403;
      requests.metrics().failure(auth ? "auth" : "client_error");
      const char* why =
          r.status == 401   ? "the Admin API key is wrong, revoked or expired"
          : r.status == 403 ? "the key lacks admin rights (an Admin key, sk-ant-admin…, is "
                              "required) or the organization cannot use this endpoint"
          : r.status == 404 ? "the endpoint is not available for this organization (or "
                              "admin_api.base_url is wrong)"
          : r.status == 402 ? "the organization has a billing problem"
                            : "the request was refused";
      spdlog::error("{}: {} {}: {}; polling pauses until the next cycle", name, r.status,
                    requests.redact(error_summary(r.body)), why);
      out.outcome = DayOutcome::kHalted;
      return out;
    }
    for (const auto& s : page->skipped) {
      spdlog::warn("{}: {}: skipped {}", name, day.str(), requests.redact(s));
    }
    requests.metrics().records_skipped(page->skipped.size());
    if (out.organization_id.empty()) out.organization_id = page->organization_id;
    auto& obs = page->observations;
    out.observations.insert(out.observations.end(), std::make_move_iterator(obs.begin()),
                            std::make_move_iterator(obs.end()));
    if (!page->has_more) break;
    cursor = *page->next_page;
  }
  out.outcome = DayOutcome::kStored;
  return out;
}

}  // namespace cce::admin
