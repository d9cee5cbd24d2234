#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace cce::util {

using TimePoint = std::chrono::system_clock::time_point;
// For intervals and deadlines: never jumps when the wall clock is set.
using MonoTime = std::chrono::steady_clock::time_point;

// Wakes sleepers when a component stops.
class StopSignal {
 public:
  void request() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
  }
  bool requested() const {
    std::lock_guard lock(mu_);
    return stop_;
  }
  // Waits until the deadline; false when stopped first.
  bool wait_until(MonoTime deadline) {
    std::unique_lock lock(mu_);
    return !cv_.wait_until(lock, deadline, [this] { return stop_; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

// Everything that depends on time asks a Clock: the time of day, monotonic time and sleeping,
// so tests run on a fake timeline. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  virtual MonoTime monotonic() const { return std::chrono::steady_clock::now(); }
  // Sleeps until `deadline` (monotonic) or until `stop` is requested; false when stopped.
  virtual bool sleep_until(MonoTime deadline, StopSignal& stop) const {
    return stop.wait_until(deadline);
  }
  bool sleep_for(std::chrono::nanoseconds d, StopSignal& stop) const {
    return sleep_until(monotonic() + std::chrono::duration_cast<MonoTime::duration>(d), stop);
  }
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

// A clock that moves only when told to, or when someone sleeps on it (unit tests: a fake
// timeline). Sleeping jumps to the deadline at once; a sleep past the horizon (end_at) ends
// the timeline there and reports "stopped", so a loop under test returns.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : ns_(to_ns(start)) {}
  TimePoint now() const override {
    return TimePoint(std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::nanoseconds(ns_.load())));
  }
  MonoTime monotonic() const override {
    return MonoTime(
        std::chrono::duration_cast<MonoTime::duration>(std::chrono::nanoseconds(ns_.load())));
  }
  bool sleep_until(MonoTime deadline, StopSignal& stop) const override {
    if (stop.requested()) return false;
    const int64_t target =
        std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    const int64_t end = end_ns_.load();
    if (end != 0 && target > end) {
      ns_.store(std::max(ns_.load(), end));
      return false;
    }
    if (target > ns_.load()) ns_.store(target);
    return true;
  }
  void set(TimePoint t) { ns_.store(to_ns(t)); }
  void advance(std::chrono::nanoseconds d) { ns_.fetch_add(d.count()); }
  void end_at(TimePoint t) { end_ns_.store(to_ns(t)); }

 private:
  static int64_t to_ns(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  mutable std::atomic<int64_t> ns_;
  std::atomic<int64_t> end_ns_{0};
};

inline double to_unix_seconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
inline int64_t to_unix_nanos(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace cce::util
