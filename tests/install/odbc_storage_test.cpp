// examples/odbc-storage as a third party ships it: odbc.so built out of tree against the
// installed SDK (install.examples), proved by the installed busbar-conformance suites and loaded
// by the installed busbar, against PostgreSQL through psqlODBC. Each test has a database and a
// role of its own on the run's PostgreSQL (scripts/services/postgresql.sh database), which
// scripts/test drops at its end.
#include <regex>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include "free_port.h"
#include "server_process.h"
#include "service_database.h"

namespace busbar::testing {
namespace {

const std::string kPrefix = BUSBAR_INSTALL_PREFIX;
const std::string kExamplePlugins = BUSBAR_EXAMPLE_PLUGINS;
constexpr std::chrono::seconds kDeadline{10};

// The number N of GoogleTest's "[  PASSED  ] N tests." line, 0 without one.
int passedTests(const std::string& output) {
  std::smatch match;
  static const std::regex passed(R"(\[  PASSED  \] (\d+) tests?\.)");
  return std::regex_search(output, match, passed) ? std::stoi(match[1]) : 0;
}

// The installed busbar, run by the test support's launcher so that it never outlives the test.
class Server {
 public:
  Server(const std::string& config, const std::string& dir)
      : port_(freePort()),
        admin_port_(freePort()),
        process_(kPrefix + "/bin/busbar",
                 {"--config", config, "--bind", "127.0.0.1:" + std::to_string(port_),
                  "--admin-bind", "127.0.0.1:" + std::to_string(admin_port_)},
                 dir) {}

  // Starts it and waits until GET /health answers; throws with its output when it does not.
  void start() {
    process_.start();
    const bool up = eventually(
        [this] {
          if (!process_.running()) return true;
          try {
            return httpRequest(port_, "GET", "/health").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        std::chrono::seconds(30));
    if (!up || !process_.running()) {
      throw std::runtime_error("busbar did not start; its output:\n" + process_.output());
    }
  }

  HttpResult request(const std::string& method, const std::string& path,
                     const std::string& body = "") const {
    return httpRequest(port_, method, path, body);
  }

  // The name of user `id` as this server answers it, "" when it does not have it.
  std::string nameOf(const std::string& id) const {
    HttpResult result = request("GET", "/users/" + id);
    if (result.status != 200) return "";
    Poco::JSON::Parser parser;
    return parser.parse(result.body)
        .extract<Poco::JSON::Object::Ptr>()
        ->getValue<std::string>("name");
  }

  // Events this server's subscribers heard (GET /health events.delivered).
  int64_t delivered() const {
    Poco::JSON::Parser parser;
    return parser.parse(request("GET", "/health").body)
        .extract<Poco::JSON::Object::Ptr>()
        ->getObject("events")
        ->getValue<int64_t>("delivered");
  }

  int stop() { return process_.stop(); }
  std::string output() const { return process_.output(); }

 private:
  int port_;
  int admin_port_;
  ChildProcess process_;
};

class OdbcStorageTest : public ::testing::Test {
 protected:
  OdbcStorageTest() {
    const auto keys = createServiceDatabase("postgresql");
    connection_ = "DRIVER={PostgreSQL Unicode};SERVER=" + keys.at("host") +
                  ";PORT=" + keys.at("port") + ";DATABASE=" + keys.at("database") +
                  ";UID=" + keys.at("user") + ";PWD=" + keys.at("password");
  }

  // [storage] of the odbc plugin on this test's database.
  std::string storageSection() const {
    return "[storage]\ndriver = odbc\nodbc.connection = " + connection_ + "\n";
  }

  // Runs the installed `busbar-conformance SUITE` on odbc.so; returns its exit code.
  int conformance(const std::string& suite, std::string& output) {
    const std::string file = dir_.write(suite + ".conf", storageSection());
    return runShell(kPrefix + "/bin/busbar-conformance " + suite + " --plugin odbc --config " +
                        file + " --plugin-dir " + kExamplePlugins + " 2>&1",
                    output);
  }

  std::string connection_;
  TempDir dir_;
};

TEST_F(OdbcStorageTest, TheInstalledStorageSuitePasses) {
  std::string output;
  EXPECT_EQ(conformance("storage", output), 0) << output;
  EXPECT_GT(passedTests(output), 0) << output;
  EXPECT_EQ(output.find("[  FAILED  ]"), std::string::npos) << output;
}

TEST_F(OdbcStorageTest, TheInstalledEventLogSuitePasses) {
  std::string output;
  EXPECT_EQ(conformance("event-log", output), 0) << output;
  EXPECT_GT(passedTests(output), 0) << output;
  EXPECT_EQ(output.find("[  FAILED  ]"), std::string::npos) << output;
}

// What an operator gets wrong stops the installed busbar with exit code 2 and a message naming
// [storage] and the key: a misspelt key (found without connecting), a wrong password (at start);
// a server that does not answer is exit code 1.
TEST_F(OdbcStorageTest, ABadConnectionStringIsNamedWithItsFix) {
  const auto run = [&](const std::string& storage, const std::string& extra, std::string& output) {
    const std::string file = dir_.write(
        "bad.conf", "[host]\nplugins = odbc, local, users\nplugin_dir = " + kExamplePlugins + ", " +
                        kPrefix + "/lib/busbar/plugins\nbind = 127.0.0.1:" +
                        std::to_string(freePort()) + "\n[storage]\ndriver = odbc\n" + storage);
    return runShell(kPrefix + "/bin/busbar --config " + file + extra + " 2>&1", output);
  };
  std::string output;
  EXPECT_EQ(run("odbc.conection = " + connection_ + "\n", " --check-config", output), 2) << output;
  EXPECT_NE(output.find("[storage] odbc.conection is not a known key. Did you mean "
                        "odbc.connection?"),
            std::string::npos)
      << output;
  std::string wrong_password = connection_.substr(0, connection_.find(";PWD=")) + ";PWD=wrong";
  EXPECT_EQ(run("odbc.connection = " + wrong_password + "\n", "", output), 2) << output;
  EXPECT_NE(output.find("[storage] odbc.connection must reach the database: the user (UID=) or "
                        "its password (PWD=) is wrong"),
            std::string::npos)
      << output;
  EXPECT_EQ(output.find("PWD=wrong"), std::string::npos) << "the password was shown: " << output;
  EXPECT_EQ(run("odbc.connection = DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;PORT=" +
                    std::to_string(freePort()) + ";DATABASE=x;UID=y;PWD=z\n",
                "", output),
            1)
      << output;
  EXPECT_NE(output.find("the database does not answer"), std::string::npos) << output;
}

// README's three-server scenario with storage = odbc: three servers on one PostgreSQL database
// through odbc.so, with the event log on. The transport is local (in-process) and the consistency
// observer, which would repair the caches in the end, is off: what the other servers show came
// through the event log in the database, which each reads every 250 ms.
TEST_F(OdbcStorageTest, AWriteOnOneOfThreeServersIsReadOnTheOthers) {
  const std::string file = dir_.write(
      "cluster.conf", "[host]\nplugins = odbc, local, users\nplugin_dir = " + kExamplePlugins +
                          ", " + kPrefix +
                          "/lib/busbar/plugins\n"
                          "[event_bus]\ntransport = local\ncatch_up_interval = 250ms\n"
                          "[event_log]\nenabled = true\n[consistency]\nenabled = false\n" +
                          storageSection());
  std::vector<std::unique_ptr<Server>> servers;
  for (int i = 0; i < 3; ++i) {
    servers.push_back(std::make_unique<Server>(file, dir_.path()));
    servers.back()->start();
  }
  const auto outputs = [&] {
    std::string all;
    for (const auto& server : servers) all += "---- a server's output:\n" + server->output();
    return all;
  };
  Server& one = *servers[0];
  Server& two = *servers[1];
  Server& three = *servers[2];
  ASSERT_EQ(one.request("PUT", "/users/alice", R"({"name":"Alice"})").status, 201) << outputs();
  EXPECT_TRUE(eventually([&] { return two.nameOf("alice") == "Alice"; }, kDeadline)) << outputs();
  EXPECT_TRUE(eventually([&] { return three.nameOf("alice") == "Alice"; }, kDeadline)) << outputs();
  ASSERT_EQ(three.request("PUT", "/users/alice", R"({"name":"Alicia"})").status, 200) << outputs();
  EXPECT_TRUE(eventually([&] { return one.nameOf("alice") == "Alicia"; }, kDeadline)) << outputs();
  EXPECT_TRUE(eventually([&] { return two.nameOf("alice") == "Alicia"; }, kDeadline)) << outputs();
  // Each server's subscribers heard both events: its own at once, the others' from the log.
  for (const auto& server : servers) {
    EXPECT_TRUE(eventually([&] { return server->delivered() == 2; }, kDeadline))
        << "delivered " << server->delivered() << "\n"
        << outputs();
  }
  for (auto& server : servers) EXPECT_EQ(server->stop(), 0) << server->output();
}

}  // namespace
}  // namespace busbar::testing
