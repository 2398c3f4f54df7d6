// VisibilityWatcher: how long after a write's answer another server shows it. A writer hands it
// (user id, version, time of the answer); one thread polls GET /users/{id} on the other server
// over one keep-alive connection, round-robin over the writes still awaited, a pass every
// 0.5 ms, until the version served is at least the one written, and keeps the delays (each
// up to 0.5 ms long).
//
// Thread-safety: watch() may be called from any thread; finish() once, after the last watch().
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace busbar::bench {

// The "version" field of a user's JSON, or -1 when it has none.
long versionIn(const std::string& body);

class VisibilityWatcher {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts polling 127.0.0.1:`port`. A write not shown after `give_up` counts as missed.
  VisibilityWatcher(int port, std::chrono::milliseconds give_up);
  ~VisibilityWatcher();  // finishes

  // Awaits `version` of user `id`, answered by the writing server at `answered`.
  void watch(std::string id, long version, Clock::time_point answered);

  struct Result {
    std::vector<double> delays_us;  // sorted
    long missed = 0;
  };
  // Waits for the writes still awaited (each at most `give_up`), stops and returns the delays.
  Result finish();

 private:
  struct Awaited {
    std::string id;
    long version;
    Clock::time_point answered;
  };
  void run();

  const int port_;
  const std::chrono::milliseconds give_up_;
  std::mutex mutex_;
  std::condition_variable added_;
  std::deque<Awaited> incoming_;
  bool finishing_ = false;
  Result result_;
  std::thread worker_;
};

}  // namespace busbar::bench
