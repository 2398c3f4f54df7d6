// Successor: the process that takes over from this one at a reload, as HAProxy's seamless reload
// and Envoy's hot restart do. run() starts it (the same executable and arguments, so that it
// reads the plugin folders and the config afresh) with this process's listening sockets, and
// waits for its report on a unix socket (successor_report.h): "ready" once it serves, or why it
// cannot. Until then this process serves as before; only on "ready" does it stop.
//
// The new process gets this process's environment, the HandoverEnvironment variables, standard
// input, output and error, and the descriptors those variables name (renumbered from 3); no
// other descriptor, close-on-exec or not.
// WATCHDOG_PID is left out: once systemd makes the new process the main one, the watchdog is its.
//
// Thread-safety: run() from one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "handover/handover_environment.h"

namespace busbar::host {

class Successor {
 public:
  enum class Outcome {
    kReady,      // it serves: this process stops now
    kFailed,     // it could not start, said why or exited; it is gone
    kTimedOut,   // not ready within the deadline; it was ended
    kCancelled,  // this process was asked to stop meanwhile; it was ended
  };

  struct Result {
    Outcome outcome = Outcome::kFailed;
    pid_t pid = 0;       // of the new process (0 when it could not be started)
    std::string detail;  // for kFailed: its reason, or how it ended
  };

  // Starts `program` with `args` (argv[1] on) and `handover`'s variables (its report_fd is set
  // here), and waits until it reports or ends, `deadline` passes or `cancelled` returns true
  // (asked every 100 ms). A process not ready by then is sent SIGTERM, then SIGKILL after
  // `kill_grace`, and reaped. Does not throw: every failure is a Result.
  static Result run(const std::string& program, const std::vector<std::string>& args,
                    HandoverEnvironment handover, std::chrono::milliseconds deadline,
                    const std::function<bool()>& cancelled,
                    std::chrono::milliseconds kill_grace = std::chrono::seconds(5));

  // The outcome's name, for logs and busbar_reloads_total{result}.
  static const char* name(Outcome outcome);
};

}  // namespace busbar::host
