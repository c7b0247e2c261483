#pragma once

// Clock: the one source of "now". Passed by reference into whatever needs time, so tests inject a
// FakeClock instead of sleeping.

#include <atomic>
#include <cstdint>

namespace liaison {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, microseconds since the Unix epoch (UTC). Thread-safe.
  virtual int64_t NowMicros() const = 0;
  // A monotonic reading in nanoseconds, for measuring durations and deadlines. Thread-safe.
  virtual int64_t MonotonicNanos() const = 0;
};

// The real clock. Thread-safe; stateless.
class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
  int64_t MonotonicNanos() const override;
  // A process-wide instance for the composition root (server/, cli/) to pass down.
  static SystemClock& Default();
};

// A clock that moves only when told. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_micros = 1700000000000000) : now_(now_micros) {}
  int64_t NowMicros() const override { return now_.load(); }
  int64_t MonotonicNanos() const override { return now_.load() * 1000; }
  void Advance(int64_t micros) { now_ += micros; }
  void Set(int64_t micros) { now_ = micros; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace liaison
