#include <doctest/doctest.h>

#include "cce/usage/model_id.h"
#include "cce/util/civil_date.h"
#include "cce/util/duration.h"
#include "cce/util/strings.h"

using namespace cce;

TEST_CASE("Date parses both Admin API forms and formats back") {
  CHECK(util::Date::parse("2026-11-22")->str() == "2026-11-22");
  CHECK(util::Date::parse("2025-08-08T00:00:00Z")->str() == "2025-08-08");
  CHECK(util::Date::parse("2024-02-29")->str() == "2024-02-29");
  CHECK_FALSE(util::Date::parse("2023-02-29"));
  CHECK_FALSE(util::Date::parse("2026-13-01"));
  CHECK_FALSE(util::Date::parse("2026-11-2"));
  CHECK_FALSE(util::Date::parse("yesterday"));
  CHECK(util::Date::parse("1970-01-01")->days == 0);
  CHECK(util::Date::parse("1969-12-31")->days == -1);
}

TEST_CASE("Date from Unix nanoseconds is the UTC day") {
  // 1795314293562000000 ns is 2026-11-22T02:24:53.562Z (a fixture timestamp).
  CHECK(util::Date::from_unix_nanos(1795314293562000000LL).str() == "2026-11-22");
  CHECK(util::Date::from_unix_nanos(0).str() == "1970-01-01");
  CHECK(util::Date::from_unix_nanos(-1).str() == "1969-12-31");
}

TEST_CASE("RFC 3339 timestamps") {
  CHECK(*util::parse_rfc3339_nanos("2026-11-22T02:25:13.527Z") == 1795314313527000000LL);
  CHECK(*util::parse_rfc3339_nanos("2026-11-22T03:25:13.527+01:00") == 1795314313527000000LL);
  CHECK_FALSE(util::parse_rfc3339_nanos("2026-11-22T02:25:13"));  // no zone
  CHECK_FALSE(util::parse_rfc3339_nanos("2026-11-22T25:00:00Z"));
}

TEST_CASE("durations") {
  CHECK(util::parse_duration("15m")->count() == 15 * 60 * 1000);
  CHECK(util::parse_duration("1h30m")->count() == 90 * 60 * 1000);
  CHECK(util::parse_duration("250ms")->count() == 250);
  CHECK(util::parse_duration("0")->count() == 0);
  CHECK_FALSE(util::parse_duration("15"));
  CHECK_FALSE(util::parse_duration("fast"));
  CHECK(util::format_duration(std::chrono::milliseconds(90 * 60 * 1000)) == "1h30m");
}

TEST_CASE("model ids are normalized to the first-party id") {
  CHECK(usage::normalize_model_id("claude-opus-4-6[1m]") == "claude-opus-4-6");
  CHECK(usage::normalize_model_id("claude-opus-5-5") == "claude-opus-5-5");
  CHECK(usage::normalize_model_id("Claude-Sonnet-5") == "claude-sonnet-5");
  CHECK(usage::normalize_model_id("anthropic.claude-sonnet-4-5-20250929-v1:0") ==
        "claude-sonnet-4-5-20250929");
  CHECK(usage::normalize_model_id("us.anthropic.claude-sonnet-4-5-20250929-v1:0") ==
        "claude-sonnet-4-5-20250929");
  CHECK(usage::normalize_model_id("global.anthropic.claude-opus-4-6-v1") == "claude-opus-4-6");
  CHECK(usage::normalize_model_id("claude-sonnet-4-5@20250929") == "claude-sonnet-4-5-20250929");
}

TEST_CASE("well-formed UTF-8, as protobuf string fields require") {
  using cce::util::valid_utf8;
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain ascii, longer than eight bytes"));
  CHECK(valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // 2, 3 and 4 bytes
  CHECK(valid_utf8("\xf4\x8f\xbf\xbf"));                           // U+10FFFF
  CHECK_FALSE(valid_utf8("\xc0\xaf"));                             // overlong '/'
  CHECK_FALSE(valid_utf8("\xe0\x80\xaf"));                         // overlong, 3 bytes
  CHECK_FALSE(valid_utf8("\xed\xa0\x80"));                         // a surrogate
  CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));                     // past U+10FFFF
  CHECK_FALSE(valid_utf8("ascii then \xc3"));                      // cut short
  CHECK_FALSE(valid_utf8("\xc3\x28"));                             // not a continuation
  CHECK_FALSE(valid_utf8("\x80"));                                 // a lone continuation
  CHECK_FALSE(valid_utf8("\xff"));
}
