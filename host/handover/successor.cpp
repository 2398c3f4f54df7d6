#include "handover/successor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "handover/successor_report.h"

extern char** environ;

namespace busbar::host {
namespace {

using Clock = std::chrono::steady_clock;

// How `status` (from waitpid) says the process ended.
std::string describeEnd(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "was ended by signal " + std::to_string(WTERMSIG(status)) + " (" +
           ::strsignal(WTERMSIG(status)) + ")";
  }
  return "ended (status " + std::to_string(status) + ")";
}

// Reaps `pid` if it ends within `wait`; returns how it ended, or empty when it still runs.
std::string awaitEnd(pid_t pid, std::chrono::milliseconds wait) {
  const auto until = Clock::now() + wait;
  for (;;) {
    int status = 0;
    const pid_t reaped = ::waitpid(pid, &status, WNOHANG);
    if (reaped == pid) return describeEnd(status);
    if (reaped < 0 && errno != EINTR) return "is gone (" + std::string(std::strerror(errno)) + ")";
    if (Clock::now() >= until) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Ends `pid`: SIGTERM, then SIGKILL after `grace`; reaps it and says how it ended.
std::string endProcess(pid_t pid, std::chrono::milliseconds grace) {
  ::kill(pid, SIGTERM);
  std::string end = awaitEnd(pid, grace);
  if (!end.empty()) return end;
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return describeEnd(status) + " after SIGTERM was not enough";
}

bool isHandoverVariable(const char* entry) {
  for (const char* name :
       {kHandoverListenersVariable, kHandoverReportFdVariable, kReloadsVariable, "WATCHDOG_PID"}) {
    const size_t length = std::strlen(name);
    if (std::strncmp(entry, name, length) == 0 && entry[length] == '=') return true;
  }
  return false;
}

// posix_spawn's file actions and attributes, released however run() leaves. The new process gets
// the descriptors passed, renumbered from 3 in the order passed, and no other one: descriptors
// some library opened without close-on-exec (Poco's sockets, log files) would otherwise follow it
// and hold this process's connections open after it closed them.
class SpawnSetup {
 public:
  explicit SpawnSetup(size_t count) : count_(count) {
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    for (int copy : copies_) ::close(copy);
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // Passes `fd`; returns its number in the new process, or -1 on failure. A close-on-exec copy
  // above the numbers given out is duplicated onto the new number there, so that no passed
  // descriptor overwrites another before it is copied.
  int pass(int fd) {
    const int target = 3 + static_cast<int>(copies_.size());
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3 + static_cast<int>(count_));
    if (copy < 0) return -1;
    copies_.push_back(copy);
    if (::posix_spawn_file_actions_adddup2(&actions, copy, target) != 0) return -1;
    return target;
  }

  // After every pass(): the rest is closed in the new process.
  bool closeTheRest() {
    return ::posix_spawn_file_actions_addclosefrom_np(&actions, 3 + static_cast<int>(count_)) == 0;
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;

 private:
  const size_t count_;
  std::vector<int> copies_;
};

}  // namespace

const char* Successor::name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kReady:
      return "ok";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kTimedOut:
      return "timed_out";
    case Outcome::kCancelled:
      return "cancelled";
  }
  return "failed";
}

Successor::Result Successor::run(const std::string& program, const std::vector<std::string>& args,
                                 HandoverEnvironment handover, std::chrono::milliseconds deadline,
                                 const std::function<bool()>& cancelled,
                                 std::chrono::milliseconds kill_grace) {
  Result result;
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    result.detail = std::string("cannot make its report socket: ") + std::strerror(errno);
    return result;
  }
  const int ours = pair[0];
  const int theirs = pair[1];
  pid_t pid = 0;
  int spawned = 0;
  {
    size_t count = 1;
    for (const auto& [name, fds] : handover.listeners) count += fds.size();
    SpawnSetup setup(count);
    handover.report_fd = setup.pass(theirs);
    bool passed = handover.report_fd >= 0;
    for (auto& [name, fds] : handover.listeners) {
      for (int& fd : fds) {
        fd = setup.pass(fd);
        passed = passed && fd >= 0;
      }
    }
    passed = passed && setup.closeTheRest();
    // A fresh start's signals: none blocked, none ignored (this process blocks its own).
    sigset_t none;
    sigemptyset(&none);
    sigset_t all;
    sigfillset(&all);
    ::posix_spawnattr_setsigmask(&setup.attributes, &none);
    ::posix_spawnattr_setsigdefault(&setup.attributes, &all);
    ::posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      if (!isHandoverVariable(*entry)) environment.emplace_back(*entry);
    }
    for (auto& variable : handover.variables()) environment.push_back(std::move(variable));
    std::vector<char*> envp;
    for (auto& entry : environment) envp.push_back(entry.data());
    envp.push_back(nullptr);
    std::vector<std::string> arguments{program};
    arguments.insert(arguments.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);

    spawned = passed ? ::posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attributes,
                                     argv.data(), envp.data())
                     : (errno != 0 ? errno : EBADF);
  }
  ::close(theirs);
  if (spawned != 0) {
    ::close(ours);
    result.detail = "cannot start " + program + ": " + std::strerror(spawned);
    return result;
  }
  result.pid = pid;

  std::string received;
  const auto until = Clock::now() + deadline;
  for (;;) {
    if (cancelled && cancelled()) {
      result.outcome = Outcome::kCancelled;
      result.detail = endProcess(pid, kill_grace);
      break;
    }
    const auto now = Clock::now();
    if (now >= until) {
      result.outcome = Outcome::kTimedOut;
      result.detail = endProcess(pid, kill_grace);
      break;
    }
    pollfd readable{ours, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
    const int ready = ::poll(&readable, 1, static_cast<int>(std::clamp<int64_t>(left, 1, 100)));
    if (ready <= 0) continue;
    char buffer[512];
    const ssize_t got = ::recv(ours, buffer, sizeof buffer, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got > 0 && received.size() < SuccessorReport::kMaxLine) {
      received.append(buffer, static_cast<size_t>(got));
      const size_t newline = received.find('\n');
      if (newline == std::string::npos) continue;
      std::string reason;
      const auto kind = SuccessorReport::parse(received.substr(0, newline), &reason);
      if (kind == SuccessorReport::Kind::kReady) {
        result.outcome = Outcome::kReady;
        break;
      }
      result.outcome = Outcome::kFailed;
      result.detail = kind ? reason : "it sent '" + received.substr(0, newline) + "'";
      std::string end = awaitEnd(pid, kill_grace);
      if (end.empty()) end = endProcess(pid, kill_grace);
      result.detail += "; it " + end;
      break;
    }
    // The socket closed without a report (or sent too much): the process ended, or will.
    result.outcome = Outcome::kFailed;
    std::string end = awaitEnd(pid, kill_grace);
    if (end.empty()) end = endProcess(pid, kill_grace);
    result.detail = "it " + end + " before it was ready";
    break;
  }
  ::close(ours);
  return result;
}

}  // namespace busbar::host
