#include "cce/server/status_routes.h"

#include <spdlog/spdlog.h>

#include "cce/metrics/exposition.h"

namespace cce::server {

void mount_status_routes(httplib::Server& server, StatusHandlers handlers) {
  auto h = std::make_shared<const StatusHandlers>(std::move(handlers));
  server.Get("/metrics", [h](const httplib::Request& req, httplib::Response& res) {
    try {
      const bool gzip = req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos;
      const ExpositionBody body = h->metrics_body(gzip);
      if (body.gzip) {
        res.set_header("Content-Encoding", "gzip");
        // Sent as it is: no copy, and no second compression.
        res.set_content_provider(
            body.gzip->size(), metrics::kTextContentType,
            [gz = body.gzip](size_t offset, size_t length, httplib::DataSink& sink) {
              return sink.write(gz->data() + offset, std::min(length, gz->size() - offset));
            });
      } else {
        // Streamed from the snapshot in blocks: the whole text is never held.
        res.set_chunked_content_provider(
            metrics::kTextContentType, [snapshot = body.snapshot](size_t, httplib::DataSink& sink) {
              // Runs after the handler returned: a failure here ends this response only, and a
              // scraper that left stops the writing.
              try {
                if (!snapshot->write([&](std::string_view piece) {
                      return sink.write(piece.data(), piece.size());
                    })) {
                  return false;
                }
                sink.done();
                return true;
              } catch (const std::exception& e) {
                spdlog::error("metrics: sending /metrics failed: {}", e.what());
                return false;
              }
            });
      }
    } catch (const std::exception& e) {
      // A broken collector must not take the endpoint down silently.
      spdlog::error("metrics: rendering failed: {}", e.what());
      res.status = 500;
      res.set_content(std::string("rendering metrics failed: ") + e.what() + "\n", "text/plain");
    }
  });
  server.Get("/", [h](const httplib::Request&, httplib::Response& res) {
    res.set_content(h->landing_html(), "text/html; charset=utf-8");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Get("/readyz", [h](const httplib::Request&, httplib::Response& res) {
    const std::string reason = h->not_ready_reason();
    if (reason.empty()) {
      res.set_content("ready\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("not ready: " + reason + "\n", "text/plain");
    }
  });
}

}  // namespace cce::server
