#pragma once

// Notifier: "something changed, look again". A generation counter plus wake-up callbacks, used to
// wake the outbox pushers after a commit and the event streams after an event was written (and, on
// PostgreSQL, after a NOTIFY from another node). It carries no data: waiters re-read the store.
//
//   Notifier changed;
//   uint64_t seen = changed.generation();
//   ... read the store ...
//   changed.WaitFor(seen, std::chrono::seconds(1));     // returns early after Notify()
//
//   auto id = changed.Subscribe([&] { asio::post(...); }); // callbacks run on the notifying thread
//   changed.Unsubscribe(id);
//
// Thread-safe. Callbacks must be quick and must not call Subscribe/Unsubscribe on this Notifier.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace liaison {

class Notifier {
 public:
  void Notify() {
    std::map<uint64_t, std::function<void()>> callbacks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++generation_;
      callbacks = callbacks_;
    }
    cv_.notify_all();
    for (auto& [id, cb] : callbacks) cb();
  }

  uint64_t generation() const {
    std::lock_guard<std::mutex> lock(mu_);
    return generation_;
  }

  // Waits until generation() != seen or the timeout passes; returns the generation.
  uint64_t WaitFor(uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return generation_ != seen; });
    return generation_;
  }

  uint64_t Subscribe(std::function<void()> callback) {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t id = ++next_id_;
    callbacks_.emplace(id, std::move(callback));
    return id;
  }

  void Unsubscribe(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    callbacks_.erase(id);
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;                              // guarded by mu_
  uint64_t next_id_ = 0;                                 // guarded by mu_
  std::map<uint64_t, std::function<void()>> callbacks_;  // guarded by mu_
};

}  // namespace liaison
