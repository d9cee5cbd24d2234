#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "cce/config/web_config.h"
#include "cce/store/options.h"
#include "cce/usage/actor_label.h"
#include "cce/usage/budget.h"
#include "cce/usage/identity.h"
#include "cce/usage/limits.h"
#include "cce/usage/pricing.h"

namespace cce::config {

using std::chrono::milliseconds;

// Thrown for a bad file, unknown key, wrong type or bad value. what() names the key and says
// what is allowed; it is printed to the user as is.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ListenAddress {
  std::string host;
  int port = 0;
  std::string str() const;
};

// Every default lives here, and only here.
struct Config {
  struct Http {
    size_t max_connections = 512;  // worker threads of the metrics listener, grown on demand
    size_t min_threads = 4;
    milliseconds keep_alive_timeout{5000};
    size_t keep_alive_max_requests = 100;
    milliseconds read_timeout{10000};
    milliseconds write_timeout{10000};
    bool tcp_nodelay = true;
  } http;

  struct Otlp {
    bool enabled = true;
    ListenAddress listen{"127.0.0.1", 4318};
    bool grpc_enabled = true;
    ListenAddress grpc_listen{"127.0.0.1", 4317};
    // gRPC's completion queues, a thread each. gRPC polls all its sockets from one thread at a
    // time and hands the poll between threads through a condition variable: a second queue
    // cost about a third more CPU per call, for no throughput a 2-core host can use.
    int grpc_threads = 1;
    size_t max_body_bytes = 64u << 20;  // checked after decompression
    std::vector<std::string> auth_tokens;
    std::string auth_tokens_file;
    milliseconds dedupe_window{std::chrono::hours(1)};
    milliseconds series_ttl{std::chrono::hours(24)};
    // The OTLP/HTTP listener is event-driven: an idle keep-alive connection costs a socket and
    // a few kilobytes, not a thread. These bound what clients can hold.
    int threads = 2;
    int listen_backlog = 4096;
    size_t max_connections = 16384;
    size_t max_connections_per_address = 1024;
    size_t max_inflight_bytes = 256u << 20;  // bodies held at once, after decompression
    milliseconds idle_timeout{std::chrono::minutes(2)};
    milliseconds request_timeout{std::chrono::seconds(30)};  // headers and body together
    size_t max_header_bytes = 16u << 10;
    // HTTPS and basic auth (exporter-toolkit format); loaded by apply_environment.
    std::string web_config_file;
    WebConfig web;
  } otlp;

  struct Exposition {
    ListenAddress listen{"127.0.0.1", 14318};
    int daily_window_days = 3;
    // Scrapes within this long of the last rendering share it (scrapes queued behind a
    // rendering always share the next one).
    milliseconds min_render_interval{1000};
    std::string web_config_file;  // as otlp.web_config_file; /healthz and /readyz stay open
    WebConfig web;
  } exposition;

  struct Store {
    std::string path = "claude-code-exporter.db";
    store::Synchronous synchronous = store::Synchronous::kFull;
    int retention_days = 400;  // daily values older than this are dropped; counters keep them
  } store;

  usage::IdentityConfig identity;

  struct Merge {
    bool otel_for_today = false;
  } merge;

  struct Pricing {
    usage::CacheTtl cache_write_ttl = usage::CacheTtl::k5m;  // assumed TTL of cache writes
    std::map<std::string, usage::ModelPrice> models;         // overrides and additions
  } pricing;

  struct Teams {
    // Email (exact), "*@domain" / glob pattern, or API key name -> team.
    std::map<std::string, std::string> map;
  } teams;

  std::vector<usage::Budget> budgets;

  // Bounds on what clients and the Admin API can make the agent count (docs/operations.md).
  struct Limits : usage::ValueLimits {
    size_t max_actors = 10000;
  } limits;

  struct Privacy {
    usage::ActorLabelMode actor_label = usage::ActorLabelMode::kEmail;
    std::string hash_key_file;
    std::string hash_key;  // secret: CLAUDE_CODE_EXPORTER_PRIVACY_KEY or hash_key_file
  } privacy;

  // An organization API polled for per-user daily usage: the keys both sources share.
  struct ApiSource {
    bool enabled = true;  // poll when a key is configured
    std::string base_url = "https://api.anthropic.com";
    std::string key_file;
    int backfill_days = 365;
    milliseconds poll_interval{std::chrono::minutes(15)};
    int refresh_days = 3;
    milliseconds min_request_interval{1000};
    milliseconds request_timeout{30000};
    milliseconds retry_backoff{1000};
    milliseconds retry_backoff_max{std::chrono::minutes(2)};
    int max_attempts = 8;
    // Bounds on a misbehaving API (docs/operations.md): response size, pages per day, and the
    // longest retry-after honoured. request_timeout bounds each whole request.
    size_t max_response_bytes = 64u << 20;
    int max_pages_per_day = 1000;
    milliseconds max_retry_after{std::chrono::minutes(15)};
    // The key, from its environment variable or key_file (apply_environment). Secret: never
    // printed.
    std::string key;
    std::string key_source;
    bool polling() const { return enabled && !key.empty(); }
  };

  // The Admin API's Claude Code usage report (Console organizations; key sk-ant-admin…).
  ApiSource admin_api;

  // The Claude Enterprise Analytics API (claude.ai Enterprise organizations; key sk-ant-api01…
  // with read:analytics). Its data is revised for 30 days and it allows 60 requests a minute.
  struct EnterpriseAnalytics : ApiSource {
    EnterpriseAnalytics() {
      poll_interval = std::chrono::hours(1);
      refresh_days = 30;
    }
    // Members' real caps from the Spend Limits API, when the key has read:spend_limits.
    bool spend_limits = true;
    milliseconds spend_limits_interval{std::chrono::minutes(15)};
  } enterprise_analytics;

  // Several organizations in one agent: each [[organizations]] entry names one, its API source
  // and key, and its teams and budgets. Their data carries org="<name>" (with one entry, or with
  // [admin_api] / [enterprise_analytics] alone, org stays empty). The top-level sections' keys
  // are then not used.
  struct Organization {
    std::string name;
    std::string source = "enterprise_analytics";  // or "admin_api"
    std::string key_env;                          // the environment variable holding its key
    std::string organization_id;               // the organization.id its members' OTel data carries
    EnterpriseAnalytics api;                   // its source's keys (spend_limits: Enterprise only)
    std::map<std::string, std::string> teams;  // as teams.map, for its members
    std::vector<usage::Budget> budgets;        // as [budgets], for it
  };
  std::vector<Organization> organizations;

  struct Log {
    std::string level = "info";
  } log;
};

// Parses TOML text; `origin` names the file in messages. Strict: unknown keys are errors.
Config parse(const std::string& toml_text, const std::string& origin);
Config load_file(const std::string& path);

// Applies environment overrides for secrets (CLAUDE_CODE_EXPORTER_OTLP_AUTH_TOKENS,
// ANTHROPIC_ADMIN_API_KEY) and reads otlp.auth_tokens_file, admin_api.key_file and the web
// config files (checking their certificates and keys). Rejects a
// regular API key where the Admin key belongs. `getenv` is injectable for tests.
void apply_environment(Config& config, const std::function<const char*(const char*)>& getenv);

// The effective configuration as TOML, every section and key, secrets masked (for
// --check-config). Parsing and printing walk the same list of keys.
std::string to_toml(const Config& config);

ListenAddress parse_listen(const std::string& value, const std::string& key);

}  // namespace cce::config
