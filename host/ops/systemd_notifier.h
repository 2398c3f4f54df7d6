// SystemdNotifier: sd_notify(3) without libsystemd, for Type=notify services: a datagram to the
// AF_UNIX socket systemd names in $NOTIFY_SOCKET (an abstract one when the name starts with '@').
// READY=1 once serving, RELOADING=1 and READY=1 around a reload, STOPPING=1 when shutdown begins,
// WATCHDOG=1 while the event loops answer (WatchdogSec=). Without $NOTIFY_SOCKET (not started by
// systemd as a notify service) every call does nothing.
//
// Thread-safety: notify() from any thread.
#pragma once

#include <chrono>
#include <string>

namespace busbar::host {

class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID.
  SystemdNotifier();

  bool enabled() const { return !socket_path_.empty(); }

  // Sends `state`, newline-separated assignments ("READY=1\nSTATUS=serving"). Returns whether
  // systemd got it; false, and nothing sent, when not enabled.
  bool notify(const std::string& state) const;

  // How often systemd wants WATCHDOG=1 from this process; 0 when it wants none.
  std::chrono::microseconds watchdogInterval() const { return watchdog_; }

 private:
  std::string socket_path_;
  std::chrono::microseconds watchdog_{0};
};

}  // namespace busbar::host
