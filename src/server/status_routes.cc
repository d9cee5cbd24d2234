#include "cce/server/status_routes.h"

#include <spdlog/spdlog.h>

#include "cce/metrics/exposition.h"

namespace cce::server {

void mount_status_routes(httplib::Server& server, StatusHandlers handlers) {
  auto h = std::make_shared<const StatusHandlers>(std::move(handlers));
  server.Get("/metrics", [h](const httplib::Request&, httplib::Response& res) {
    try {
      res.set_content(h->metrics_text(), metrics::kTextContentType);
    } catch (const std::exception& e) {
      // A broken collector must not take the endpoint down silently.
      spdlog::error("metrics: rendering failed: {}", e.what());
      res.status = 500;
      res.set_content(std::string("rendering metrics failed: ") + e.what() + "\n", "text/plain");
    }
  });
  server.Get("/", [h](const httplib::Request&, httplib::Response& res) {
    res.set_content(h->landing_html(), "text/html; charset=utf-8");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Get("/readyz", [h](const httplib::Request&, httplib::Response& res) {
    const std::string reason = h->not_ready_reason();
    if (reason.empty()) {
      res.set_content("ready\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("not ready: " + reason + "\n", "text/plain");
    }
  });
}

}  // namespace cce::server
