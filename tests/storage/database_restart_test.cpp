// A database outage while busbar serves: writes answer 503 quickly during it, reads of the
// composed users repository keep answering from memory, GET /readyz answers 503 naming
// storage_reachable, and writes succeed and readiness comes back once the database is back,
// without restarting busbar.
//
// Two ways to take the database away: a real shutdown and start of a server of the test's own
// (PrivateDatabase), and a proxy between busbar and the shared server that cuts every
// connection and refuses new ones (the shared databases stay up for the suites that run
// meanwhile, and the cut is instant, so a restart with no request in between can be tested).
#include <chrono>
#include <functional>

#include <gtest/gtest.h>

#include "private_database.h"
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

  // Starts busbar with the local transport, composed users and storage `keys` (the password
  // goes through BUSBAR_STORAGE_PASSWORD).
  std::unique_ptr<ServerProcess> startBusbar(std::map<std::string, std::string> keys) {
    std::string text = "[host]\nplugins = local, " + driver() +
                       ", users\n\n[event_bus]\ntransport = local\nexchanges.events = "
                       "busbar.events\nrouter._all = events\n\n[storage]\n";
    keys["connect_timeout"] = "2";
    for (const auto& [key, value] : keys) {
      if (key != "password") text += key + " = " + value + "\n";
    }
    text += "\n[users]\nrepository = composed\n";
    auto server = std::make_unique<ServerProcess>(
        folder_.write("host.conf", text), std::vector<std::string>{},
        std::map<std::string, std::string>{{"BUSBAR_STORAGE_PASSWORD", keys.at("password")}});
    server->start();
    return server;
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

  // True when GET /readyz answers `status` and, for a 503, names storage_reachable among the
  // failing checks.
  static bool readiness(ServerProcess& server, int status) {
    HttpResult ready = server.request("GET", "/readyz");
    if (ready.status != status) return false;
    return status == 200 ||
           ready.body.find(R"("failing":["storage_reachable")") != std::string::npos ||
           ready.body.find(R"(,"storage_reachable")") != std::string::npos;
  }

  // The outage: a user written before it, failed writes and served reads during it, and
  // writes that work again after it.
  void outage(ServerProcess& server, const std::function<void()>& take_away,
              const std::function<void()>& bring_back) {
    const std::string id = uniqueTableName("outage");
    ASSERT_EQ(put(server, id, "before").status, 201) << server.output();
    ASSERT_TRUE(readiness(server, 200)) << server.request("GET", "/readyz").body;

    take_away();
    EXPECT_TRUE(eventually([&] { return readiness(server, 503); }, std::chrono::seconds(15)))
        << server.request("GET", "/readyz").body;
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

    bring_back();
    int status = 0;
    EXPECT_TRUE(eventually(
        [&] {
          status = put(server, id, "after").status;
          return status == 200;
        },
        std::chrono::seconds(15)))
        << "last status " << status << "\n"
        << server.output();
    EXPECT_TRUE(eventually([&] { return readiness(server, 200); }, std::chrono::seconds(15)))
        << server.request("GET", "/readyz").body;
    HttpResult next = put(server, id, "after again");
    EXPECT_EQ(next.status, 200) << next.body;
    EXPECT_NE(next.body.find("\"version\":3"), std::string::npos) << next.body;
    EXPECT_EQ(server.request("DELETE", "/users/" + id).status, 204);
  }

  TempDir folder_;
};

TEST_P(DatabaseRestart, ARealRestartFailsWritesFastAndServiceResumes) {
  PrivateDatabase database(driver());
  auto server = startBusbar(database.storageKeys());
  outage(
      *server, [&] { database.stop(); }, [&] { database.start(); });
  EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_P(DatabaseRestart, AQuietRealRestartCostsNoRequest) {
  PrivateDatabase database(driver());
  auto server = startBusbar(database.storageKeys());
  const std::string id = uniqueTableName("quiet");
  ASSERT_EQ(put(*server, id, "before").status, 201) << server->output();
  // The database restarts while no request comes: the pooled sessions are dead but do not know.
  database.stop();
  database.start();
  HttpResult after = put(*server, id, "after");
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_NE(after.body.find("\"version\":2"), std::string::npos) << after.body;
  EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_P(DatabaseRestart, ACutLinkFailsWritesFastAndServiceResumes) {
  auto keys = storageKeys(driver());
  TcpProxy proxy(keys.at("host"), std::stoi(keys.at("port")));
  proxy.start();
  keys["port"] = std::to_string(proxy.port());
  auto server = startBusbar(keys);
  outage(
      *server, [&] { proxy.cut(); }, [&] { proxy.start(); });
  EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_P(DatabaseRestart, CachesThatCannotFollowTheEventLogAreNotFresh) {
  auto keys = storageKeys(driver());
  TcpProxy proxy(keys.at("host"), std::stoi(keys.at("port")));
  proxy.start();
  keys["port"] = std::to_string(proxy.port());
  auto server = startBusbar(keys);
  // Serving (what startBusbar waits for) comes a moment before every readiness check passes.
  ASSERT_TRUE(eventually([&] { return readiness(*server, 200); }, std::chrono::seconds(5)))
      << server->request("GET", "/readyz").body;
  proxy.cut();
  // Catch-ups fail from now on: after three catch-up intervals (at least 5 s) the caches are no
  // longer known to be current.
  HttpResult stale;
  EXPECT_TRUE(eventually(
      [&] {
        stale = server->request("GET", "/readyz");
        return stale.body.find(R"("failing":["storage_reachable","cache_fresh"])") !=
               std::string::npos;
      },
      std::chrono::seconds(20)))
      << stale.body;
  EXPECT_NE(stale.body.find("no catch-up with the event log has succeeded for"), std::string::npos)
      << stale.body;
  proxy.start();
  EXPECT_TRUE(eventually([&] { return readiness(*server, 200); }, std::chrono::seconds(20)))
      << server->request("GET", "/readyz").body;
  EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_P(DatabaseRestart, AQuietCutCostsNoRequest) {
  auto keys = storageKeys(driver());
  TcpProxy proxy(keys.at("host"), std::stoi(keys.at("port")));
  proxy.start();
  keys["port"] = std::to_string(proxy.port());
  auto server = startBusbar(keys);
  const std::string id = uniqueTableName("quiet");
  ASSERT_EQ(put(*server, id, "before").status, 201) << server->output();
  proxy.cut();
  proxy.start();
  HttpResult after = put(*server, id, "after");
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_NE(after.body.find("\"version\":2"), std::string::npos) << after.body;
  EXPECT_EQ(server->stop(), 0) << server->output();
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DatabaseRestart);
INSTANTIATE_TEST_SUITE_P(Backends, DatabaseRestart, ::testing::ValuesIn(serverStorageDrivers()),
                         driverName);

}  // namespace
}  // namespace busbar::testing
