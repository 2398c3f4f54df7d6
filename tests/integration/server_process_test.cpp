// The test support's own guarantees. A busbar server does not outlive the test process that
// started it: when that process is killed (a crash, a timeout, Ctrl-C of the suite), the server
// goes with it, even when it was started from a thread that ended long before. A server does not
// fail to start because another process took the port chosen for it.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <Poco/File.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Process.h>

#include "sqlite_server.h"

namespace busbar::testing {
namespace {

// Set in the child test process: the folder it works in (and reports to).
const char* const kChildFolder = "BUSBAR_SERVER_PROCESS_TEST_FOLDER";
const char* const kTestName = "ServerProcessTest.AServerDiesWithTheTestProcessThatStartedIt";

// True while `pid` exists and is not a zombie (a killed orphan stays a zombie until its new
// parent reaps it, and in a container that may be never).
bool processLives(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  auto name_end = text.rfind(')');
  if (name_end == std::string::npos || name_end + 2 >= text.size()) return false;
  char state = text[name_end + 2];
  return state != 'Z' && state != 'X';
}

// The program `pid` runs, or "" when it is gone.
std::string programOf(pid_t pid) {
  char path[4096];
  ssize_t size =
      ::readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), path, sizeof(path) - 1);
  return size > 0 ? std::string(path, static_cast<size_t>(size)) : "";
}

// The child test process: starts a server from a thread that ends at once, checks that the
// server still answers afterwards, reports "PID PORT" in `folder`/server and waits to be killed.
[[noreturn]] void runChild(const std::string& folder) {
  int code = 0;
  try {
    ServerProcess server(folder + "/host.conf");
    std::string failure;
    std::thread starter([&] {
      try {
        server.start();
      } catch (const std::exception& error) {
        failure = error.what();
      }
    });
    starter.join();
    if (!failure.empty()) throw std::runtime_error(failure);
    // A server whose death signal were tied to the starting thread would be gone by now.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!server.running() || server.request("GET", "/health").status != 200) {
      throw std::runtime_error("the server ended with the thread that started it:\n" +
                               server.output());
    }
    std::ofstream(folder + "/server.tmp") << server.pid() << " " << server.port() << "\n";
    Poco::File(folder + "/server.tmp").renameTo(folder + "/server");
    std::this_thread::sleep_for(std::chrono::seconds(60));
    std::cerr << "child test process: not killed within 60 s\n";
    code = 3;
  } catch (const std::exception& error) {
    std::cerr << "child test process: " << error.what() << "\n";
    code = 2;
  }
  std::_Exit(code);
}

TEST(ServerProcessTest, AServerDiesWithTheTestProcessThatStartedIt) {
  if (const char* folder = std::getenv(kChildFolder)) runChild(folder);

  TempDir dir;
  dir.write("host.conf", sqliteConfig(dir.path()));
  // The child's temporary files (the server's log) go to `dir` too: it never cleans up.
  Poco::Process::Env env{{kChildFolder, dir.path()}, {"TMPDIR", dir.path()}};
  Poco::ProcessHandle child =
      Poco::Process::launch(programOf(::getpid()), {std::string("--gtest_filter=") + kTestName},
                            dir.path(), nullptr, nullptr, nullptr, env);
  const std::string report = dir.path() + "/server";
  bool reported =
      eventually([&] { return Poco::File(report).exists() || !Poco::Process::isRunning(child); },
                 std::chrono::seconds(60));
  if (!reported || !Poco::File(report).exists()) {
    if (Poco::Process::isRunning(child)) Poco::Process::kill(child);
    FAIL() << "the child test process did not report a running server; exit code " << child.wait();
  }
  pid_t server_pid = 0;
  int port = 0;
  std::ifstream(report) >> server_pid >> port;
  ASSERT_GT(server_pid, 0);
  ASSERT_TRUE(processLives(server_pid));
  EXPECT_EQ(httpRequest(port, "GET", "/health").status, 200);

  ASSERT_EQ(::kill(child.id(), SIGKILL), 0);
  EXPECT_EQ(child.wait(), 256 + SIGKILL);

  bool gone = eventually([&] { return !processLives(server_pid); }, std::chrono::seconds(10));
  if (!gone && programOf(server_pid) == buildDir() + "/bin/busbar") {
    ::kill(server_pid, SIGKILL);  // leave no server behind, even when the test fails
  }
  EXPECT_TRUE(gone) << "busbar (pid " << server_pid << ") still runs after its test process was "
                    << "killed";
  EXPECT_ANY_THROW(httpRequest(port, "GET", "/health"));
}

// The suite's outgoing connections and its other servers bind ports too; one that takes a port
// between freePort() and busbar's bind costs a restart on fresh ports, not the test.
TEST(ServerProcessTest, AServerWhosePortWasTakenMeanwhileStartsOnAnother) {
  TempDir dir;
  ServerProcess server(dir.write("host.conf", sqliteConfig(dir.path())));
  const int chosen = server.port();
  Poco::Net::ServerSocket taken(
      Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(chosen)));

  server.start();
  EXPECT_NE(server.port(), chosen);
  EXPECT_EQ(server.request("GET", "/health").status, 200);
  EXPECT_NE(server.output().find("cannot listen on 127.0.0.1:" + std::to_string(chosen)),
            std::string::npos)
      << server.output();
}

TEST(ServerProcessTest, FreePortsLieBelowTheKernelsEphemeralRange) {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int ephemeral_start = 0;
  ASSERT_TRUE(range >> ephemeral_start);
  for (int i = 0; i < 50; ++i) {
    const int port = freePort();
    EXPECT_GT(port, 0);
    // With less room than that below the range, freePort() takes what the kernel gives.
    if (ephemeral_start >= 17000) {
      EXPECT_LT(port, ephemeral_start);
    }
  }
}

// A server's public and admin ports are picked one after the other, before either is bound: the
// same port twice makes busbar refuse its config.
TEST(ServerProcessTest, NoPortIsHandedOutTwice) {
  std::set<int> ports;
  for (int i = 0; i < 2000; ++i) {
    const int port = freePort();
    EXPECT_TRUE(ports.insert(port).second) << "port " << port << " handed out again at pick " << i;
  }
}

}  // namespace
}  // namespace busbar::testing
