#include "cce/admin/client.h"

#include <httplib.h>

#include <cstdlib>

#include "cce/util/build_info.h"

namespace cce::admin {

struct UsageReportClient::Impl {
  std::string base_url;
  std::string path_prefix;
  std::string api_key;
  std::unique_ptr<httplib::Client> http;
};

UsageReportClient::UsageReportClient(std::string base_url, std::string api_key,
                                     std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  while (!base_url.empty() && base_url.back() == '/')
    base_url.pop_back();
  // "https://host[:port][/prefix]": httplib takes scheme://host:port; a path prefix is ours.
  const auto scheme_end = base_url.find("://");
  const auto path_start = base_url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  impl_->base_url = path_start == std::string::npos ? base_url : base_url.substr(0, path_start);
  impl_->path_prefix = path_start == std::string::npos ? "" : base_url.substr(path_start);
  impl_->api_key = std::move(api_key);
  impl_->http = std::make_unique<httplib::Client>(impl_->base_url);
  const auto secs = static_cast<time_t>(timeout.count() / 1000);
  const auto usecs = static_cast<time_t>((timeout.count() % 1000) * 1000);
  impl_->http->set_connection_timeout(secs, usecs);
  impl_->http->set_read_timeout(secs, usecs);
  impl_->http->set_write_timeout(secs, usecs);
  impl_->http->set_keep_alive(true);
  impl_->http->enable_server_certificate_verification(true);
}

UsageReportClient::~UsageReportClient() = default;

HttpResult UsageReportClient::fetch(util::Date day, const std::string& cursor) {
  httplib::Params params{{"starting_at", day.str()}, {"limit", std::to_string(kPageLimit)}};
  if (!cursor.empty()) params.emplace("page", cursor);
  const std::string path = impl_->path_prefix + "/v1/organizations/usage_report/claude_code?" +
                           httplib::detail::params_to_query_str(params);
  httplib::Headers headers{{"x-api-key", impl_->api_key},
                           {"anthropic-version", "2023-06-01"},
                           {"User-Agent", std::string(util::user_agent())},
                           {"Accept", "application/json"}};
  HttpResult out;
  auto res = impl_->http->Get(path, headers);
  if (!res) {
    out.error = httplib::to_string(res.error());
    // A failed connection may be left in a bad state; start afresh next time.
    impl_->http->stop();
    return out;
  }
  out.status = res->status;
  out.body = std::move(res->body);
  const std::string ra = res->get_header_value("retry-after");
  if (!ra.empty()) {
    char* end = nullptr;
    const double v = std::strtod(ra.c_str(), &end);
    if (end != ra.c_str() && v >= 0) out.retry_after_seconds = v;
  }
  return out;
}

}  // namespace cce::admin
