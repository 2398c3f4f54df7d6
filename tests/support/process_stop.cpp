#include "process_stop.h"

#include <signal.h>

#include <fstream>
#include <string>
#include <thread>

#include <Poco/DirectoryIterator.h>
#include <Poco/Exception.h>

namespace busbar::testing {
namespace {

// Whether the thread whose stat file is `stat` has stopped or ended: its state is the first
// field after the command's closing parenthesis (the command may hold spaces and parentheses).
bool stoppedOrGone(const std::string& stat) {
  std::ifstream in(stat);
  std::string line;
  if (!std::getline(in, line)) return true;  // the thread ended
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return false;
  const char state = line[close + 2];
  return state == 'T' || state == 't' || state == 'Z' || state == 'X';
}

bool everyThreadStopped(pid_t pid) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  try {
    for (Poco::DirectoryIterator it(tasks), end; it != end; ++it) {
      if (!stoppedOrGone(it->path() + "/stat")) return false;
    }
  } catch (const Poco::Exception&) {
    return true;  // the process ended
  }
  return true;
}

}  // namespace

bool stopProcess(pid_t pid, std::chrono::milliseconds within) {
  if (::kill(pid, SIGSTOP) != 0) return false;
  const auto until = std::chrono::steady_clock::now() + within;
  while (!everyThreadStopped(pid)) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace busbar::testing
