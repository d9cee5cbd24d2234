// Request body decompression: bombs stop at the limit, every byte is asked of the budget.
#include "cce/server/content_coding.h"

#include <doctest/doctest.h>
#include <zlib.h>

using namespace cce::server;

namespace {
// gzip (31 window bits) through the agent's own compressor; zlib (15) through zlib's one call.
std::string compress(const std::string& in, int window_bits) {
  if (window_bits == 31) return gzip_compress(in, 9);
  std::string out(compressBound(static_cast<uLong>(in.size())), '\0');
  uLongf n = static_cast<uLongf>(out.size());
  compress2(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(in.data()),
            static_cast<uLong>(in.size()), 9);
  out.resize(n);
  return out;
}
auto unlimited = [](size_t) { return true; };
}  // namespace

TEST_CASE("content codings are named case-insensitively; others are refused") {
  CHECK(parse_content_coding("") == ContentCoding::kIdentity);
  CHECK(parse_content_coding(" Identity ") == ContentCoding::kIdentity);
  CHECK(parse_content_coding("GZIP") == ContentCoding::kGzip);
  CHECK(parse_content_coding("deflate") == ContentCoding::kDeflate);
  CHECK_FALSE(parse_content_coding("zstd"));
  CHECK_FALSE(parse_content_coding("br"));
}

TEST_CASE("gzip and zlib bodies inflate to what was compressed") {
  std::string text;
  for (int i = 0; i < 100000; ++i)
    text += std::to_string(i * 7919 % 1000);
  for (int bits : {31, 15}) {
    std::string out;
    CHECK(inflate(compress(text, bits), 1 << 20, out, unlimited) == InflateResult::kOk);
    CHECK(out == text);
  }
  std::string exact;
  CHECK(inflate(compress(text, 31), text.size(), exact, unlimited) == InflateResult::kOk);
  CHECK(exact == text);
  CHECK(inflate(compress(text, 31), text.size() - 1, exact, unlimited) == InflateResult::kTooLarge);
}

TEST_CASE("a gzip bomb stops at the limit, holding no more than the limit and one step") {
  const std::string bomb = compress(std::string(256u << 20, '\0'), 31);  // 256 MiB of zeros
  size_t asked = 0;
  std::string out;
  CHECK(inflate(bomb, 4u << 20, out, [&](size_t n) {
          asked += n;
          return true;
        }) == InflateResult::kTooLarge);
  CHECK(asked <= (4u << 20) + 1);
  CHECK(out.size() <= (4u << 20) + 1);
}

TEST_CASE("the budget can refuse growth; corrupt and truncated streams are named") {
  const std::string body = compress(std::string(2u << 20, 'a'), 31);
  std::string out;
  size_t granted = 0;
  CHECK(inflate(body, 8u << 20, out, [&](size_t n) {
          if (granted + n > (1u << 20)) return false;
          granted += n;
          return true;
        }) == InflateResult::kRefused);
  CHECK(granted <= (1u << 20));
  CHECK(inflate("this is not gzip", 1 << 20, out, unlimited) == InflateResult::kCorrupt);
  CHECK(inflate(body.substr(0, body.size() / 2), 8u << 20, out, unlimited) ==
        InflateResult::kCorrupt);
}

TEST_CASE("a gzip stream written piece by piece inflates to the pieces joined") {
  std::string text;
  GzipWriter w;
  for (int i = 0; i < 200000; ++i) {
    const std::string line = "sample{i=\"" + std::to_string(i * 7919 % 100003) + "\"} 1\n";
    text += line;
    w.write(line);
  }
  const std::string gz = std::move(w).finish();
  CHECK(gz.size() < text.size() / 2);
  std::string plain;
  CHECK(inflate(gz, text.size(), plain, [](size_t) { return true; }) == InflateResult::kOk);
  CHECK(plain == text);
  std::string none;
  CHECK(inflate(GzipWriter().finish(), 1, none, [](size_t) { return true; }) == InflateResult::kOk);
  CHECK(none.empty());
}

TEST_CASE("a gzip stream at a level zlib does not have is refused at once") {
  CHECK_THROWS_AS(GzipWriter(42), std::runtime_error);
}
