// Writers: the write load of the fault suites (chaos_fixture.h).
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server_process.h"

namespace busbar::testing {

// Writes users on a set of servers from several threads until stopped, and keeps the ids whose
// writes were acknowledged (2xx). With `keys` 0 every write is of a new id; with N the threads
// write the ids prefix-0 .. prefix-(N-1) again and again, each on every server, so that writes of
// one key race each other across servers.
//
// Each thread starts a write every kWriteInterval at most: a steady load of the same size on
// every backend, below what each member applies (every server's audit module writes a row per
// event, one after the other). A flood would measure that capacity instead of the fault: on
// PostgreSQL, writers that only paused 2 ms between writes made about 500 events/s, as many as a
// member applies, and the probes among live servers came late with no fault at all.
class Writers {
 public:
  // 50 writes/s a thread at most: 300 for the 6 threads of the pause suite.
  static constexpr std::chrono::milliseconds kWriteInterval{20};

  Writers(std::vector<ServerProcess*> servers, int threads, const std::string& prefix, int keys = 0)
      : servers_(std::move(servers)) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t, prefix, keys] {
        ServerProcess& server = *servers_[static_cast<size_t>(t) % servers_.size()];
        for (int n = 0; !stopping_; ++n) {
          const auto next = std::chrono::steady_clock::now() + kWriteInterval;
          std::string id = keys > 0 ? prefix + "-" + std::to_string((n * 7 + t) % keys)
                                    : prefix + "-" + std::to_string(t) + "-" + std::to_string(n);
          try {
            HttpResult result = server.request("PUT", "/users/" + id, R"({"name":"chaos"})");
            std::lock_guard<std::mutex> lock(mutex_);
            if (result.status / 100 == 2) {
              acknowledged_.push_back(id);
            } else if (result.status == 503 &&
                       result.body.find("another one worked on the same rows") !=
                           std::string::npos) {
              ++conflicts_;  // the database refused it (a deadlock), nothing written: any time
            } else if (failures_.size() < 10) {
              failures_.push_back("PUT /users/" + id + " answered " +
                                  std::to_string(result.status) + ": " + result.body);
            }
          } catch (const std::exception& error) {
            // The server is down: the write is not acknowledged, nothing to check.
            std::lock_guard<std::mutex> lock(mutex_);
            if (failures_.size() < 10)
              failures_.push_back("PUT /users/" + id + ": " + error.what());
          }
          ++attempts_;
          std::this_thread::sleep_until(next);
        }
      });
    }
  }
  ~Writers() { stop(); }
  void stop() {
    stopping_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  // Waits until `count` more writes were attempted.
  void waitFor(int count) {
    int target = attempts_ + count;
    eventually([&] { return attempts_ >= target; }, std::chrono::seconds(30));
  }
  std::vector<std::string> acknowledged() {
    std::lock_guard<std::mutex> lock(mutex_);
    return acknowledged_;
  }
  // Writes the database refused for a conflict with another transaction (a deadlock, a
  // serialization failure): answered 503 with nothing written, at any time, fault or not.
  int conflicts() const { return conflicts_.load(); }
  // The first writes that were not acknowledged otherwise, and why (for faults that must fail
  // none).
  std::vector<std::string> failures() {
    std::lock_guard<std::mutex> lock(mutex_);
    return failures_;
  }

 private:
  std::vector<ServerProcess*> servers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> attempts_{0};
  std::mutex mutex_;
  std::vector<std::string> acknowledged_;
  std::vector<std::string> failures_;
  std::atomic<int> conflicts_{0};
};

}  // namespace busbar::testing
