// StorageProbe: whether the database answers, asked on a thread of its own every `interval` with
// SELECT 1 through the storage plugin's Connection, so that GET /readyz reads a result and never
// waits on the database, however often load balancers ask.
//
// A probe that has not returned after `overdue` (a link that swallows packets) counts as a
// failure while it hangs. Changes of state are logged once each (busbar.storage_probe).
//
// Thread-safety: problem() from any thread; start() and stop() from one.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <Poco/Logger.h>

#include "background_worker.h"
#include "busbar/storage.h"

namespace busbar::host {

class StorageProbe {
 public:
  // `storage` is the storage plugin's Connection (null without storage: always reachable).
  StorageProbe(std::shared_ptr<Connection> storage, std::chrono::milliseconds interval,
               std::chrono::milliseconds overdue, Poco::Logger& logger);
  ~StorageProbe();  // stops

  // Probes once on the calling thread (the server starts with an answer), then every interval
  // on its own.
  void start();
  void stop() noexcept;

  // "" while the last probe succeeded; otherwise why the database is taken as unreachable.
  std::string problem() const;

 private:
  using Clock = std::chrono::steady_clock;
  void run();
  // One SELECT 1; records its outcome and logs a change. Takes `lock` (held on entry and exit).
  void probe(std::unique_lock<std::mutex>& lock);

  const std::shared_ptr<Connection> storage_;
  const std::chrono::milliseconds interval_;
  const std::chrono::milliseconds overdue_;
  Poco::Logger& logger_;

  // Under worker_.mutex().
  bool probed_ = false;                // a probe has finished
  std::string problem_;                // of the last finished probe
  Clock::time_point running_since_{};  // of the probe in progress; epoch when none runs
  BackgroundWorker worker_;
};

}  // namespace busbar::host
