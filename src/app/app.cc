#include "cce/app/app.h"

#include <spdlog/spdlog.h>

#include "cce/admin/analytics_source.h"
#include "cce/admin/client.h"
#include "cce/admin/poller.h"
#include "cce/admin/spend_limits_poll.h"
#include "cce/admin/usage_report_source.h"
#include "cce/app/landing_page.h"
#include "cce/ingest/persistence.h"
#include "cce/ingest/pipeline.h"
#include "cce/metrics/agent_metrics.h"
#include "cce/metrics/exposition.h"
#include "cce/metrics/usage_collector.h"
#include "cce/server/exposition_cache.h"
#include "cce/server/http_listener.h"
#include "cce/server/inflight_budget.h"
#include "cce/server/otlp_grpc_server.h"
#include "cce/server/otlp_http_server.h"
#include "cce/server/otlp_receiver.h"
#include "cce/server/status_routes.h"
#include "cce/store/store.h"
#include "cce/usage/ledger.h"
#include "cce/usage/otel_normalizer.h"
#include "cce/util/duration.h"

namespace cce::app {

namespace {

// The org label of a configured organization: its name when there are several, else "".
std::string org_label(const config::Config& c, const config::Config::Organization& o) {
  return c.organizations.size() > 1 ? o.name : "";
}

usage::LedgerOptions ledger_options(const config::Config& c) {
  usage::LedgerOptions o;
  for (const auto& org : c.organizations) {
    if (!org.organization_id.empty()) o.org_by_otel_id[org.organization_id] = org_label(c, org);
  }
  o.merge.otel_for_today = c.merge.otel_for_today;
  for (const auto& [model, price] : c.pricing.models)
    o.prices.set(model, price);
  o.cache_ttl = c.pricing.cache_write_ttl;
  o.max_actors = c.limits.max_actors;
  o.max_label_length = c.limits.max_label_length;
  o.max_label_values_per_actor = c.limits.max_label_values_per_actor;
  return o;
}

metrics::CollectorOptions collector_options(const config::Config& c,
                                            const usage::SpendLimits& spend_limits) {
  metrics::CollectorOptions o;
  o.spend_limits = &spend_limits;
  o.daily_window_days = c.exposition.daily_window_days;
  o.team_map = c.teams.map;
  o.actor_label = c.privacy.actor_label;
  o.hash_key = c.privacy.hash_key;
  o.budgets = c.budgets;
  o.org_label = c.organizations.size() > 1;
  for (const auto& org : c.organizations) {
    for (auto b : org.budgets) {
      if (b.scope == usage::Budget::Scope::kOrg) b.name = org.name;
      b.org = org_label(c, org);
      o.budgets.push_back(std::move(b));
    }
    if (!org.teams.empty()) o.org_team_maps[org_label(c, org)] = org.teams;
  }
  return o;
}

server::OtlpListenerOptions otlp_listener_options(const config::Config& c) {
  server::OtlpListenerOptions o;
  o.threads = c.otlp.threads;
  o.backlog = c.otlp.listen_backlog;
  o.max_connections = c.otlp.max_connections;
  o.max_connections_per_address = c.otlp.max_connections_per_address;
  o.idle_timeout = c.otlp.idle_timeout;
  o.request_timeout = c.otlp.request_timeout;
  o.write_timeout = c.http.write_timeout;
  o.max_header_bytes = c.otlp.max_header_bytes;
  o.tcp_nodelay = c.http.tcp_nodelay;
  return o;
}

// What a web config turns on, for the start-up log (never a secret).
std::string describe_web(const config::WebConfig& w) {
  std::string out;
  if (w.tls) {
    out += ", TLS (client_auth_type " + std::string(config::to_string(w.tls->client_auth)) + ")";
  }
  if (!w.basic_auth_users.empty()) {
    out += ", basic auth (" + std::to_string(w.basic_auth_users.size()) + " users)";
  }
  return out;
}

}  // namespace

struct App::Impl {
  Impl(config::Config c, std::shared_ptr<const util::Clock> clk)
      : config(std::move(c)),
        clock(std::move(clk)),
        ledger(ledger_options(config)),
        normalizer(
            config.identity,
            std::chrono::duration_cast<std::chrono::seconds>(config.otlp.dedupe_window).count(),
            std::chrono::duration_cast<std::chrono::seconds>(config.otlp.series_ttl).count(),
            config.store.retention_days, config.limits),
        collector(ledger, *clock, collector_options(config, spend_limits)),
        inflight(config.otlp.max_inflight_bytes, agent_metrics),
        metrics_listener(config.http, config.exposition.web, {"/healthz", "/readyz"}) {}

  config::Config config;
  std::shared_ptr<const util::Clock> clock;
  metrics::AgentMetrics agent_metrics;
  usage::SpendLimits spend_limits;  // before the collector, which reads it
  usage::Ledger ledger;
  usage::OtelNormalizer normalizer;
  metrics::UsageCollector collector;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<ingest::Pipeline> pipeline;
  // One per organization API source with a key: its client, what it reads, its poller.
  // The poller last: it is destroyed (and its thread joined) first.
  struct ApiPolling {
    std::string section;  // the source kind
    std::string name;
    std::string base_url;
    metrics::ApiSourceMetrics* metrics = nullptr;
    std::unique_ptr<admin::ApiClient> client;
    std::unique_ptr<admin::DaySource> source;
    std::unique_ptr<admin::SpendLimitsPoll> spend_limits;
    std::unique_ptr<admin::Poller> poller;
  };
  admin::OrganizationClaims organizations{config.organizations.empty()};
  std::vector<ApiPolling> api_polling;  // filled before the listeners start
  server::InflightBudget inflight;
  std::unique_ptr<server::ExpositionCache> exposition;
  std::unique_ptr<server::OtlpReceiver> otlp_receiver;
  std::unique_ptr<server::OtlpHttpServer> otlp_listener;
  std::unique_ptr<server::OtlpGrpcServer> grpc_listener;
  server::HttpListener metrics_listener;
  std::atomic<bool> ready{false};
  std::atomic<bool> started{false};
  double started_at = 0;
};

App::App(config::Config config, std::shared_ptr<const util::Clock> clock)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(clock))) {}

App::~App() {
  stop();
}

void App::start() {
  auto& m = *impl_;
  m.started_at = util::to_unix_seconds(m.clock->now());
  m.store = store::Store::open(m.config.store.path, m.config.store.synchronous);
  ingest::load(*m.store, m.ledger, m.normalizer);
  spdlog::info("store: {} (schema v{}), {} actors loaded", m.config.store.path,
               m.store->schema_version(), m.ledger.actor_count());
  m.pipeline = std::make_unique<ingest::Pipeline>(*m.store, m.ledger, m.normalizer, m.agent_metrics,
                                                  *m.clock, m.config.store.retention_days);
  m.pipeline->start();
  m.started = true;
  // Before the listeners: the status page reads api_polling without a lock.
  start_api_polling();
  m.exposition = std::make_unique<server::ExpositionCache>(
      [this] { return metrics::render(impl_->agent_metrics.registry(), impl_->collector); },
      *m.clock, m.config.exposition.min_render_interval);

  server::mount_status_routes(
      m.metrics_listener.server(),
      server::StatusHandlers{[this](bool gzip) { return impl_->exposition->get(gzip); },
                             [this] {
                               auto& s = *impl_;
                               LandingInfo info;
                               info.otlp_enabled = s.config.otlp.enabled;
                               info.otlp_listen = s.config.otlp.listen.str();
                               info.otlp_auth = !s.config.otlp.auth_tokens.empty();
                               info.started_at = s.started_at;
                               info.now = util::to_unix_seconds(s.clock->now());
                               info.last_metrics = s.agent_metrics.otlp_last_received("metrics");
                               info.last_logs = s.agent_metrics.otlp_last_received("logs");
                               info.actors = s.ledger.actor_count();
                               info.store_path = s.config.store.path;
                               for (const auto& p : s.api_polling) {
                                 info.apis.push_back(
                                     {p.section, p.name, p.base_url, p.metrics->last_success(),
                                      p.metrics->newest_date(), p.metrics->backfill_remaining()});
                               }
                               return render_landing_page(info);
                             },
                             [this]() -> std::string {
                               auto& s = *impl_;
                               // The store's problem first: it is what an operator must fix.
                               std::string problem = s.pipeline->store_problem();
                               if (!problem.empty() || s.ready) return problem;
                               return "starting or stopping";
                             }});
  m.metrics_listener.start(m.config.exposition.listen);
  spdlog::info("metrics: serving /metrics on {}://{}:{}{}",
               m.metrics_listener.tls() ? "https" : "http", m.config.exposition.listen.host,
               m.metrics_listener.port(), describe_web(m.config.exposition.web));

  if (m.config.otlp.enabled) {
    m.otlp_receiver = std::make_unique<server::OtlpReceiver>(
        *m.pipeline, m.agent_metrics,
        server::OtlpOptions{m.config.otlp.max_body_bytes, m.config.otlp.auth_tokens,
                            m.config.otlp.web.basic_auth_users});
    m.otlp_listener =
        std::make_unique<server::OtlpHttpServer>(otlp_listener_options(m.config), m.config.otlp.web,
                                                 *m.otlp_receiver, m.inflight, m.agent_metrics);
    m.otlp_listener->start(m.config.otlp.listen);
    if (m.config.otlp.grpc_enabled) {
      m.grpc_listener =
          std::make_unique<server::OtlpGrpcServer>(m.config.otlp.web, *m.otlp_receiver, m.inflight);
      m.grpc_listener->start(m.config.otlp.grpc_listen, m.config.otlp.grpc_threads);
      spdlog::info("otlp: receiving OTLP/gRPC on {}:{}{}", m.config.otlp.grpc_listen.host,
                   m.grpc_listener->port(), m.grpc_listener->tls() ? " (TLS)" : "");
    }
    spdlog::info("otlp: receiving OTLP/HTTP on {}://{}:{} (/v1/metrics, /v1/logs, /v1/traces){}{}",
                 m.otlp_listener->tls() ? "https" : "http", m.config.otlp.listen.host,
                 m.otlp_listener->port(),
                 m.config.otlp.auth_tokens.empty() ? "" : ", bearer token required",
                 describe_web(m.config.otlp.web));
  }
  m.ready = true;
}

void App::start_api_polling() {
  auto& m = *impl_;
  // What to poll: the [[organizations]] entries, else [admin_api] and [enterprise_analytics].
  struct Polled {
    std::string name;    // log prefix and backfill state key
    std::string source;  // admin_api | enterprise_analytics
    std::string org;     // the org label ("" with one organization)
    std::string owner;   // whose rows its days replace (ingest::ApiDayTarget)
    const config::Config::ApiSource* api;
    bool spend_limits;
    std::chrono::milliseconds spend_limits_interval;
  };
  std::vector<Polled> polled;
  const auto& c = m.config;
  if (c.organizations.empty()) {
    // The Admin API keeps the owner its rows had before sources were told apart.
    polled.push_back({"admin_api", "admin_api", "", "", &c.admin_api, false, {}});
    polled.push_back({"enterprise_analytics", "enterprise_analytics", "", "enterprise_analytics",
                      &c.enterprise_analytics, c.enterprise_analytics.spend_limits,
                      c.enterprise_analytics.spend_limits_interval});
  } else {
    for (const auto& o : c.organizations) {
      polled.push_back({o.name + "/" + o.source, o.source, org_label(c, o), o.name, &o.api,
                        o.source == "enterprise_analytics" && o.api.spend_limits,
                        o.api.spend_limits_interval});
    }
  }
  for (const Polled& what : polled) {
    const config::Config::ApiSource& a = *what.api;
    if (!a.polling()) {
      if (!a.enabled) {
        spdlog::info("{}: disabled (enabled = false)", what.name);
      } else if (what.name == "admin_api") {
        spdlog::info(
            "admin_api: not polling: no key (set ANTHROPIC_ADMIN_API_KEY or admin_api.key_file)");
      }
      continue;
    }
    Impl::ApiPolling p;
    p.section = what.source;
    p.name = what.name;
    p.base_url = a.base_url;
    p.metrics = &m.agent_metrics.api_source(what.source, what.org);
    p.client = std::make_unique<admin::ApiClient>(
        a.base_url, a.key, a.request_timeout, a.max_response_bytes,
        c.organizations.empty() ? what.source : "organizations (" + what.name + ")");
    admin::PollerOptions options;
    options.backfill_days = a.backfill_days;
    options.poll_interval = a.poll_interval;
    options.refresh_days = a.refresh_days;
    options.requests = {a.min_request_interval, a.retry_backoff, a.retry_backoff_max,
                        a.max_attempts, a.max_retry_after};
    if (what.source == "admin_api") {
      p.source =
          std::make_unique<admin::UsageReportSource>(*p.client, a.max_pages_per_day, c.limits);
    } else {
      p.source = std::make_unique<admin::AnalyticsSource>(*p.client, a.max_pages_per_day, c.limits);
      options.backfill_floor = admin::AnalyticsSource::kFirstDay;
    }
    p.poller =
        std::make_unique<admin::Poller>(what.name, options, *p.source, *m.pipeline, *p.metrics,
                                        *m.clock, a.key, &m.organizations, what.org, what.owner);
    if (what.spend_limits) {
      p.spend_limits = std::make_unique<admin::SpendLimitsPoll>(
          *p.client, m.spend_limits, what.org, a.max_pages_per_day, c.limits.max_actors);
      p.poller->add_task(what.spend_limits_interval,
                         [s = p.spend_limits.get()](admin::Requests& r) { return s->run(r); });
    }
    m.api_polling.push_back(std::move(p));
    m.api_polling.back().poller->start();
    spdlog::info("{}: polling {} every {} (key from {})", what.name, a.base_url,
                 util::format_duration(a.poll_interval), a.key_source);
  }
}

void App::stop() {
  auto& m = *impl_;
  if (!m.started.exchange(false)) return;
  m.ready = false;
  // Order matters: stop taking data, drain the writer, then close the store.
  if (m.otlp_listener) m.otlp_listener->stop();
  if (m.grpc_listener) m.grpc_listener->stop();
  for (auto& p : m.api_polling)
    p.poller->stop();
  if (m.pipeline) m.pipeline->stop();
  m.metrics_listener.stop();
  if (m.store) {
    m.store->checkpoint();
    m.store.reset();
  }
  spdlog::info("stopped; store flushed");
}

void App::reload_tls() {
  if (impl_->otlp_listener) impl_->otlp_listener->reload_tls();
  impl_->metrics_listener.reload_tls();
}

int App::otlp_port() const {
  return impl_->otlp_listener ? impl_->otlp_listener->port() : 0;
}
int App::grpc_port() const {
  return impl_->grpc_listener ? impl_->grpc_listener->port() : 0;
}
int App::metrics_port() const {
  return impl_->metrics_listener.port();
}

}  // namespace cce::app
