#include "handover/deployment_check.h"

#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>

namespace busbar::host {
namespace {

using namespace std::chrono_literals;
using Verdict = DeploymentCheck::Verdict;

// A shell script stands in for `busbar --check-config`: it gets the server's options and
// --check-config after them.
DeploymentCheck checkWith(const std::string& script, const std::set<std::string>& changed = {},
                          std::chrono::milliseconds deadline = 10s) {
  return checkDeployment("/bin/sh", {"-c", script}, changed, deadline);
}

TEST(DeploymentCheckTest, ASetTheCheckAcceptsIsReady) {
  const auto check = checkWith("[ \"$0\" = --check-config ] && echo 'host.conf: ok'");
  EXPECT_EQ(check.verdict, Verdict::kReady) << check.detail;
  EXPECT_EQ(check.detail, "host.conf: ok");
}

TEST(DeploymentCheckTest, ASetTheCheckRefusesIsRefusedWithItsMessage) {
  const auto check =
      checkWith("echo 'busbar: host.conf: [http] bogus is not a known key' >&2; exit 2");
  EXPECT_EQ(check.verdict, Verdict::kRefused);
  EXPECT_EQ(
      check.detail,
      "--check-config exited with status 2: busbar: host.conf: [http] bogus is not a known key");
}

TEST(DeploymentCheckTest, ACheckThatCrashesOrHangsRefuses) {
  EXPECT_EQ(checkWith("kill -ABRT $$").detail, "--check-config was ended by signal 6 (Aborted): ");
  const auto hung = checkWith("exec sleep 30", {}, 300ms);
  EXPECT_EQ(hung.verdict, Verdict::kRefused);
  EXPECT_EQ(hung.detail,
            "--check-config did not end within 300 ms and was ended by signal 15 (Terminated)");
}

TEST(DeploymentCheckTest, ACheckThatClosesItsOutputButRunsOnIsEndedAtTheDeadline) {
  const auto check = checkWith("exec >&- 2>&-; exec sleep 30", {}, 300ms);
  EXPECT_EQ(check.verdict, Verdict::kRefused);
  EXPECT_EQ(check.detail,
            "--check-config did not end within 300 ms and was ended by signal 15 (Terminated)");
}

TEST(DeploymentCheckTest, AStoppingServerEndsTheCheckAtOnce) {
  std::atomic<bool> stopping{false};
  std::thread stop([&] {
    std::this_thread::sleep_for(200ms);
    stopping = true;
  });
  const auto started = std::chrono::steady_clock::now();
  const auto check = checkDeployment("/bin/sh", {"-c", "exec sleep 30"}, {}, 60s, &stopping);
  stop.join();
  EXPECT_EQ(check.verdict, Verdict::kRefused);
  EXPECT_EQ(check.detail,
            "--check-config was ended as the server stops: it was ended by signal 15 (Terminated)");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
}

TEST(DeploymentCheckTest, APluginFileNotCompleteYetWaitsWithoutRunningTheCheck) {
  const std::string file = Poco::TemporaryFile::tempName() + ".so";
  // The start of this test binary's own ELF file, as a copy in progress leaves it.
  Poco::File("/proc/self/exe").copyTo(file);
  ASSERT_EQ(::truncate(file.c_str(), 4096), 0);
  const std::string ran = Poco::TemporaryFile::tempName();
  const auto check = checkWith("touch " + ran, {file});
  EXPECT_EQ(check.verdict, Verdict::kIncomplete);
  EXPECT_EQ(check.detail.rfind(file + ": ", 0), 0u) << check.detail;
  EXPECT_FALSE(Poco::File(ran).exists());
  // A file deleted, or not a plugin, is left to the check.
  Poco::File(file).remove();
  EXPECT_EQ(checkWith("true", {file, "/etc/hostname"}).verdict, Verdict::kReady);
}

}  // namespace
}  // namespace busbar::host
