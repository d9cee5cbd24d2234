#pragma once

#include <httplib.h>

#include <functional>
#include <string>

namespace cce::server {

struct StatusHandlers {
  std::function<std::string()> metrics_text;  // Prometheus text format
  std::function<std::string()> landing_html;
  std::function<bool()> ready;
};

// GET /metrics, /, /healthz (alive), /readyz (store loaded, listeners up).
void mount_status_routes(httplib::Server& server, StatusHandlers handlers);

}  // namespace cce::server
