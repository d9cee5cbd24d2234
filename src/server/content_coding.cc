#include "cce/server/content_coding.h"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

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

GzipWriter::GzipWriter(int level) : zs_(std::make_unique<z_stream>()) {
  if (deflateInit2(zs_.get(), level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip: cannot start a stream at level " + std::to_string(level));
  }
}

GzipWriter::~GzipWriter() {
  deflateEnd(zs_.get());
}

void GzipWriter::deflate_some(std::string_view in, int flush) {
  zs_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs_->avail_in = static_cast<uInt>(in.size());
  do {
    // Room for what this piece can become (and what deflate still holds), so one call usually
    // takes it all.
    const size_t used = out_.size();
    out_.resize(used + std::max<size_t>(deflateBound(zs_.get(), zs_->avail_in), 64 * 1024));
    zs_->next_out = reinterpret_cast<Bytef*>(out_.data() + used);
    zs_->avail_out = static_cast<uInt>(out_.size() - used);
    const int rc = deflate(zs_.get(), flush);
    out_.resize(out_.size() - zs_->avail_out);
    // With room to write, only a broken stream makes no progress: never loop on it.
    if (rc == Z_STREAM_ERROR) throw std::runtime_error("gzip: the stream is broken");
  } while (zs_->avail_in > 0 || (flush == Z_FINISH && zs_->avail_out == 0));
}

void GzipWriter::write(std::string_view in) {
  deflate_some(in, Z_NO_FLUSH);
}

std::string GzipWriter::finish() && {
  deflate_some({}, Z_FINISH);
  out_.shrink_to_fit();
  return std::move(out_);
}

std::string gzip_compress(std::string_view in, int level) {
  GzipWriter w(level);
  w.write(in);
  return std::move(w).finish();
}

}  // namespace cce::server
