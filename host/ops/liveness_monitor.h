// LivenessMonitor: whether this server's event loops still answer, for GET /livez and systemd's
// watchdog. Every period (a second, or a third of WatchdogSec when shorter) it asks every loop of
// the servers it watches to note the time from its own thread (HttpServer::pingLoops); a loop
// whose note is late by `stall_after` is stalled (a handler blocked it). While every loop answers
// it sends WATCHDOG=1, so that systemd restarts a server whose loops hang. No dependency (database,
// broker) is checked here: that is readiness.
//
// Thread-safety: problem() from any thread; the rest from one.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <Poco/Logger.h>

#include "background_worker.h"
#include "ops/systemd_notifier.h"

namespace busbar::host {

class LivenessMonitor {
 public:
  LivenessMonitor(const SystemdNotifier& notifier, std::chrono::milliseconds stall_after,
                  Poco::Logger& logger);
  ~LivenessMonitor();  // stops

  // Watches a set of loops: `ping` asks them to note the time, `silence` says how long the
  // slowest has not. Before start().
  void watch(std::string name, std::function<void()> ping,
             std::function<std::chrono::milliseconds()> silence);

  void start();
  void stop() noexcept;

  // "" while every loop answers; otherwise which do not, and for how long.
  std::string problem() const;

 private:
  struct Watched {
    std::string name;
    std::function<void()> ping;
    std::function<std::chrono::milliseconds()> silence;
  };
  void run();

  const SystemdNotifier& notifier_;
  const std::chrono::milliseconds stall_after_;
  Poco::Logger& logger_;
  std::vector<Watched> watched_;

  std::string problem_;  // under worker_.mutex()
  BackgroundWorker worker_;
};

}  // namespace busbar::host
