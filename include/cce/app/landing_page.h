#pragma once

#include <cstddef>
#include <string>

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
  bool admin_polling = false;
  std::string admin_base_url;
  double admin_last_success = 0;
  double admin_newest_date = 0;
  double admin_backfill_remaining = 0;
};

// The small HTML page served at "/": version, sources and their state, links.
std::string render_landing_page(const LandingInfo& info);

}  // namespace cce::app
