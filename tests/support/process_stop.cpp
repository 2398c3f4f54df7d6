#include "process_stop.h"

#include <dirent.h>
#include <signal.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>

namespace busbar::testing {
namespace {

enum class ThreadState { kRunning, kStopped, kGone };

// The state of the thread whose stat file is `stat`: the first field after the command's closing
// parenthesis (the command may hold spaces, parentheses and newlines).
ThreadState stateOf(const std::string& stat) {
  std::ifstream in(stat);
  if (!in) return errno == ENOENT || errno == ESRCH ? ThreadState::kGone : ThreadState::kRunning;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty()) return ThreadState::kGone;  // ended while read
  const auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return ThreadState::kRunning;
  switch (text[close + 2]) {
    case 'T':  // stopped
    case 't':  // stopped by a tracer
      return ThreadState::kStopped;
    case 'Z':  // ended, not yet reaped
    case 'X':
      return ThreadState::kGone;
    default:
      return ThreadState::kRunning;
  }
}

// Whether no thread of `pid` runs. A folder that cannot be read for another reason than the
// process's end (a /proc mounted hidepid) counts as running: stopProcess then times out.
bool noThreadRuns(pid_t pid) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* folder = ::opendir(tasks.c_str());
  if (folder == nullptr) return errno == ENOENT || errno == ESRCH;
  bool none = true;
  while (const dirent* entry = ::readdir(folder)) {
    if (entry->d_name[0] == '.') continue;
    if (stateOf(tasks + "/" + entry->d_name + "/stat") == ThreadState::kRunning) {
      none = false;
      break;
    }
  }
  ::closedir(folder);
  return none;
}

}  // namespace

bool stopProcess(pid_t pid, std::chrono::milliseconds within) {
  if (pid <= 0 || ::kill(pid, SIGSTOP) != 0) return false;  // 0 and -1 would be a group
  const auto until = std::chrono::steady_clock::now() + within;
  while (!noThreadRuns(pid)) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

FrozenProcess::FrozenProcess(pid_t pid, std::string what) : pid_(pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) {
    pid_ = 0;
    throw std::runtime_error(what + " (pid " + std::to_string(pid) + "): no such process");
  }
  if (!stopProcess(pid_)) {
    thaw();
    throw std::runtime_error(what + " (pid " + std::to_string(pid) +
                             "): not every thread stopped within 5 s of SIGSTOP");
  }
}

void FrozenProcess::thaw() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
  pid_ = 0;
}

}  // namespace busbar::testing
