// A database restart while busbar serves: writes answer 503 quickly during the outage, reads of
// the composed users repository keep answering from memory, and writes succeed again once the
// database is back, without restarting busbar. The outage is made by a proxy between busbar and
// the real server cutting every connection and refusing new ones, so that the shared test
// databases stay up for the suites that run meanwhile.
#include <chrono>
#include <fstream>

#include <gtest/gtest.h>

#include "server_process.h"
#include "storage_backends.h"
#include "storage_contract.h"
#include "tcp_proxy.h"

namespace busbar::testing {
namespace {

using Clock = std::chrono::steady_clock;

class DatabaseRestart : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& driver() const { return GetParam(); }

  // A host.conf for the local transport, this driver through `proxy_port`, and composed users.
  std::string writeConfig(const std::map<std::string, std::string>& keys, int proxy_port) {
    std::string text = "[host]\nplugins = local, " + driver() +
                       ", users\n\n[event_bus]\ntransport = local\nexchanges.events = "
                       "busbar.events\nrouter._all = events\n\n[storage]\n";
    for (const auto& [key, value] : keys) {
      if (key == "password" || key == "port") continue;
      text += key + " = " + value + "\n";
    }
    text += "port = " + std::to_string(proxy_port) + "\nconnect_timeout = 2\n";
    text += "\n[users]\nrepository = composed\n";
    return folder_.write("host.conf", text);
  }

  // PUT /users/{id}; fails the test when it takes longer than `limit`.
  HttpResult put(ServerProcess& server, const std::string& id, const std::string& name,
                 std::chrono::milliseconds limit = std::chrono::milliseconds(3500)) {
    auto start = Clock::now();
    HttpResult result = server.request("PUT", "/users/" + id, "{\"name\":\"" + name + "\"}");
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    EXPECT_LT(took.count(), limit.count()) << "PUT " << id << " hung; answered " << result.status;
    return result;
  }

  TempDir folder_;
};

TEST_P(DatabaseRestart, WritesFailFastDuringTheOutageAndResumeAfterIt) {
  auto keys = storageKeys(driver());
  TcpProxy proxy(keys.at("host"), std::stoi(keys.at("port")));
  proxy.start();
  ServerProcess server(writeConfig(keys, proxy.port()), {},
                       {{"BUSBAR_STORAGE_PASSWORD", keys.at("password")}});
  server.start();
  const std::string id = uniqueTableName("restart");

  ASSERT_EQ(put(server, id, "before").status, 201) << server.output();

  proxy.cut();  // the database goes away: every session breaks, new ones are refused
  for (int i = 0; i < 5; ++i) {
    HttpResult during = put(server, id, "during" + std::to_string(i));
    EXPECT_EQ(during.status, 503) << during.body;
  }
  // Reads are served from memory, unchanged by the failed writes.
  HttpResult read = server.request("GET", "/users/" + id);
  EXPECT_EQ(read.status, 200);
  EXPECT_NE(read.body.find("\"before\""), std::string::npos) << read.body;
  EXPECT_NE(read.body.find("\"version\":1"), std::string::npos) << read.body;
  EXPECT_EQ(server.request("GET", "/health").status, 200);

  proxy.start();  // the database is back
  int status = 0;
  EXPECT_TRUE(eventually(
      [&] {
        status = put(server, id, "after").status;
        return status == 200;
      },
      std::chrono::seconds(15)))
      << "last status " << status << "\n"
      << server.output();
  HttpResult next = put(server, id, "after again");
  EXPECT_EQ(next.status, 200) << next.body;
  EXPECT_NE(next.body.find("\"version\":3"), std::string::npos) << next.body;
  HttpResult deleted = server.request("DELETE", "/users/" + id);
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_EQ(server.stop(), 0) << server.output();
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DatabaseRestart);
TEST_P(DatabaseRestart, AQuietRestartCostsNoRequest) {
  auto keys = storageKeys(driver());
  TcpProxy proxy(keys.at("host"), std::stoi(keys.at("port")));
  proxy.start();
  ServerProcess server(writeConfig(keys, proxy.port()), {},
                       {{"BUSBAR_STORAGE_PASSWORD", keys.at("password")}});
  server.start();
  const std::string id = uniqueTableName("quiet");
  ASSERT_EQ(put(server, id, "before").status, 201) << server.output();

  // The database restarts while no request comes: the pooled sessions are dead but do not know.
  proxy.cut();
  proxy.start();
  HttpResult after = put(server, id, "after");
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_NE(after.body.find("\"version\":2"), std::string::npos) << after.body;
  EXPECT_EQ(server.stop(), 0) << server.output();
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseRestart, ::testing::ValuesIn(serverStorageDrivers()),
                         driverName);

}  // namespace
}  // namespace busbar::testing
