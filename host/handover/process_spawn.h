// spawnProcess: starts another program as busbar starts its own successor and the checks of a
// watched deployment: with the descriptors passed and no other one, and a fresh start's signals.
//
// Descriptors some library opened without close-on-exec (Poco's sockets, log files) would
// otherwise follow the new process and hold this process's connections open after it closed
// them. The passed ones are renumbered from 3 in the order given; standard input, output and error
// are this process's unless redirected. SIGHUP and SIGUSR1 start blocked (busbar takes them
// itself), every other signal unblocked and at its default.
//
// Thread-safety: spawnProcess() from any thread (posix_spawn).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace busbar::host {

struct SpawnRequest {
  std::string program;            // a path
  std::vector<std::string> args;  // argv[1] on
  // Variables of this process's environment left out (by name), and "NAME=value" added.
  std::vector<std::string> unset;
  std::vector<std::string> set;
  std::vector<int> passed;  // descriptors the new process gets, as 3, 4, ... in this order
  int output = -1;          // when set, the new process's standard output and error
};

struct Spawned {
  pid_t pid = 0;      // 0 when it could not be started
  std::string error;  // then why
};

// Starts `request`. Never throws.
Spawned spawnProcess(const SpawnRequest& request);

// How a waitpid() status says the process ended: "exited with status 2", "was ended by signal 6
// (Aborted)".
std::string describeEnd(int status);

// Reaps the child `pid` if it ends within `wait`; returns how it ended (its waitpid() status in
// `*status`, when given), or empty when it still runs.
std::string awaitEnd(pid_t pid, std::chrono::milliseconds wait, int* status = nullptr);

// Ends the child `pid`: SIGTERM, then SIGKILL after `grace`; reaps it and says how it ended.
std::string endProcess(pid_t pid, std::chrono::milliseconds grace);

}  // namespace busbar::host
