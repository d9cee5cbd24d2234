#include "cce/server/content_coding.h"

#include <zlib.h>

#include <algorithm>

#include "cce/util/strings.h"

namespace cce::server {

std::optional<ContentCoding> parse_content_coding(std::string_view header) {
  const std::string c = util::lower(util::trim(header));
  if (c.empty() || c == "identity") return ContentCoding::kIdentity;
  if (c == "gzip" || c == "x-gzip") return ContentCoding::kGzip;
  if (c == "deflate") return ContentCoding::kDeflate;
  return std::nullopt;
}

InflateResult inflate(std::string_view in, size_t limit, std::string& out,
                      const std::function<bool(size_t)>& grow) {
  // Grown in steps, so the budget is asked for what a body really inflates to.
  constexpr size_t kStep = 256u << 10;
  z_stream zs{};
  // 15 + 32: a zlib or a gzip header, detected.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return InflateResult::kCorrupt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out.clear();
  size_t used = 0;
  InflateResult result = InflateResult::kOk;
  for (;;) {
    if (used == out.size()) {
      if (out.size() >= limit + 1) {
        result = InflateResult::kTooLarge;
        break;
      }
      // One byte past the limit tells "exactly the limit" from "more".
      const size_t step = std::min(kStep, limit + 1 - out.size());
      if (!grow(step)) {
        result = InflateResult::kRefused;
        break;
      }
      out.resize(out.size() + step);
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = static_cast<uInt>(out.size() - used);
    const int rc = ::inflate(&zs, Z_NO_FLUSH);
    used = out.size() - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (used > limit) result = InflateResult::kTooLarge;
      break;
    }
    if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs.avail_out == 0)) {
      result = InflateResult::kCorrupt;
      break;
    }
    if (zs.avail_in == 0 && zs.avail_out != 0) {  // input ended before the stream did
      result = InflateResult::kCorrupt;
      break;
    }
  }
  inflateEnd(&zs);
  out.resize(std::min(used, out.size()));
  return result;
}

std::string gzip_compress(std::string_view in, int level) {
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace cce::server
