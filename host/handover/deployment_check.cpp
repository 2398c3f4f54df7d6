#include "handover/deployment_check.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <Poco/File.h>

#include "handover/handover_environment.h"
#include "handover/process_spawn.h"
#include "plugins/elf_check.h"

namespace busbar::host {
namespace {

using Clock = std::chrono::steady_clock;

bool endsWith(const std::string& text, const std::string& end) {
  return text.size() >= end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
}

// The check's output without its trailing line break, at most a few KiB.
std::string trimmed(std::string output) {
  constexpr size_t kMost = 4096;
  if (output.size() > kMost) output = output.substr(0, kMost) + "...";
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  return output;
}

}  // namespace

DeploymentCheck checkDeployment(const std::string& program,
                                const std::vector<std::string>& server_args,
                                const std::set<std::string>& changed,
                                std::chrono::milliseconds deadline,
                                const std::atomic<bool>* cancelled) {
  DeploymentCheck check;
  for (const auto& path : changed) {
    if (!endsWith(path, ".so") || !Poco::File(path).exists()) continue;
    const std::string problem = elfFileProblem(path);
    if (!problem.empty()) {
      check.verdict = DeploymentCheck::Verdict::kIncomplete;
      check.detail = path + ": " + problem;
      return check;
    }
  }
  int output[2];
  if (::pipe2(output, O_CLOEXEC) != 0) {
    check.detail = std::string("cannot run --check-config: ") + std::strerror(errno);
    return check;
  }
  SpawnRequest request;
  request.program = program;
  request.args = server_args;
  request.args.push_back("--check-config");
  request.unset = {kHandoverListenersVariable,
                   kHandoverReportFdVariable,
                   kReloadsVariable,
                   "NOTIFY_SOCKET",
                   "WATCHDOG_PID",
                   "WATCHDOG_USEC"};
  request.output = output[1];
  const Spawned spawned = spawnProcess(request);
  ::close(output[1]);
  if (spawned.pid == 0) {
    ::close(output[0]);
    check.detail = "cannot run --check-config: " + spawned.error;
    return check;
  }
  std::string printed;
  const auto until = Clock::now() + deadline;
  bool closed = false;  // the check closed its output: it ends
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0 || (cancelled != nullptr && *cancelled)) break;
    pollfd readable{output[0], POLLIN, 0};
    if (::poll(&readable, 1, static_cast<int>(std::min<int64_t>(left, 100))) <= 0) continue;
    char buffer[4096];
    const ssize_t got = ::read(output[0], buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      closed = true;
      break;
    }
    if (printed.size() < 64 * 1024) printed.append(buffer, static_cast<size_t>(got));
  }
  ::close(output[0]);
  // Closing its output is not ending: it gets the rest of the deadline, then it is ended.
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
  int status = -1;
  const std::string end =
      closed ? awaitEnd(spawned.pid, std::max(left, std::chrono::milliseconds(0)), &status)
             : std::string();
  if (!end.empty() && status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    check.verdict = DeploymentCheck::Verdict::kReady;
    check.detail = trimmed(printed);
    return check;
  }
  if (!end.empty()) {
    check.detail = "--check-config " + end + ": " + trimmed(printed);
  } else {
    const std::string ended = endProcess(spawned.pid, std::chrono::seconds(5));
    check.detail = cancelled != nullptr && *cancelled
                       ? "--check-config was ended as the server stops: it " + ended
                       : "--check-config did not end within " + std::to_string(deadline.count()) +
                             " ms and " + ended;
  }
  return check;
}

}  // namespace busbar::host
