#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace cce::app {

struct LandingInfo {
  bool otlp_enabled = false;
  std::string otlp_listen;
  bool otlp_auth = false;
  double started_at = 0;
  double now = 0;
  double last_metrics = 0;  // unix seconds, 0 = never
  double last_logs = 0;
  size_t actors = 0;
  std::string store_path;
  // The organization API sources being polled.
  struct Api {
    std::string section;  // "admin_api", "enterprise_analytics"
    std::string name;     // the section, or "<organization>/<section>"
    std::string base_url;
    double last_success = 0;
    double newest_date = 0;
    double backfill_remaining = 0;
  };
  std::vector<Api> apis;
};

// The small HTML page served at "/": version, sources and their state, links.
std::string render_landing_page(const LandingInfo& info);

}  // namespace cce::app
