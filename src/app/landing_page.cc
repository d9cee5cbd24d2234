#include "cce/app/landing_page.h"

#include <cstdio>
#include <ctime>

#include "cce/util/build_info.h"

namespace cce::app {
namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string when(double t, double now) {
  if (t <= 0) return "never";
  std::time_t secs = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  char ago[64];
  std::snprintf(ago, sizeof ago, " (%.0f s ago)", now - t);
  return std::string(buf) + ago;
}

}  // namespace

std::string render_landing_page(const LandingInfo& i) {
  std::string h;
  h += "<!doctype html><html><head><meta charset=\"utf-8\"><title>claude-code-exporter</title>";
  h += "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em 1em;text-align:left}"
       "</style></head><body>";
  h += "<h1>claude-code-exporter</h1>";
  h += "<p>Version " + escape(std::string(util::version())) + " (revision " +
       escape(std::string(util::revision())) + "), up since " + when(i.started_at, i.now) + "</p>";
  h += "<h2>Sources</h2><table><tr><th>source</th><th>state</th><th>last data</th></tr>";
  if (i.otlp_enabled) {
    h += "<tr><td>OpenTelemetry (OTLP/HTTP)</td><td>listening on " + escape(i.otlp_listen) +
         (i.otlp_auth ? ", bearer token required" : "") +
         "</td><td>metrics: " + when(i.last_metrics, i.now) +
         "<br>logs: " + when(i.last_logs, i.now) + "</td></tr>";
  } else {
    h += "<tr><td>OpenTelemetry (OTLP/HTTP)</td><td>disabled</td><td></td></tr>";
  }
  for (const auto& a : i.apis) {
    std::string newest = "none yet";
    if (a.newest_date > 0) {
      std::time_t d = static_cast<std::time_t>(a.newest_date);
      std::tm tm{};
      gmtime_r(&d, &tm);
      char buf[16];
      std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
      newest = buf;
    }
    std::string title = a.section == "admin_api" ? "Admin API" : "Enterprise Analytics API";
    if (a.name != a.section) title += " (" + a.name.substr(0, a.name.find('/')) + ")";
    h += "<tr><td>" + escape(title) + "</td><td>polling " + escape(a.base_url) +
         (a.backfill_remaining > 0
              ? ", backfill: " + std::to_string(static_cast<int>(a.backfill_remaining)) +
                    " days to go"
              : ", backfill complete") +
         "</td><td>last success: " + when(a.last_success, i.now) +
         "<br>newest date with data: " + newest + "</td></tr>";
  }
  if (i.apis.empty()) {
    h += "<tr><td>Organization API</td><td>not polling (no Admin or Enterprise Analytics key "
         "configured)</td><td></td></tr>";
  }
  h += "</table>";
  h += "<p>Actors known: " + std::to_string(i.actors) + ". Store: " + escape(i.store_path) + "</p>";
  h += "<ul><li><a href=\"/metrics\">/metrics</a></li><li><a href=\"/healthz\">/healthz</a></li>"
       "<li><a href=\"/readyz\">/readyz</a></li></ul></body></html>\n";
  return h;
}

}  // namespace cce::app
