// Backoff: capped exponential delays for reconnecting and retrying.
//
// initial, 2 x initial, 4 x initial ... up to `cap`, until reset(). Not thread-safe; one per
// worker.
#pragma once

#include <algorithm>
#include <chrono>

namespace busbar::amqp {

// A connection that lasted this long resets the reconnect backoff.
inline constexpr std::chrono::seconds kStableLink{10};

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap)
      : initial_(initial), cap_(cap), next_(initial) {}

  // The delay to wait now; the following call returns twice as much, at most the cap.
  std::chrono::milliseconds next() {
    auto current = next_;
    next_ = std::min(cap_, next_ * 2);
    return current;
  }

  // Back to the initial delay, after a success.
  void reset() { next_ = initial_; }

 private:
  const std::chrono::milliseconds initial_;
  const std::chrono::milliseconds cap_;
  std::chrono::milliseconds next_;
};

}  // namespace busbar::amqp
