// A reload's side of the host: taking over from the process before, handing the listeners to
// the next, the reload counts, and what systemd hears when a reload ends (handover/).
#include "host.h"

namespace busbar::host {

void Host::takeOver(InheritedListeners listeners, SuccessorReport* report, ReloadHistory history) {
  inherited_ = std::move(listeners);
  successor_report_ = report;
  std::lock_guard<std::mutex> lock(reloads_mutex_);
  reloads_ = history;
}

std::map<std::string, std::vector<int>> Host::listeningDescriptors() const {
  std::map<std::string, std::vector<int>> listeners;
  if (http_) listeners["public"] = http_->listeningDescriptors();
  if (admin_http_) listeners["admin"] = admin_http_->listeningDescriptors();
  return listeners;
}

ReloadHistory Host::reloadHistory() const {
  std::lock_guard<std::mutex> lock(reloads_mutex_);
  return reloads_;
}

void Host::reloadBegins() {
  notifier_.notify("RELOADING=1\nSTATUS=reloading: a new process takes over once it serves");
}

bool Host::reloadEnded(const Successor::Result& result) {
  const std::string pid = std::to_string(result.pid);
  std::string why;
  switch (result.outcome) {
    case Successor::Outcome::kReady:
      // Sent by this process, still the main one: systemd follows the new one from here. Were
      // the message lost, systemd would take this process's exit for the service's end and stop
      // the new one with it: the new one goes instead.
      if (!notifier_.enabled() ||
          notifier_.notify("MAINPID=" + pid + "\nREADY=1\nSTATUS=serving (PID " + pid +
                           " took over at a reload)")) {
        logger_.information("reload: the new process (PID " + pid + ") serves; this one (plugins " +
                            pluginVersions() + ") stops accepting and finishes its requests");
        return true;
      }
      why =
          "systemd could not be told that it is the main process now (MAINPID= to "
          "$NOTIFY_SOCKET failed), so it " +
          endProcess(result.pid, std::chrono::seconds(settings_.http.shutdown_delay_seconds +
                                                      settings_.http.shutdown_grace_seconds + 10));
      break;
    case Successor::Outcome::kCancelled:
      logger_.information("reload given up for a stop signal: the new process (PID " + pid + ") " +
                          result.detail);
      return false;
    case Successor::Outcome::kTimedOut:
      why = "it did not serve within " + std::to_string(settings_.reload_timeout_seconds) +
            " s ([host] reload_timeout_seconds) and " + result.detail;
      break;
    case Successor::Outcome::kFailed:
      why = result.detail;
      break;
  }
  {
    std::lock_guard<std::mutex> lock(reloads_mutex_);
    ++(result.outcome == Successor::Outcome::kTimedOut ? reloads_.timed_out : reloads_.failed);
  }
  logger_.error("reload failed, this process serves on as before: the new process" +
                (result.pid != 0 ? " (PID " + pid + ")" : std::string()) + ": " + why);
  notifier_.notify("READY=1\nSTATUS=reload failed; serving as before: " + why);
  return false;
}

}  // namespace busbar::host
