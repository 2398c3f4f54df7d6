#include "handover/successor.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "handover/process_spawn.h"
#include "handover/successor_report.h"

namespace busbar::host {
namespace {

using Clock = std::chrono::steady_clock;

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
  SpawnRequest request;
  request.program = program;
  request.args = args;
  request.unset = {kHandoverListenersVariable, kHandoverReportFdVariable, kReloadsVariable,
                   "WATCHDOG_PID"};
  // The report socket becomes 3, the listeners 4 on, in the order of handover.listeners.
  request.passed.push_back(theirs);
  handover.report_fd = 3;
  for (auto& [name, fds] : handover.listeners) {
    for (int& fd : fds) {
      request.passed.push_back(fd);
      fd = 3 + static_cast<int>(request.passed.size()) - 1;
    }
  }
  request.set = handover.variables();
  const Spawned spawned = spawnProcess(request);
  ::close(theirs);
  if (spawned.pid == 0) {
    ::close(ours);
    result.detail = spawned.error;
    return result;
  }
  const pid_t pid = spawned.pid;
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
