#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>

#include "cce/server/exposition_cache.h"

namespace cce::server {

struct StatusHandlers {
  // The Prometheus text format, plain or gzip-compressed (shared: never copied per scrape).
  std::function<ExpositionBody(bool gzip)> metrics_body;
  std::function<std::string()> landing_html;
  // Empty when ready; otherwise why not (the /readyz answer, with 503).
  std::function<std::string()> not_ready_reason;
};

// GET /metrics, /, /healthz (alive), /readyz (store loaded and writable, listeners up).
void mount_status_routes(httplib::Server& server, StatusHandlers handlers);

}  // namespace cce::server
