// /metrics renderings shared between scrapes, on a fake timeline.
#include "cce/server/exposition_cache.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "cce/server/content_coding.h"
#include "test_support.h"

using namespace cce;

namespace {

// A rendering whose text is `text`.
metrics::Snapshot rendering(std::string text) {
  metrics::SnapshotBuilder b(false);
  b.set_prefix(std::move(text));
  return std::move(b).finish();
}

std::string text_of(const server::ExpositionBody& body) {
  return body.snapshot->text();
}

}  // namespace

TEST_CASE("scrapes within min_render_interval share a rendering; later ones render anew") {
  util::ManualClock clock(test::fixture_noon());
  int n = 0;
  server::ExpositionCache cache([&] { return rendering("render " + std::to_string(++n) + "\n"); },
                                clock, std::chrono::seconds(1));
  CHECK(text_of(cache.get(false)) == "render 1\n");
  clock.advance(std::chrono::milliseconds(900));
  CHECK(text_of(cache.get(false)) == "render 1\n");
  clock.advance(std::chrono::milliseconds(200));
  CHECK(text_of(cache.get(false)) == "render 2\n");
  CHECK(cache.renders() == 2);

  // The gzip form is the same text, made once per rendering.
  std::string plain;
  const auto gz = cache.get(true).gzip;
  REQUIRE(gz);
  CHECK(server::inflate(*gz, 1 << 20, plain, [](size_t) { return true; }) ==
        server::InflateResult::kOk);
  CHECK(plain == "render 2\n");
  CHECK(cache.get(true).gzip == gz);
  CHECK_FALSE(cache.get(false).gzip);
  CHECK(cache.renders() == 2);
}

TEST_CASE("with no interval, scrapes that wait for a rendering share the next one") {
  util::ManualClock clock(test::fixture_noon());
  std::atomic<int> n{0};
  std::atomic<bool> release{false};
  server::ExpositionCache cache(
      [&] {
        const int i = ++n;
        while (i == 1 && !release)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return rendering(std::to_string(i));
      },
      clock, std::chrono::milliseconds(0));
  std::string first, second, third;
  std::thread a([&] { first = text_of(cache.get(false)); });
  while (n == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // Two scrapes arrive while rendering 1 is under way: it is older than they are, so they get
  // a new one, and share it.
  clock.advance(std::chrono::milliseconds(1));
  std::thread b([&] { second = text_of(cache.get(false)); });
  std::thread c([&] { third = text_of(cache.get(false)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  clock.advance(std::chrono::milliseconds(1));
  release = true;
  a.join();
  b.join();
  c.join();
  CHECK(first == "1");
  CHECK(second == "2");
  CHECK(third == "2");
  CHECK(cache.renders() == 2);
  clock.advance(std::chrono::milliseconds(1));
  CHECK(text_of(cache.get(false)) == "3");
}
