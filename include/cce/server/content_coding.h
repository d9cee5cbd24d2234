#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct z_stream_s;

namespace cce::server {

// HTTP Content-Encoding of a request body.
enum class ContentCoding { kIdentity, kGzip, kDeflate };

// The coding a Content-Encoding header names (case and spaces ignored; empty = identity);
// nullopt for one the agent does not take.
std::optional<ContentCoding> parse_content_coding(std::string_view header);

enum class InflateResult {
  kOk,
  kTooLarge,  // the output would pass `limit`
  kCorrupt,   // not a complete gzip or zlib stream
  kRefused,   // `grow` said no (the in-flight budget is spent)
};

// Decompresses a gzip or zlib body into `out`. Before the output grows by n bytes `grow(n)`
// is asked, so the caller can hold every byte against a budget; a bomb is stopped as soon as
// it passes `limit`, never inflated in full. Pure: no I/O.
InflateResult inflate(std::string_view in, size_t limit, std::string& out,
                      const std::function<bool(size_t)>& grow);

// A gzip stream made piece by piece (a /metrics body as it is written), kept in memory.
class GzipWriter {
 public:
  explicit GzipWriter(int level = 1);
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;
  void write(std::string_view in);
  std::string finish() &&;

 private:
  void deflate_some(std::string_view in, int flush);
  std::unique_ptr<z_stream_s> zs_;
  std::string out_;
};

// A gzip stream of `in`. Level 1 by default: a scrape body still shrinks ~10x, at a fraction of
// the default level's time.
std::string gzip_compress(std::string_view in, int level = 1);

}  // namespace cce::server
