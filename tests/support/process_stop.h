// Stopping a process (SIGSTOP) at a known point: once stopProcess() returns, none of its threads
// runs another instruction until SIGCONT.
//
// kill(SIGSTOP) alone does not give that. The kernel wakes one thread of the process, and that
// thread, once it gets a core, asks the others to stop; until then a thread blocked in a read
// that gets its data returns to the program and goes on. On a busy machine that is long enough
// for several database round trips: a test that froze a server "on" a statement saw it run the
// statements after it first. Thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

namespace busbar::testing {

// Sends SIGSTOP to `pid` (a process: never 0 or a negative group) and waits until every thread of
// it is stopped (/proc/PID/task/*/stat says T) or has ended (a process that ended but is not reaped
// yet counts as stopped). On success returns true. On failure returns false: no such process
// (reaped, or pid <= 0), or not every thread stopped within `within` (a thread in an
// uninterruptible disk wait; /proc unreadable), in which case the signal is sent all the same.
bool stopProcess(pid_t pid, std::chrono::milliseconds within = std::chrono::seconds(5));

// A process stopped (stopProcess) from construction until thaw() or the end of the object, which
// send SIGCONT: however a test's round ends (a failed check, a request that throws), the process
// it froze goes on, and no later round or teardown meets it frozen. Not thread-safe.
class FrozenProcess {
 public:
  // Stops `pid`. On failure (no such process, pid <= 0, or threads that did not stop) lets it go
  // again and throws std::runtime_error naming `what` and the reason.
  FrozenProcess(pid_t pid, std::string what);
  // Takes over a process already stopped with stopProcess() (on another thread, at a moment
  // only that thread sees): from then on it goes on at thaw() or the end of the object.
  struct AlreadyStopped {};
  FrozenProcess(pid_t pid, AlreadyStopped) : pid_(pid) {}
  ~FrozenProcess() { thaw(); }
  FrozenProcess(const FrozenProcess&) = delete;
  FrozenProcess& operator=(const FrozenProcess&) = delete;

  // Sends SIGCONT the first time; does nothing after.
  void thaw();

 private:
  pid_t pid_;
};

}  // namespace busbar::testing
