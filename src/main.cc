// claude-code-exporter: a Prometheus exporter for Claude Code usage.
// main stays thin: flags, config, logging, then an App until SIGTERM/SIGINT.

#include <httplib.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "cce/app/app.h"
#include "cce/config/config.h"
#include "cce/util/build_info.h"
#include "cce/util/civil_date.h"

namespace {

const char* kUsage = R"(Usage: claude-code-exporter [flags]

  --config PATH        TOML configuration (see config.example.toml); defaults apply without it
  --check-config       validate the configuration, print the effective settings, exit
  --log-level LEVEL    trace, debug, info, warn, error, off (overrides log.level)
  --now TIME           start the clock at TIME (RFC 3339, e.g. 2026-11-22T12:00:00Z) and let it
                       run from there; for replaying recorded telemetry
  --healthcheck        GET /healthz of the configured exposition.listen; exit 0 if healthy
                       (for container HEALTHCHECKs: no curl needed)
  --version            print the version and exit
  --help               this text

Environment: CLAUDE_CODE_EXPORTER_OTLP_AUTH_TOKENS (comma-separated bearer tokens).
)";

int usage_error(const std::string& msg) {
  std::cerr << "claude-code-exporter: " << msg << "\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::string log_level;
  std::string now;
  bool check_only = false;
  bool healthcheck = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      if (arg == flag) {
        if (i + 1 >= argc) return std::nullopt;
        return std::string(argv[++i]);
      }
      return std::string(arg.substr(std::string(flag).size() + 1));
    };
    auto is = [&](const char* flag) {
      return arg == flag || arg.rfind(std::string(flag) + "=", 0) == 0;
    };
    if (arg == "--version") {
      std::cout << "claude-code-exporter " << cce::util::version() << " (revision "
                << cce::util::revision() << ")\n";
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--healthcheck") {
      healthcheck = true;
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (is("--config")) {
      auto v = value("--config");
      if (!v) return usage_error("--config needs a file path");
      config_path = *v;
    } else if (is("--log-level")) {
      auto v = value("--log-level");
      if (!v) return usage_error("--log-level needs a level");
      log_level = *v;
    } else if (is("--now")) {
      auto v = value("--now");
      if (!v) return usage_error("--now needs a time");
      now = *v;
    } else {
      return usage_error("unknown flag " + arg);
    }
  }

  cce::config::Config config;
  try {
    config = config_path.empty() ? cce::config::parse("", "(defaults)")
                                 : cce::config::load_file(config_path);
    if (!log_level.empty()) {
      // Validated by the same rule as log.level.
      cce::config::parse("[log]\nlevel = \"" + log_level + "\"\n", "--log-level");
      config.log.level = log_level;
    }
    cce::config::apply_environment(config, [](const char* name) { return std::getenv(name); });
  } catch (const cce::config::ConfigError& e) {
    std::cerr << "claude-code-exporter: config error: " << e.what() << "\n";
    return 1;
  }
  if (check_only) {
    std::cout << "# configuration OK" << (config_path.empty() ? " (built-in defaults)" : "") << "\n"
              << cce::config::to_toml(config);
    return 0;
  }

  if (healthcheck) {
    auto host = config.exposition.listen.host;
    if (host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
    // /healthz needs no password; over TLS the loopback certificate is not checked.
    std::unique_ptr<httplib::ClientImpl> client;
    if (config.exposition.web.tls) {
      auto ssl = std::make_unique<httplib::SSLClient>(host, config.exposition.listen.port);
      ssl->enable_server_certificate_verification(false);
      client = std::move(ssl);
    } else {
      client = std::make_unique<httplib::ClientImpl>(host, config.exposition.listen.port);
    }
    client->set_connection_timeout(3);
    client->set_read_timeout(3);
    auto res = client->Get("/healthz");
    if (res && res->status == 200) return 0;
    std::cerr << "claude-code-exporter: unhealthy: "
              << (res ? "status " + std::to_string(res->status) : httplib::to_string(res.error()))
              << "\n";
    return 1;
  }

  auto logger = spdlog::stderr_logger_mt("claude-code-exporter");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(config.log.level));

  std::shared_ptr<const cce::util::Clock> clock;
  if (!now.empty()) {
    auto t = cce::util::parse_time_point(now);
    if (!t) return usage_error("--now: \"" + now + "\" is not an RFC 3339 time");
    clock = std::make_shared<cce::util::OffsetClock>(*t);
    spdlog::warn("clock starts at {} (--now), not at the real time", now);
  } else {
    clock = std::make_shared<cce::util::SystemClock>();
  }

  // Block the stop signals before any thread starts, then wait for them here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<cce::app::App> app;
  try {
    spdlog::info("claude-code-exporter {} starting", cce::util::version());
    app = std::make_unique<cce::app::App>(config, clock);
    app->start();
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    if (app) app->stop();
    return 1;
  }
  int sig = 0;
  while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) {
    spdlog::info("received SIGHUP, reloading TLS certificates");
    app->reload_tls();
  }
  spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  app->stop();
  return 0;
}
