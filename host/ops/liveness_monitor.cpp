#include "ops/liveness_monitor.h"

#include <algorithm>

namespace busbar::host {

LivenessMonitor::LivenessMonitor(const SystemdNotifier& notifier,
                                 std::chrono::milliseconds stall_after, Poco::Logger& logger)
    : notifier_(notifier), stall_after_(stall_after), logger_(logger) {}

LivenessMonitor::~LivenessMonitor() { stop(); }

void LivenessMonitor::watch(std::string name, std::function<void()> ping,
                            std::function<std::chrono::milliseconds()> silence) {
  watched_.push_back({std::move(name), std::move(ping), std::move(silence)});
}

void LivenessMonitor::start() {
  worker_.start("bb-liveness", [this] { run(); });
}

void LivenessMonitor::stop() noexcept { worker_.stop(); }

std::string LivenessMonitor::problem() const {
  std::lock_guard<std::mutex> lock(worker_.mutex());
  return problem_;
}

void LivenessMonitor::run() {
  auto period = std::chrono::milliseconds(1000);
  const auto watchdog = notifier_.watchdogInterval();
  if (watchdog.count() > 0) {
    period = std::min(period, std::chrono::duration_cast<std::chrono::milliseconds>(watchdog / 3));
    period = std::max(period, std::chrono::milliseconds(10));
    logger_.information("systemd watchdog: WATCHDOG=1 every " + std::to_string(period.count()) +
                        " ms while the event loops answer (WatchdogSec= " +
                        std::to_string(watchdog.count() / 1000) + " ms)");
  }
  std::unique_lock<std::mutex> lock(worker_.mutex());
  while (!worker_.stopping()) {
    lock.unlock();
    std::string problem;
    for (const auto& watched : watched_) {
      const auto silence = watched.silence();
      if (silence >= stall_after_) {
        problem += (problem.empty() ? "" : "; ") + std::string("an event loop of the ") +
                   watched.name + " listener has not answered for " +
                   std::to_string(silence.count()) + " ms";
      }
      watched.ping();
    }
    if (problem.empty()) notifier_.notify("WATCHDOG=1");
    lock.lock();
    if (problem != problem_) {
      if (problem.empty()) {
        logger_.information("every event loop answers again");
      } else {
        logger_.error(problem + "; a handler blocks its loop (GET /livez answers 503)");
      }
      problem_ = problem;
    }
    worker_.waitFor(lock, period);
  }
}

}  // namespace busbar::host
