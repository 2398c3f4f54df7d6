// Reloads by handover (SIGHUP): a new process takes the listening sockets over once it serves,
// the old one finishes its requests and exits; a new process that cannot serve leaves the old one
// serving. Driven as an operator does: drop a plugin file in the folder, edit host.conf, signal.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <Poco/File.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include "notify_socket.h"
#include "sqlite_server.h"

namespace busbar::testing {
namespace {

using namespace std::chrono_literals;

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override { Poco::File(plugins_).createDirectories(); }

  // Copies build/test-modules/<file>.so to the plugin folder as versioned.so, as an operator's
  // install does: written aside, then renamed over the old one.
  void install(const std::string& file) const {
    Poco::File(buildDir() + "/test-modules/" + file + ".so").copyTo(plugins_ + "/versioned.so.new");
    Poco::File(plugins_ + "/versioned.so.new").renameTo(plugins_ + "/versioned.so");
  }

  std::string writeConfig(const std::string& extra = "") const {
    return dir_.write("host.conf",
                      "[host]\nplugins = local, sqlite, users, versioned\nwatch_settle_ms = 200\n"
                      "plugin_dir = " +
                          buildDir() + "/lib/busbar/plugins, " + plugins_ +
                          "\n[event_bus]\ntransport = local\nexchanges.events = busbar.events\n"
                          "router._all = events\n[storage]\ndriver = sqlite\nsqlite.path = " +
                          dir_.path() + "/busbar.db\n" + extra);
  }

  static std::string versionOf(const ServerProcess& server) {
    return parseObject(server.request("GET", "/versioned").body)->getValue<std::string>("version");
  }

  static Poco::JSON::Object::Ptr processOf(const ServerProcess& server) {
    return parseObject(server.adminRequest("GET", "/health").body)->getObject("process");
  }

  // The name column of every user in the database, by id.
  std::map<std::string, std::string> storedNames() const {
    std::string output;
    EXPECT_EQ(runShell("sqlite3 -cmd '.timeout 5000' '" + dir_.path() +
                           "/busbar.db' 'SELECT id, name FROM users ORDER BY id'",
                       output),
              0)
        << output;
    std::map<std::string, std::string> names;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
      const auto bar = line.find('|');
      if (bar != std::string::npos) names[line.substr(0, bar)] = line.substr(bar + 1);
    }
    return names;
  }

  void handOverUnderLoad(bool watch, int handovers);

  TempDir dir_;
  const std::string plugins_ = dir_.path() + "/plugins";
};

// Clients that run while the server reloads: writers PUT their own user's name over and over on
// keep-alive connections, readers GET on keep-alive connections, and one client opens a new
// connection per request. A client reconnects when an answer says Connection: close; any other
// end of a connection, and any status but the expected ones, is a failure.
class SteadyLoad {
 public:
  explicit SteadyLoad(int port) : port_(port) {
    for (int writer = 0; writer < 3; ++writer) {
      threads_.emplace_back([this, writer] { write("w" + std::to_string(writer)); });
    }
    threads_.emplace_back([this] { read(); });
    threads_.emplace_back([this] { connectEachTime(); });
  }

  ~SteadyLoad() { stop(); }

  void stop() {
    stop_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  uint64_t requests() const { return requests_.load(); }
  std::vector<std::string> failures() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return failures_;
  }
  // The last name each writer's PUT was answered for.
  std::map<std::string, std::string> acknowledged() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return acknowledged_;
  }

 private:
  int send(Poco::Net::HTTPClientSession& session, const std::string& method,
           const std::string& path, const std::string& body) {
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!body.empty()) {
      request.setContentType("application/json");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    std::string answer;
    Poco::StreamCopier::copyToString(in, answer);
    ++requests_;
    return response.getStatus();
  }

  void fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failures_.size() < 20) failures_.push_back(what);
  }

  std::unique_ptr<Poco::Net::HTTPClientSession> session() const {
    auto session = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1",
                                                                  static_cast<Poco::UInt16>(port_));
    session->setKeepAlive(true);
    session->setTimeout(Poco::Timespan(30, 0));
    return session;
  }

  void write(const std::string& user) {
    auto keep_alive = session();
    for (int n = 1; !stop_; ++n) {
      const std::string name = "n" + std::to_string(n);
      try {
        const int status =
            send(*keep_alive, "PUT", "/users/" + user, R"({"name":")" + name + "\"}");
        if (status != 200 && status != 201) {
          fail("PUT /users/" + user + " answered " + std::to_string(status));
          continue;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        acknowledged_[user] = name;
      } catch (const std::exception& error) {
        fail("PUT /users/" + user + ": " + error.what());
        keep_alive->reset();
      }
    }
  }

  // GET /versioned, and GET /readyz as a load balancer's probe: the address stays ready
  // throughout a reload, whichever process answers.
  void read() {
    auto keep_alive = session();
    for (int n = 0; !stop_; ++n) {
      const char* path = n % 2 == 0 ? "/versioned" : "/readyz";
      try {
        const int status = send(*keep_alive, "GET", path, "");
        if (status != 200) fail(std::string("GET ") + path + " answered " + std::to_string(status));
      } catch (const std::exception& error) {
        fail(std::string("GET ") + path + ": " + error.what());
        keep_alive->reset();
      }
    }
  }

  void connectEachTime() {
    while (!stop_) {
      try {
        const int status = httpRequest(port_, "GET", "/users/w0").status;
        if (status != 200 && status != 404)
          fail("GET /users/w0 answered " + std::to_string(status));
        ++requests_;
      } catch (const std::exception& error) {
        fail(std::string("GET /users/w0 on a new connection: ") + error.what());
      }
    }
  }

  const int port_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> requests_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> failures_;
  std::map<std::string, std::string> acknowledged_;
  std::vector<std::thread> threads_;
};

// `handovers` reloads in a row under SteadyLoad, each dropping the other build of the module
// into the folder; with `watch` the server is `busbar watch` and the drop alone reloads it, else
// SIGHUP does. No request fails, no acknowledged write is lost, the new version serves after each.
void ReloadTest::handOverUnderLoad(bool watch, int handovers) {
  install("versioned_1");
  ServerProcess server(writeConfig(),
                       watch ? std::vector<std::string>{"watch"} : std::vector<std::string>{});
  server.start();
  const int port = server.port();
  SteadyLoad load(port);
  std::set<int> pids{server.pid()};
  for (int round = 1; round <= handovers; ++round) {
    const std::string version = round % 2 == 1 ? "2.0.0" : "1.0.0";
    install(round % 2 == 1 ? "versioned_2" : "versioned_1");
    const uint64_t before = load.requests();
    if (!watch) server.signal(SIGHUP);
    ASSERT_EQ(server.followHandover(), 0) << server.failureReport();
    EXPECT_TRUE(pids.insert(server.pid()).second) << "round " << round << ": the same process";
    EXPECT_EQ(server.port(), port);
    EXPECT_EQ(versionOf(server), version) << "round " << round;
    const auto process = processOf(server);
    EXPECT_EQ(process->getObject("plugins")->getValue<std::string>("versioned"), version);
    EXPECT_EQ(process->getObject("reloads")->getValue<int>("ok"), round);
    EXPECT_FALSE(process->getObject("reloads")->isNull("last"));
    // The clients went on through the handover.
    ASSERT_TRUE(eventually([&] { return load.requests() > before + 50; })) << server.output();
  }
  load.stop();
  EXPECT_EQ(load.failures(), std::vector<std::string>{}) << server.output();
  EXPECT_GT(load.requests(), 100u * static_cast<uint64_t>(handovers));

  // Every acknowledged write is in the database, and the serving process's copy equals it.
  const auto acknowledged = load.acknowledged();
  const auto stored = storedNames();
  ASSERT_EQ(acknowledged.size(), 3u);
  for (const auto& [user, name] : acknowledged) {
    EXPECT_EQ(stored.at(user), name) << user;
    EXPECT_TRUE(eventually([&, user = user, name = name] {
      return parseObject(server.request("GET", "/users/" + user).body)
                 ->getValue<std::string>("name") == name;
    })) << user;
  }
  const std::string metrics = server.adminRequest("GET", "/metrics").body;
  EXPECT_NE(metrics.find("busbar_reloads_total{result=\"ok\"} " + std::to_string(handovers)),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("busbar_plugin_info{kind=\"module\",name=\"versioned\",version=\"" +
                         std::string(handovers % 2 == 1 ? "2.0.0" : "1.0.0") + "\"}"),
            std::string::npos);
  if (watch) {
    // Each handover is logged with the versions before and after.
    EXPECT_NE(server.output().find("this one (plugins sqlite 1.0.0, local 1.0.0, users 1.0.0, "
                                   "versioned 1.0.0) stops accepting"),
              std::string::npos)
        << server.output();
    EXPECT_NE(server.output().find("took over at a reload; serving plugins sqlite 1.0.0, local "
                                   "1.0.0, users 1.0.0, versioned 2.0.0"),
              std::string::npos);
  }
  EXPECT_EQ(server.stop(), 0) << server.output();
}

// The handovers of a load test: `full`, or fewer on the sanitizer builds, which run 2-10x slower
// (BUSBAR_CHAOS_ROUNDS in CMakePresets.json, as for the fault rounds).
int handovers(int full) {
  const char* cap = std::getenv("BUSBAR_CHAOS_ROUNDS");
  const int most = cap != nullptr ? std::atoi(cap) : 0;
  return most > 0 ? std::min(full, most) : full;
}

TEST_F(ReloadTest, DroppingAPluginFileIntoAWatchedFolderHandsOverUnderLoad) {
  handOverUnderLoad(/*watch=*/true, handovers(20));
}

TEST_F(ReloadTest, SighupHandsOverUnderLoad) { handOverUnderLoad(/*watch=*/false, handovers(5)); }

TEST_F(ReloadTest, WatchWaitsForAWholePluginFileAndRefusesABadSet) {
  install("versioned_1");
  ServerProcess server(writeConfig(), {"watch"});
  server.start();
  // Another plugin file, cut short as a copy in progress leaves it: nothing is run.
  const std::string other = plugins_ + "/other.so";
  Poco::File(buildDir() + "/test-modules/versioned_2.so").copyTo(other);
  ASSERT_EQ(::truncate(other.c_str(), 4096), 0);
  ASSERT_TRUE(eventually([&] {
    return server.output().find("watch: waiting for the file to be complete: " + other) !=
           std::string::npos;
  })) << server.output();
  EXPECT_EQ(server.output().find("reload: starting a new process"), std::string::npos);
  // Whole, it is checked, and the server reloads.
  Poco::File(buildDir() + "/test-modules/versioned_2.so").copyTo(other);
  ASSERT_EQ(server.followHandover(), 0) << server.failureReport();
  EXPECT_EQ(processOf(server)->getObject("reloads")->getValue<int>("ok"), 1);

  // A config the check refuses: the server serves on, and says why.
  writeConfig("[versioned]\nstart_delay_ms = soon\n");
  ASSERT_TRUE(eventually([&] {
    return server.output().find(
               "watch: the new set is refused, this server serves on as before: "
               "--check-config exited with status 2: busbar: ") != std::string::npos;
  })) << server.output();
  EXPECT_NE(server.output().find("[versioned] start_delay_ms must be an integer"),
            std::string::npos);
  EXPECT_TRUE(server.running());
  EXPECT_EQ(versionOf(server), "1.0.0");
  EXPECT_EQ(processOf(server)->getObject("reloads")->getValue<int>("ok"), 1);
  EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST_F(ReloadTest, ANewProcessThatCannotServeLeavesTheOldOneServing) {
  install("versioned_1");
  ServerProcess server(writeConfig("[versioned]\n"));
  server.start();
  const pid_t serving = server.pid();
  ASSERT_EQ(server.request("PUT", "/users/kept", R"({"name":"K"})").status, 201);
  struct Attempt {
    const char* what;
    std::function<void()> prepare;
    const char* logged;
  };
  const std::vector<Attempt> attempts = {
      {"a bad config", [&] { writeConfig("[versioned]\nstart_delay_ms = soon\n"); },
       "[versioned] start_delay_ms"},
      {"a migration that fails", [&] { writeConfig("[versioned]\nfailing_migration = true\n"); },
       "the versioned module's migration 1 failed"},
      {"a truncated plugin file",
       [&] {
         writeConfig("[versioned]\n");
         // Renamed over the loaded one, never written in place: the old process maps that file.
         const std::string file = plugins_ + "/versioned.so.new";
         Poco::File(buildDir() + "/test-modules/versioned_2.so").copyTo(file);
         ASSERT_EQ(::truncate(file.c_str(), 4096), 0);
         Poco::File(file).renameTo(plugins_ + "/versioned.so");
       },
       "versioned.so"},
      {"a plugin that aborts when loaded", [&] { install("aborting/versioned_aborts"); },
       "was ended by signal 6 (Aborted) before it was ready"},
  };
  int failed = 0;
  for (const auto& attempt : attempts) {
    attempt.prepare();
    server.signal(SIGHUP);
    ++failed;
    ASSERT_TRUE(eventually(
        [&] {
          return server.adminRequest("GET", "/metrics")
                     .body.find("busbar_reloads_total{result=\"failed\"} " +
                                std::to_string(failed)) != std::string::npos;
        },
        30s))
        << attempt.what << "\n"
        << server.output();
    EXPECT_TRUE(server.running()) << attempt.what;
    EXPECT_EQ(server.pid(), serving);
    const std::string output = server.output();
    const auto refused = output.rfind("reload failed, this process serves on as before");
    ASSERT_NE(refused, std::string::npos) << output;
    EXPECT_NE(output.find(attempt.logged, refused), std::string::npos) << attempt.what << "\n"
                                                                       << output.substr(refused);
    EXPECT_EQ(versionOf(server), "1.0.0");
    EXPECT_EQ(server.request("GET", "/users/kept").status, 200);
    EXPECT_EQ(server.request("PUT", "/users/kept", R"({"name":"K2"})").status, 200);
  }
  EXPECT_EQ(processOf(server)->getObject("reloads")->getValue<int>("failed"), 4);

  // Fixed, the next reload works.
  install("versioned_2");
  server.signal(SIGHUP);
  ASSERT_EQ(server.followHandover(), 0) << server.failureReport();
  EXPECT_EQ(versionOf(server), "2.0.0");
  const auto reloads = processOf(server)->getObject("reloads");
  EXPECT_EQ(reloads->getValue<int>("ok"), 1);
  EXPECT_EQ(reloads->getValue<int>("failed"), 4);  // carried over to the new process
  EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST_F(ReloadTest, ANewProcessNotServingInTimeIsEndedAndTheOldOneServesOn) {
  install("versioned_1");
  ServerProcess server(writeConfig("[host]\nreload_timeout_seconds = 1\n"));
  server.start();
  writeConfig("[host]\nreload_timeout_seconds = 1\n[versioned]\nstart_delay_ms = 30000\n");
  server.signal(SIGHUP);
  ASSERT_TRUE(eventually(
      [&] {
        return server.adminRequest("GET", "/metrics")
                   .body.find("busbar_reloads_total{result=\"timed_out\"} 1") != std::string::npos;
      },
      30s))
      << server.output();
  EXPECT_NE(server.output().find("it did not serve within 1 s ([host] reload_timeout_seconds) and "
                                 "was ended by signal 15"),
            std::string::npos)
      << server.output();
  EXPECT_EQ(versionOf(server), "1.0.0");
  EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST_F(ReloadTest, AStopSignalDuringAReloadEndsTheNewProcessAndStopsTheOld) {
  install("versioned_1");
  ServerProcess server(writeConfig());
  server.start();
  writeConfig("[versioned]\nstart_delay_ms = 30000\n");
  server.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] {
    return server.output().find("reload: starting a new process") != std::string::npos;
  })) << server.output();
  EXPECT_EQ(server.stop(), 0) << server.output();
  EXPECT_NE(server.output().find("reload given up for a stop signal"), std::string::npos)
      << server.output();
  // No process of this server is left: no socket listens on its port (a new process left
  // behind would hold the one it inherited).
  const int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(probe, reinterpret_cast<sockaddr*>(&address), sizeof address), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  ::close(probe);
}

TEST_F(ReloadTest, SystemdFollowsTheNewMainProcessAndItsWatchdog) {
  install("versioned_1");
  NotifySocket systemd(dir_.path() + "/notify");
  // WATCHDOG_PID names the first process, as systemd sets it: the new one must ping all the same.
  ServerProcess server(
      writeConfig(), {},
      {{"NOTIFY_SOCKET", systemd.path()}, {"WATCHDOG_USEC", "600000"}, {"WATCHDOG_PID", kOwnPid}});
  server.start();
  ASSERT_TRUE(
      eventually([&] { return systemd.receive().find("WATCHDOG=1") != std::string::npos; }));
  const pid_t old_pid = server.pid();
  systemd.clear();
  server.signal(SIGHUP);
  ASSERT_EQ(server.followHandover(), 0) << server.failureReport();
  const pid_t new_pid = server.pid();
  // The watchdog is the new process's once it serves (systemd's WATCHDOG_PID names the old one).
  ASSERT_TRUE(eventually([&] {
    const std::string output = server.output();
    const std::string kWatchdog = "systemd watchdog: WATCHDOG=1 every 200 ms";
    const auto first = output.find(kWatchdog);
    return first != std::string::npos && output.find(kWatchdog, first + 1) != std::string::npos;
  })) << server.output();
  ASSERT_TRUE(eventually([&] {
    for (const auto& [sender, text] : systemd.senders()) {
      if (sender == new_pid && text == "WATCHDOG=1") return true;
    }
    return false;
  })) << systemd.receive();
  // The old process says a reload begins, then names the new main process as ready; the new one
  // says nothing of its start (it is not the main process yet), the old one nothing of its stop.
  std::vector<std::string> from_old;
  std::vector<std::string> from_new;
  for (const auto& [sender, text] : systemd.senders()) {
    if (text == "WATCHDOG=1") continue;
    (sender == old_pid ? from_old : from_new).push_back(text);
  }
  ASSERT_EQ(from_old.size(), 2u) << systemd.receive();
  EXPECT_EQ(from_old[0].rfind("RELOADING=1\n", 0), 0u) << from_old[0];
  EXPECT_EQ(from_old[1].rfind("MAINPID=" + std::to_string(new_pid) + "\nREADY=1\n", 0), 0u)
      << from_old[1];
  EXPECT_EQ(from_new, std::vector<std::string>{});
  systemd.clear();
  EXPECT_EQ(server.stop(), 0);
  EXPECT_NE(systemd.receive().find("STOPPING=1"), std::string::npos) << systemd.receive();
}

// A module built against an earlier minor's SDK as released (tests/fixtures/sdk-1.2, the last
// minor without a digest, to sdk-1.5, the previous minor) loads and serves in this host, and a
// reload hands it over to this SDK's build of it.
TEST_F(ReloadTest, AModuleBuiltAgainstThePreviousMinorsSdkServesAndIsReplaced) {
  for (const auto& [minor, module] :
       {std::pair<std::string, std::string>{"1.2", "versioned_sdk_1_2"},
        {"1.3", "versioned_sdk_1_3"},
        {"1.4", "versioned_sdk_1_4"},
        {"1.5", "versioned_sdk_1_5"}}) {
    SCOPED_TRACE("built against SDK " + minor);
    install(module);
    ServerProcess server(writeConfig());
    server.start();
    EXPECT_EQ(server.request("GET", "/versioned").body, R"({"version":")" + minor + R"(-sdk"})");
    auto plugins = httpRequest(server.adminPort(), "GET", "/admin/plugins");
    EXPECT_NE(plugins.body.find(R"("version":")" + minor + R"(-sdk","abi":")" + minor + "\""),
              std::string::npos)
        << plugins.body;
    install("versioned_2");
    server.signal(SIGHUP);
    ASSERT_EQ(server.followHandover(), 0) << server.failureReport();
    EXPECT_EQ(server.request("GET", "/versioned").body, R"({"version":"2.0.0"})");
    EXPECT_EQ(server.stop(), 0) << server.output();
  }
}

TEST_F(ReloadTest, BusbarPluginsTellsWhichVersionServesNow) {
  install("versioned_1");
  const std::string config = writeConfig();
  ServerProcess server(config);
  server.start();
  install("versioned_2");  // in the folder, not serving until a reload
  const std::vector<std::string> plugins = {"plugins", "--config", config, "--bind",
                                            "127.0.0.1:" + std::to_string(server.port())};
  std::string listed;
  ASSERT_EQ(runBusbar(plugins, listed), 0) << listed;
  EXPECT_NE(listed.find("server on 127.0.0.1:" + std::to_string(server.port()) + ": PID " +
                        std::to_string(server.pid()) + ", plugins "),
            std::string::npos)
      << listed;
  EXPECT_NE(listed.find("versioned 1.0.0; 0 reloads\n"), std::string::npos) << listed;
  EXPECT_NE(listed.find("version 2.0.0, ABI"), std::string::npos) << listed;
  EXPECT_NE(listed.find("status ok, version 1.0.0 serves now\n"), std::string::npos) << listed;

  server.signal(SIGHUP);
  ASSERT_EQ(server.followHandover(), 0) << server.failureReport();
  ASSERT_EQ(runBusbar(plugins, listed), 0) << listed;
  EXPECT_NE(listed.find("PID " + std::to_string(server.pid()) + ", plugins "), std::string::npos)
      << listed;
  EXPECT_NE(listed.find("versioned 2.0.0; 1 reloads, the last at "), std::string::npos) << listed;
  EXPECT_EQ(listed.find("serves now"), std::string::npos) << listed;
  EXPECT_NE(listed.find("status ok, serving now"), std::string::npos) << listed;
  EXPECT_EQ(server.stop(), 0) << server.output();

  ASSERT_EQ(runBusbar(plugins, listed), 0) << listed;
  EXPECT_NE(listed.find(": no answer ("), std::string::npos) << listed;
}

TEST_F(ReloadTest, Sigusr1ReopensTheLogFileAfterLogrotateMovedIt) {
  install("versioned_1");
  ServerProcess server(writeConfig("[log]\nfile = busbar.log\nrotation = none\n"));
  server.start();
  const std::string log = dir_.path() + "/busbar.log";
  ASSERT_TRUE(Poco::File(log).exists());
  Poco::File(log).renameTo(log + ".1");
  server.signal(SIGUSR1);
  ASSERT_TRUE(eventually([&] { return Poco::File(log).exists(); })) << server.output();
  ASSERT_EQ(server.stop(), 0);
  std::string written;
  runShell("cat '" + log + "'", written);
  EXPECT_NE(written.find("reopened the log files"), std::string::npos) << written;
  EXPECT_NE(written.find("stopped cleanly"), std::string::npos) << written;
}

}  // namespace
}  // namespace busbar::testing
