// HandoverEnvironment: what a busbar process tells the process that takes over from it at a
// reload (successor.h), in the new process's environment:
//
//   BUSBAR_HANDOVER_LISTENERS=public:3,4;admin:5   listening sockets it inherits, by listener
//   BUSBAR_HANDOVER_REPORT_FD=6                    where it says "ready" or why it failed
//   BUSBAR_RELOADS=ok:3,failed:1,timed_out:0,last:1764849600
//                                                  the reloads of this service so far
//
// The reload counts travel with the server from one process to the next, so that
// busbar_reloads_total keeps counting across handovers as a counter should. A process started
// without these variables (by systemd, by hand) starts from none.
//
// Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace busbar::host {

inline constexpr char kHandoverListenersVariable[] = "BUSBAR_HANDOVER_LISTENERS";
inline constexpr char kHandoverReportFdVariable[] = "BUSBAR_HANDOVER_REPORT_FD";
inline constexpr char kReloadsVariable[] = "BUSBAR_RELOADS";

struct ReloadHistory {
  uint64_t succeeded = 0;
  uint64_t failed = 0;            // the new process exited, or said why it could not serve
  uint64_t timed_out = 0;         // it was not ready within [host] reload_timeout_seconds
  int64_t last_unix_seconds = 0;  // the end of the last successful one; 0: none yet
};

struct HandoverEnvironment {
  std::map<std::string, std::vector<int>> listeners;  // by listener name, in loop order
  int report_fd = -1;                                 // -1: not started by a handover
  ReloadHistory history;

  // True when this process was started by a handover.
  bool handedOver() const { return report_fd >= 0; }

  // The variables to add to the new process's environment, as "NAME=value".
  std::vector<std::string> variables() const;

  // Reads the variables through `get` (null when unset). On a malformed value throws
  // std::runtime_error naming the variable, what it holds and what was expected.
  static HandoverEnvironment parse(const std::function<const char*(const char*)>& get);

  // parse() of this process's environment; then removes the variables, so that nothing this
  // process starts takes them for its own.
  static HandoverEnvironment take();
};

}  // namespace busbar::host
