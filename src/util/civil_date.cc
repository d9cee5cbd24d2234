#include "cce/util/civil_date.h"

#include <charconv>
#include <cstdio>

namespace cce::util {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool read_int(std::string_view s, size_t pos, size_t len, int& out) {
  if (pos + len > s.size()) return false;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return r.ec == std::errc();
}

unsigned days_in_month(int y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

// Parses "YYYY-MM-DD" at the start of s.
std::optional<int64_t> parse_ymd(std::string_view s) {
  int y = 0, m = 0, d = 0;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (!read_int(s, 0, 4, y) || !read_int(s, 5, 2, m) || !read_int(s, 8, 2, d)) {
    return std::nullopt;
  }
  if (m < 1 || m > 12 || d < 1 || static_cast<unsigned>(d) > days_in_month(y, m)) {
    return std::nullopt;
  }
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

}  // namespace

Date Date::from_unix_nanos(int64_t ns) {
  int64_t secs = ns / 1000000000;
  if (ns < 0 && ns % 1000000000 != 0) --secs;
  int64_t days = secs / 86400;
  if (secs < 0 && secs % 86400 != 0) --days;
  return Date{static_cast<int32_t>(days)};
}

Date Date::from_time(TimePoint t) {
  return from_unix_nanos(to_unix_nanos(t));
}

std::optional<Date> Date::parse(std::string_view s) {
  if (s.size() == 10) {
    auto d = parse_ymd(s);
    if (!d) return std::nullopt;
    return Date{static_cast<int32_t>(*d)};
  }
  auto ns = parse_rfc3339_nanos(s);
  if (!ns) return std::nullopt;
  return from_unix_nanos(*ns);
}

std::string Date::str() const {
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::optional<int64_t> parse_rfc3339_nanos(std::string_view s) {
  auto days = parse_ymd(s);
  if (!days || s.size() < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')) {
    return std::nullopt;
  }
  int hh = 0, mm = 0, ss = 0;
  if (!read_int(s, 11, 2, hh) || s[13] != ':' || !read_int(s, 14, 2, mm) || s[16] != ':' ||
      !read_int(s, 17, 2, ss) || hh > 23 || mm > 59 || ss > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        frac_ns = frac_ns * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    while (digits < 9) {
      frac_ns *= 10;
      ++digits;
    }
  }
  int64_t offset_s = 0;
  if (pos == s.size()) return std::nullopt;  // RFC 3339 requires a zone
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    if (!read_int(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !read_int(s, pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  int64_t secs = *days * 86400 + hh * 3600 + mm * 60 + ss - offset_s;
  return secs * 1000000000 + frac_ns;
}

std::optional<TimePoint> parse_time_point(std::string_view s) {
  std::optional<int64_t> ns;
  if (s.size() == 10) {
    auto d = Date::parse(s);
    if (d) ns = d->unix_seconds() * 1000000000;
  } else {
    ns = parse_rfc3339_nanos(s);
  }
  if (!ns) return std::nullopt;
  return TimePoint(std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::nanoseconds(*ns)));
}

}  // namespace cce::util
