#pragma once

#include <httplib.h>

#include <functional>
#include <string>

namespace cce::server {

struct StatusHandlers {
  std::function<std::string()> metrics_text;  // Prometheus text format
  std::function<std::string()> landing_html;
  // Empty when ready; otherwise why not (the /readyz answer, with 503).
  std::function<std::string()> not_ready_reason;
};

// GET /metrics, /, /healthz (alive), /readyz (store loaded and writable, listeners up).
void mount_status_routes(httplib::Server& server, StatusHandlers handlers);

}  // namespace cce::server
