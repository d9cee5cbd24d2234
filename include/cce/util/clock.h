#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace cce::util {

using TimePoint = std::chrono::system_clock::time_point;

// Everything that depends on the time of day asks a Clock, so tests can pin "now".
// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// Real time shifted by a fixed offset: "--now=2026-11-22T12:00:00Z" starts the agent at that
// instant and lets time run on from there (used to replay recorded telemetry).
class OffsetClock final : public Clock {
 public:
  explicit OffsetClock(TimePoint start) : offset_(start - std::chrono::system_clock::now()) {}
  TimePoint now() const override { return std::chrono::system_clock::now() + offset_; }

 private:
  std::chrono::system_clock::duration offset_;
};

// A clock that moves only when told to (unit tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : ns_(to_ns(start)) {}
  TimePoint now() const override {
    return TimePoint(std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::nanoseconds(ns_.load())));
  }
  void set(TimePoint t) { ns_.store(to_ns(t)); }
  void advance(std::chrono::nanoseconds d) { ns_.fetch_add(d.count()); }

 private:
  static int64_t to_ns(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  std::atomic<int64_t> ns_;
};

inline double to_unix_seconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
inline int64_t to_unix_nanos(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace cce::util
