#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cce/util/clock.h"

namespace cce::util {

// A UTC calendar day, stored as days since 1970-01-01. Cheap to copy, hash and order.
struct Date {
  int32_t days = 0;

  auto operator<=>(const Date&) const = default;
  Date operator+(int n) const { return Date{days + n}; }
  Date operator-(int n) const { return Date{days - n}; }
  int operator-(Date other) const { return days - other.days; }

  static Date from_unix_nanos(int64_t ns);
  static Date from_time(TimePoint t);
  // "YYYY-MM-DD", or an RFC 3339 timestamp whose date part is taken as UTC
  // ("2025-08-08T00:00:00Z"). Returns nullopt for anything else.
  static std::optional<Date> parse(std::string_view s);
  // Midnight UTC of this day.
  int64_t unix_seconds() const { return int64_t{days} * 86400; }
  std::string str() const;  // "YYYY-MM-DD"
};

// Parses an RFC 3339 / ISO 8601 UTC timestamp such as "2026-11-22T02:25:13.527Z" into Unix
// nanoseconds. Offsets other than Z are honoured. Returns nullopt when it does not fit.
std::optional<int64_t> parse_rfc3339_nanos(std::string_view s);

// Parses "2026-11-22T12:00:00Z" (or a date alone) into a time point.
std::optional<TimePoint> parse_time_point(std::string_view s);

}  // namespace cce::util
