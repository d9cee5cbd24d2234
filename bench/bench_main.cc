// Benchmarks that print figures (medians of repeated runs; these machines are noisy):
//   decode   OTLP decode throughput, protobuf and JSON, of a recorded Claude Code export
//   ingest   OTLP requests/s and latency through the real HTTP server into a real SQLite store
//            (synchronous=full and normal), 4 concurrent keep-alive clients
//   scrape   GET /metrics (plain and gzip) over loopback with 10,000 actors x 3 days in the
//            ledger, against prometheus-cpp's family vector and serializer
// Usage: cce_bench [decode|ingest|scrape]...
#include <httplib.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cce/app/app.h"
#include "cce/config/config.h"
#include "cce/metrics/usage_collector.h"
#include "cce/otlp/decoder.h"
#include "cce/server/exposition_cache.h"
#include "cce/server/status_routes.h"
#include "cce/usage/ledger.h"
#include "cce/util/civil_date.h"

using namespace cce;
using Clock = std::chrono::steady_clock;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

long max_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

void bench_decode() {
  const std::string dir = std::string(CCE_TESTDATA_DIR) + "/claude-code/requests/";
  const std::string pb_metrics = read_file(dir + "pb-delta__0023_metrics.bin");
  const std::string json_metrics = read_file(dir + "json-delta__0007_metrics.json");
  // Logs exports are most of a fleet's requests (one every 5 s per developer).
  const std::string pb_logs = read_file(dir + "pb-delta__0017_logs.bin");
  using otlp::Encoding;
  auto metrics = [](const std::string& b, Encoding e) {
    return std::get<otlp::MetricsRequest>(otlp::decode_metrics(b, e)).point_count();
  };
  auto logs = [](const std::string& b, Encoding e) {
    return std::get<otlp::LogsRequest>(otlp::decode_logs(b, e)).record_count();
  };
  // The baseline: libprotobuf's message tree, then conversion.
  auto metrics_lib = [](const std::string& b, Encoding e) {
    return std::get<otlp::MetricsRequest>(otlp::decode_metrics_with_libprotobuf(b, e))
        .point_count();
  };
  auto logs_lib = [](const std::string& b, Encoding e) {
    return std::get<otlp::LogsRequest>(otlp::decode_logs_with_libprotobuf(b, e)).record_count();
  };
  struct Case {
    const char* name;
    const std::string* body;
    Encoding encoding;
    size_t (*decode)(const std::string&, Encoding);
    bool baseline = false;  // the protobuf cases after it print their ratio to it
  };
  double baseline = 0;
  for (const Case& c : {Case{"pb-lib", &pb_metrics, Encoding::kProtobuf, +metrics_lib, true},
                        Case{"protobuf", &pb_metrics, Encoding::kProtobuf, +metrics},
                        Case{"json", &json_metrics, Encoding::kJson, +metrics},
                        Case{"pb-logs-lib", &pb_logs, Encoding::kProtobuf, +logs_lib, true},
                        Case{"pb-logs", &pb_logs, Encoding::kProtobuf, +logs}}) {
    std::vector<double> rates;
    for (int run = 0; run < 7; ++run) {
      const int n = 2000;
      auto t = Clock::now();
      size_t items = 0;
      for (int i = 0; i < n; ++i)
        items += c.decode(*c.body, c.encoding);
      const double s = seconds_since(t);
      rates.push_back(n / s);
      if (items == 0) std::printf("nothing decoded?\n");
    }
    const double r = median(rates);
    std::printf("decode %-11s  %6zu bytes/request  median %8.0f requests/s  %7.1f MB/s", c.name,
                c.body->size(), r, r * static_cast<double>(c.body->size()) / 1e6);
    if (c.baseline) {
      baseline = r;
    } else if (c.encoding == Encoding::kProtobuf) {
      std::printf("  %.2fx libprotobuf", r / baseline);
    }
    std::printf("\n");
  }
}

// A delta export with its own timestamps, so every request is new data (no duplicates).
std::string export_body(const std::string& tmpl, long i) {
  std::string body = tmpl;
  const std::string from = "1795314293540000000";
  const std::string to = std::to_string(1795314293540000000L + i * 1000000L);
  for (size_t p = 0; (p = body.find(from, p)) != std::string::npos; p += to.size())
    body.replace(p, from.size(), to);
  return body;
}

void bench_ingest() {
  const std::string tmpl = read_file(std::string(CCE_TESTDATA_DIR) +
                                     "/claude-code/requests/json-delta__0007_metrics.json");
  for (const char* sync : {"full", "normal"}) {
    std::vector<double> rates, p50s, p99s;
    for (int run = 0; run < 3; ++run) {
      char dir[] = "/tmp/cce-bench-XXXXXX";
      mkdtemp(dir);
      auto config =
          config::parse(std::string("[store]\nsynchronous = \"") + sync + "\"\n", "bench");
      config.otlp.listen = {"127.0.0.1", 0};
      config.otlp.grpc_listen = {"127.0.0.1", 0};
      config.exposition.listen = {"127.0.0.1", 0};
      config.store.path = std::string(dir) + "/bench.db";
      auto clock =
          std::make_shared<util::OffsetClock>(*util::parse_time_point("2026-11-22T12:00:00Z"));
      app::App app(config, clock);
      app.start();
      const int clients = 4, per_client = 250;
      std::vector<std::vector<double>> latencies(clients);
      std::atomic<int> failures{0};
      auto t = Clock::now();
      std::vector<std::thread> threads;
      for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
          httplib::Client cli("127.0.0.1", app.otlp_port());
          cli.set_keep_alive(true);
          cli.set_tcp_nodelay(true);  // as Node.js (Claude Code) does
          for (int i = 0; i < per_client; ++i) {
            const std::string body = export_body(tmpl, run * 100000 + c * per_client + i);
            auto t0 = Clock::now();
            auto r = cli.Post("/v1/metrics", body, "application/json");
            latencies[c].push_back(seconds_since(t0) * 1000);
            if (!r || r->status != 200) ++failures;
          }
        });
      }
      for (auto& th : threads)
        th.join();
      const double s = seconds_since(t);
      app.stop();
      std::vector<double> all;
      for (auto& l : latencies)
        all.insert(all.end(), l.begin(), l.end());
      std::sort(all.begin(), all.end());
      rates.push_back(clients * per_client / s);
      p50s.push_back(all[all.size() / 2]);
      p99s.push_back(all[all.size() * 99 / 100]);
      if (failures) std::printf("  %d failed requests!\n", failures.load());
      std::system((std::string("rm -rf ") + dir).c_str());
    }
    std::printf(
        "ingest synchronous=%-6s 4 clients x 250 requests  median %6.0f requests/s  p50 %5.2f ms  "
        "p99 %6.2f ms\n",
        sync, median(rates), median(p50s), median(p99s));
  }
}

void bench_scrape() {
  usage::Ledger ledger;
  const util::Date today = *util::Date::parse("2026-11-22");
  const int actors = 10000;
  for (int d = 0; d < 3; ++d) {
    std::vector<usage::Observation> obs;
    std::vector<usage::Ledger::ActorTouch> touches;
    for (int a = 0; a < actors; ++a) {
      usage::ActorId id{usage::ActorType::kUser, "user" + std::to_string(a) + "@example.com"};
      auto o = [&](usage::Quantity q, std::string labels, double v) {
        obs.push_back({id, today - d, q, std::move(labels), v});
      };
      o(usage::Quantity::kCostUsd, "claude-opus-5", 1.5);
      for (const char* t : {"input", "output", "cache_read", "cache_creation"}) {
        o(usage::Quantity::kTokens, usage::join_labels({"claude-opus-5", t}), 1000);
      }
      o(usage::Quantity::kSessions, "", 2);
      o(usage::Quantity::kLinesAdded, "", 10);
      o(usage::Quantity::kToolDecisions, usage::join_labels({"edit", "accepted"}), 3);
      o(usage::Quantity::kActiveTime, "cli", 60);
      touches.push_back({id, "team" + std::to_string(a % 20), 1795314293});
    }
    ledger.apply(ledger.stage_otel(obs, touches, today));
  }
  util::ManualClock clock(*util::parse_time_point("2026-11-22T12:00:00Z"));
  metrics::UsageCollector collector(ledger, clock, metrics::CollectorOptions{});
  const long ledger_rss = max_rss_kib() / 1024;

  // /metrics as Prometheus and curl get it: the real route and rendering cache (no reuse: every
  // scrape renders anew) over loopback HTTP, the body read and dropped by the client.
  httplib::Server server;
  server::ExpositionCache cache([&] { return collector.snapshot(); }, clock,
                                std::chrono::milliseconds(0));
  server::mount_status_routes(
      server, server::StatusHandlers{[&](bool gzip) { return cache.get(gzip); },
                                     [] { return std::string(); }, [] { return std::string(); }});
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread listener([&] { server.listen_after_bind(); });
  while (!server.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto scrape = [&](bool gzip, size_t& bytes) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(600, 0);
    client.set_decompress(false);
    httplib::Headers headers;
    if (gzip) headers.emplace("Accept-Encoding", "gzip");
    bytes = 0;
    const auto t = Clock::now();
    auto res = client.Get("/metrics", headers, [&](const char*, size_t n) {
      bytes += n;
      return true;
    });
    if (!res || res->status != 200) {
      std::fprintf(stderr, "scrape failed\n");
      std::exit(1);
    }
    return seconds_since(t) * 1000;
  };
  std::vector<double> plain_times, gzip_times;
  size_t bytes = 0, gzip_bytes = 0;
  for (int i = 0; i < 5; ++i) {
    plain_times.push_back(scrape(false, bytes));
    gzip_times.push_back(scrape(true, gzip_bytes));
  }
  const long scrape_rss = max_rss_kib() / 1024;
  server.stop();
  listener.join();

  // bench/fleet.py pushes the same text to a pushgateway, to compare exposition side by side.
  if (const char* dump = std::getenv("CCE_SCRAPE_DUMP")) {
    std::ofstream(dump, std::ios::binary) << collector.snapshot().text();
  }
  // The baseline: prometheus-cpp's family vector and serializer over Collect().
  std::vector<double> family_times;
  size_t family_bytes = 0, series = 0;
  for (int i = 0; i < 5; ++i) {
    auto t = Clock::now();
    auto families = collector.Collect();
    series = 0;
    for (const auto& f : families)
      series += f.metric.size();
    family_bytes = prometheus::TextSerializer().Serialize(families).size();
    family_times.push_back(seconds_since(t) * 1000);
  }
  const auto per_series = [&](double ms) { return 1000 * ms / static_cast<double>(series); };
  std::printf(
      "scrape %d actors x 3 days (%zu series, %.1f MB, gzip %.1f MB): GET /metrics median %.1f ms "
      "(%.2f us/series), gzip %.1f ms (%.2f us/series); peak RSS %ld MiB (%ld MiB with the "
      "ledger alone); family vector + serializer %.1f ms (%.2f us/series), peak RSS %ld MiB; "
      "ratio %.2fx%s\n",
      actors, series, static_cast<double>(bytes) / 1e6, static_cast<double>(gzip_bytes) / 1e6,
      median(plain_times), per_series(median(plain_times)), median(gzip_times),
      per_series(median(gzip_times)), scrape_rss, ledger_rss, median(family_times),
      per_series(median(family_times)), max_rss_kib() / 1024,
      median(plain_times) / median(family_times), bytes == family_bytes ? "" : " (SIZES DIFFER)");
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  std::vector<std::string> which(argv + 1, argv + argc);
  if (which.empty()) which = {"decode", "ingest", "scrape"};
  for (const auto& w : which) {
    if (w == "decode")
      bench_decode();
    else if (w == "ingest")
      bench_ingest();
    else if (w == "scrape")
      bench_scrape();
    else {
      std::fprintf(stderr, "unknown benchmark %s (decode, ingest, scrape)\n", w.c_str());
      return 2;
    }
  }
  return 0;
}
