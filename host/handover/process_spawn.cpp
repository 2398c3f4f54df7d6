#include "handover/process_spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace busbar::host {
namespace {

using Clock = std::chrono::steady_clock;

// posix_spawn's file actions and attributes, released however spawnProcess() leaves.
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

  // Passes `fd` as `target` (3 + the passes before). A close-on-exec copy above every target is
  // duplicated onto the target there, so that no passed descriptor overwrites another before it
  // is copied. False on failure.
  // On failure returns the error number.
  int pass(int fd, int target) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3 + static_cast<int>(count_));
    if (copy < 0) return errno;
    copies_.push_back(copy);
    return ::posix_spawn_file_actions_adddup2(&actions, copy, target);
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;

 private:
  const size_t count_;
  std::vector<int> copies_;
};

bool isDropped(const char* entry, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    if (std::strncmp(entry, name.c_str(), name.size()) == 0 && entry[name.size()] == '=') {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string describeEnd(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "was ended by signal " + std::to_string(WTERMSIG(status)) + " (" +
           ::strsignal(WTERMSIG(status)) + ")";
  }
  return "ended (status " + std::to_string(status) + ")";
}

std::string awaitEnd(pid_t pid, std::chrono::milliseconds wait, int* status_out) {
  const auto until = Clock::now() + wait;
  for (;;) {
    int status = 0;
    const pid_t reaped = ::waitpid(pid, &status, WNOHANG);
    if (reaped == pid) {
      if (status_out != nullptr) *status_out = status;
      return describeEnd(status);
    }
    if (reaped < 0 && errno != EINTR) return "is gone (" + std::string(std::strerror(errno)) + ")";
    if (Clock::now() >= until) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string endProcess(pid_t pid, std::chrono::milliseconds grace) {
  ::kill(pid, SIGTERM);
  std::string end = awaitEnd(pid, grace);
  if (!end.empty()) return end;
  ::kill(pid, SIGKILL);
  int status = 0;
  pid_t reaped;
  while ((reaped = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (reaped != pid) return "is gone (" + std::string(std::strerror(errno)) + ")";
  return describeEnd(status) + " after SIGTERM was not enough";
}

Spawned spawnProcess(const SpawnRequest& request) {
  Spawned spawned;
  SpawnSetup setup(request.passed.size());
  int failed = 0;
  for (size_t i = 0; i < request.passed.size() && failed == 0; ++i) {
    failed = setup.pass(request.passed[i], 3 + static_cast<int>(i));
  }
  if (failed == 0 && request.output >= 0) {
    failed = ::posix_spawn_file_actions_adddup2(&setup.actions, request.output, 1);
    if (failed == 0) failed = ::posix_spawn_file_actions_adddup2(&setup.actions, request.output, 2);
  }
  if (failed == 0) {
    failed = ::posix_spawn_file_actions_addclosefrom_np(
        &setup.actions, 3 + static_cast<int>(request.passed.size()));
  }
  if (failed != 0) {
    spawned.error = std::string("cannot pass its descriptors: ") + std::strerror(failed);
    return spawned;
  }
  // A fresh start's signals, none ignored, but SIGHUP and SIGUSR1 blocked: busbar takes them
  // once it runs (a reload or reopen asked for meanwhile waits), where their default action
  // would end it before it blocks them.
  sigset_t held;
  sigemptyset(&held);
  sigaddset(&held, SIGHUP);
  sigaddset(&held, SIGUSR1);
  sigset_t all;
  sigfillset(&all);
  ::posix_spawnattr_setsigmask(&setup.attributes, &held);
  ::posix_spawnattr_setsigdefault(&setup.attributes, &all);
  ::posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!isDropped(*entry, request.unset)) environment.emplace_back(*entry);
  }
  environment.insert(environment.end(), request.set.begin(), request.set.end());
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> arguments{request.program};
  arguments.insert(arguments.end(), request.args.begin(), request.args.end());
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);

  pid_t pid = 0;
  failed = ::posix_spawn(&pid, request.program.c_str(), &setup.actions, &setup.attributes,
                         argv.data(), envp.data());
  if (failed != 0) {
    spawned.error = "cannot start " + request.program + ": " + std::strerror(failed);
    return spawned;
  }
  spawned.pid = pid;
  return spawned;
}

}  // namespace busbar::host
