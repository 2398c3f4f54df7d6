// SignalWaiter: how busbar takes its signals. SIGTERM, SIGINT and SIGQUIT stop the server,
// SIGHUP reloads it (systemctl reload: a new process takes over, handover/successor.h) and SIGUSR1
// reopens the log files (logrotate), as nginx's signals do.
//
// blockServerSignals() runs first thing in main(), before any thread exists, so that every
// thread inherits the mask and no signal can end the process while a thread that does not expect
// it runs; one thread of the waiter's own takes them all with sigwait. A stop signal before the
// server serves ends the process as the signal always did (its default action, raised again);
// once it serves, the first one wakes next(), and a second one while the stop runs ends the
// process at once, as nginx's fast shutdown does (an operator's second Ctrl-C; systemd and
// Kubernetes send one, then SIGKILL). A SIGHUP or SIGUSR1 before the server serves waits for it.
//
// Thread-safety: markServing(), stopRequested() and takeReloadRequest() from any thread; next()
// from the main thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <Poco/Logger.h>

#include "ops/stop_progress.h"

namespace busbar::host {

// Blocks SIGTERM, SIGINT, SIGQUIT, SIGHUP and SIGUSR1 in the calling thread and in every thread
// it starts.
void blockServerSignals();

class SignalWaiter {
 public:
  explicit SignalWaiter(Poco::Logger& logger);
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  // From now on a stop signal stops the server (next() returns kStop once it is waiting) instead
  // of ending the process: clients may already see it answer. Thread-safe.
  void markServing();

  enum class Request {
    kStop,        // SIGTERM, SIGINT, SIGQUIT
    kReload,      // SIGHUP
    kReopenLogs,  // SIGUSR1
  };

  // The next request, a stop before any other; waits for one. Several of a kind that came while
  // the last one was handled are one. Marks the server as serving.
  Request next();

  // True once a stop signal came (a reload waiting for its new process gives up). Thread-safe.
  bool stopRequested();

  // True, once, when a SIGHUP came since next() last returned kReload: a reload asked for while
  // one ran, which the new process is to do. Thread-safe.
  bool takeReloadRequest();

  // The stop that follows must end within `deadline`: past it the error, naming the step
  // `progress` is in, is logged and the process exits with status 1 from a thread of its own,
  // whatever still runs (a handler stuck on a backend, a plugin's stop). Once, after next()
  // returned kStop.
  void armStopDeadline(std::chrono::seconds deadline, std::shared_ptr<const StopProgress> progress);

 private:
  void run();

  Poco::Logger& logger_;
  std::mutex mutex_;
  std::condition_variable woken_;
  bool serving_ = false;
  bool stop_ = false;
  bool reload_ = false;
  bool reopen_logs_ = false;
  std::thread thread_;
};

}  // namespace busbar::host
