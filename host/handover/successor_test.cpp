#include "handover/successor.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

namespace busbar::host {
namespace {

using namespace std::chrono_literals;
using Outcome = Successor::Outcome;

// A shell script stands in for the new process: it reads what a busbar would from its
// environment and reports as one would.
Successor::Result runScript(const std::string& script, HandoverEnvironment handover = {},
                            std::chrono::milliseconds deadline = 10s,
                            const std::function<bool()>& cancelled = {},
                            std::chrono::milliseconds kill_grace = 5s) {
  return Successor::run("/bin/sh", {"-c", script}, std::move(handover), deadline, cancelled,
                        kill_grace);
}

void endProcess(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

constexpr char kReport[] = "R=$BUSBAR_HANDOVER_REPORT_FD; ";

TEST(SuccessorTest, ANewProcessThatReportsReadyGetsTheListenersAndNothingElse) {
  Poco::Net::ServerSocket listener;
  listener.bind(Poco::Net::SocketAddress("127.0.0.1", 0), true, true);
  listener.listen(16);
  const int fd = listener.impl()->sockfd();
  // Descriptors of this process not handed over, with close-on-exec and without (as Poco's
  // sockets and log files are).
  const int other = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int inheritable = ::socket(AF_INET, SOCK_STREAM, 0);
  HandoverEnvironment handover;
  ASSERT_EQ(::dup2(fd, inheritable + 10), inheritable + 10);
  handover.listeners = {{"public", {inheritable + 10, fd}}};
  handover.history.succeeded = 4;
  // The report socket becomes 3 and the listeners 4 and 5, and no other socket is open.
  const std::string script =
      std::string(kReport) +
      "for n in 4 5; do case \"$(readlink /proc/$$/fd/$n)\" in socket:*) ;; *) "
      "echo \"failed listener $n missing\" >&$R; exit 3;; esac; done; "
      "sockets=$(ls -l /proc/$$/fd | grep -c socket:); "
      "[ \"$sockets\" = 3 ] || { echo \"failed $sockets sockets open\" >&$R; exit 3; }; "
      "[ -n \"$WATCHDOG_PID\" ] && { echo \"failed WATCHDOG_PID kept\" >&$R; exit 3; }; "
      "[ \"$R $BUSBAR_HANDOVER_LISTENERS\" = '3 public:4,5' ] || "
      "{ echo \"failed variables $R $BUSBAR_HANDOVER_LISTENERS\" >&$R; exit 3; }; "
      "case \"$BUSBAR_RELOADS\" in ok:4,*) ;; *) echo \"failed $BUSBAR_RELOADS\" >&$R; exit 3;; "
      "esac; echo ready >&$R; exec sleep 30";
  ::setenv("WATCHDOG_PID", "1", 1);
  const auto result = runScript(script, handover);
  ::unsetenv("WATCHDOG_PID");
  EXPECT_EQ(result.outcome, Outcome::kReady) << result.detail;
  EXPECT_GT(result.pid, 0);
  EXPECT_EQ(::kill(result.pid, 0), 0);  // it runs on: it serves now
  endProcess(result.pid);
  ::close(other);
  ::close(inheritable);
  ::close(inheritable + 10);
}

TEST(SuccessorTest, ANewProcessThatSaysWhyItFailedIsReapedAndItsReasonKept) {
  const auto result =
      runScript(std::string(kReport) + "echo 'failed host.conf: [http] bad key' >&$R; exit 2");
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_EQ(result.detail, "host.conf: [http] bad key; it exited with status 2");
  EXPECT_EQ(::kill(result.pid, 0), -1);  // reaped
}

TEST(SuccessorTest, ANewProcessThatCrashesBeforeReportingIsAFailureNamingTheSignal) {
  const auto result = runScript("kill -ABRT $$");
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_EQ(result.detail, "it was ended by signal 6 (Aborted) before it was ready");
}

TEST(SuccessorTest, ANewProcessNotReadyByTheDeadlineIsEnded) {
  const auto result = runScript("exec sleep 30", {}, 300ms);
  EXPECT_EQ(result.outcome, Outcome::kTimedOut);
  EXPECT_EQ(result.detail, "was ended by signal 15 (Terminated)");
  EXPECT_EQ(::kill(result.pid, 0), -1);
}

TEST(SuccessorTest, ANewProcessThatIgnoresSigtermIsKilled) {
  const auto result = runScript("trap '' TERM; while :; do sleep 0.05; done", {}, 300ms, {}, 300ms);
  EXPECT_EQ(result.outcome, Outcome::kTimedOut);
  EXPECT_EQ(result.detail, "was ended by signal 9 (Killed) after SIGTERM was not enough");
}

TEST(SuccessorTest, AStopSignalMeanwhileCancelsTheReload) {
  const auto asked = std::chrono::steady_clock::now() + 200ms;
  const auto result = runScript("exec sleep 30", {}, 10s,
                                [&] { return std::chrono::steady_clock::now() >= asked; });
  EXPECT_EQ(result.outcome, Outcome::kCancelled);
  EXPECT_EQ(::kill(result.pid, 0), -1);
}

TEST(SuccessorTest, AProgramThatCannotStartIsAFailure) {
  const auto result = Successor::run("/nonexistent/busbar", {}, {}, 1s, {});
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_EQ(result.pid, 0);
  EXPECT_NE(result.detail.find("cannot start /nonexistent/busbar: No such file"), std::string::npos)
      << result.detail;
}

}  // namespace
}  // namespace busbar::host
