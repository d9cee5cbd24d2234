#include "cce/admin/client.h"

#include <httplib.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "cce/util/build_info.h"

namespace cce::admin {

struct ApiClient::Impl {
  std::string section;
  std::string base_url;
  std::string path_prefix;
  std::string api_key;
  std::chrono::milliseconds timeout;
  size_t max_response_bytes;
  std::unique_ptr<httplib::Client> http;
};

ApiClient::ApiClient(std::string base_url, std::string api_key, std::chrono::milliseconds timeout,
                     size_t max_response_bytes, std::string section)
    : impl_(std::make_unique<Impl>()) {
  impl_->section = std::move(section);
  impl_->timeout = timeout;
  impl_->max_response_bytes = max_response_bytes;
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

ApiClient::~ApiClient() = default;

HttpResult ApiClient::get(const std::string& api_path, const QueryParams& params) {
  // In the given order (httplib::Params would sort them), each part percent-encoded.
  std::string path = impl_->path_prefix + api_path;
  char sep = '?';
  for (const auto& [k, v] : params) {
    path += sep;
    path += httplib::detail::encode_query_param(k) + "=" + httplib::detail::encode_query_param(v);
    sep = '&';
  }
  httplib::Headers headers{{"x-api-key", impl_->api_key},
                           {"anthropic-version", "2023-06-01"},
                           {"User-Agent", std::string(util::user_agent())},
                           {"Accept", "application/json"}};
  HttpResult out;
  // A per-read timeout does not bound a server that trickles bytes: a watchdog closes the
  // socket when the whole request has taken `timeout`.
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false, expired = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, impl_->timeout, [&] { return finished; })) {
      expired = true;
      impl_->http->stop();
    }
  });
  // Whatever happens below, the watchdog is told and joined (a joinable thread must not be
  // destroyed).
  struct Join {
    std::mutex& mu;
    std::condition_variable& cv;
    bool& finished;
    std::thread& t;
    ~Join() {
      {
        std::lock_guard lock(mu);
        finished = true;
      }
      cv.notify_one();
      if (t.joinable()) t.join();
    }
  };
  bool too_large = false;
  const size_t max = impl_->max_response_bytes;
  auto res = [&] {
    Join join{mu, cv, finished, watchdog};
    return impl_->http->Get(
        path, headers,
        [&](const httplib::Response& r) {
          const auto length = r.get_header_value<uint64_t>("Content-Length");
          if (length > max) too_large = true;
          return !too_large;
        },
        [&](const char* data, size_t n) {
          if (out.body.size() + n > max) {
            too_large = true;
            return false;
          }
          out.body.append(data, n);
          return true;
        });
  }();
  if (!res || expired || too_large) {
    out.body.clear();
    if (too_large) {
      out.reason = "too_large";
      out.error = "the response is larger than " + impl_->section + ".max_response_bytes (" +
                  std::to_string(max) + " bytes)";
    } else if (expired) {
      out.reason = "deadline";
      out.error = "no complete answer within " + impl_->section + ".request_timeout (" +
                  std::to_string(impl_->timeout.count()) + " ms)";
    } else {
      out.error = httplib::to_string(res.error());
    }
    // A failed connection may be left in a bad state; start afresh next time.
    impl_->http->stop();
    return out;
  }
  out.status = res->status;
  const std::string ra = res->get_header_value("retry-after");
  if (!ra.empty()) {
    char* end = nullptr;
    const double v = std::strtod(ra.c_str(), &end);
    if (end != ra.c_str() && v >= 0) out.retry_after_seconds = v;
  }
  return out;
}

}  // namespace cce::admin
