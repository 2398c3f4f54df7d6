// SignalWaiter: how busbar takes its signals. SIGTERM, SIGINT and SIGQUIT stop the server,
// SIGHUP reloads [log] (busbar reload, systemctl reload).
//
// blockStopAndReloadSignals() runs first thing in main(), before any thread exists, so that every
// thread inherits the mask and no signal can end the process while a thread that does not expect
// it runs; one thread of the waiter's own takes them all with sigwait. A stop signal before the
// server serves ends the process as the signal always did (its default action, raised again);
// once it serves, the first one wakes waitForStop(), and a second one while the stop runs ends
// the process at once, as nginx's fast shutdown does (an operator's second Ctrl-C; systemd and
// Kubernetes send one, then SIGKILL). A SIGHUP before the server serves waits for it.
//
// Thread-safety: serving() and waitForStop() from the main thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include <Poco/Logger.h>

namespace busbar::host {

// Blocks SIGTERM, SIGINT, SIGQUIT and SIGHUP in the calling thread and in every thread it starts.
void blockStopAndReloadSignals();

class SignalWaiter {
 public:
  explicit SignalWaiter(Poco::Logger& logger);
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  // From now on a stop signal stops the server (waitForStop() returns once it is waiting) instead
  // of ending the process: clients may already see it answer. Thread-safe.
  void markServing();

  // Returns when a stop signal came; runs `reload` on the calling thread for each SIGHUP
  // meanwhile (and for one that came during the start). Marks the server as serving.
  void waitForStop(const std::function<void()>& reload);

  // The stop that follows must end within `deadline`: past it the error is logged and the
  // process exits with status 1 from a thread of its own, whatever still runs (a handler stuck
  // on a backend, a plugin's stop). Once, after waitForStop() returned.
  void armStopDeadline(std::chrono::seconds deadline);

 private:
  void run();

  Poco::Logger& logger_;
  std::mutex mutex_;
  std::condition_variable woken_;
  bool serving_ = false;
  bool stop_ = false;
  int reloads_ = 0;
  std::thread thread_;
};

}  // namespace busbar::host
