// The consistency observer across servers, on each backend (BUSBAR_TEST_STORAGE): changes that
// no event brings to a server are found by that server's observer within the full pass, counted
// once there, logged with their key and repaired; servers that heard every event count nothing.
#include <thread>

#include <gtest/gtest.h>

#include "amqp_cluster.h"
#include "tcp_proxy.h"

namespace busbar::testing {
namespace {

using namespace std::chrono_literals;

// Full pass 2 s and bound 1 s: a change no event announced is repaired within about 3 s.
constexpr const char* kObserver = "[consistency]\nfull_pass = 2s\nbound = 1s\n";
constexpr auto kRepairedWithin = 15s;

std::string nameOn(const ServerProcess& server, const std::string& id) {
  HttpResult result = server.request("GET", "/users/" + id);
  if (result.status != 200) return "<" + std::to_string(result.status) + ">";
  return parseJson(result.body)->getValue<std::string>("name");
}

uint64_t inconsistenciesOn(const ServerProcess& server) {
  return parseJson(server.request("GET", "/health").body)
      ->getObject("consistency")
      ->getObject("tables")
      ->getObject("users")
      ->getValue<uint64_t>("inconsistencies");
}

ClusterOptions withObserver(const std::string& more_sections = "") {
  ClusterOptions options;
  options.sections = std::string(kObserver) + more_sections;
  return options;
}

TEST(ConsistencyAcrossServers, RowsChangedWithSqlAreRepairedOnEveryServerWithinTheFullPass) {
  AmqpCluster cluster(withObserver());
  std::vector<ServerProcess*> servers = {&cluster.startServer(), &cluster.startServer(),
                                         &cluster.startServer()};
  // More rows than a page, with keys whose byte order differs from a case-insensitive or
  // linguistic collation's ('-' < '.' < 'B' < 'Z' < '_' < 'a'): the observer's pages split the
  // table where the database's range reads do only if both sort bytes.
  const std::vector<std::string> prefixes = {"Zulu", "alpha", "_under", "-dash", ".dot", "Bravo"};
  std::vector<std::string> ids;
  for (int i = 0; i < 110; ++i) {
    for (const auto& prefix : prefixes) ids.push_back(prefix + std::to_string(i));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ(servers[i % 3]->request("PUT", "/users/" + ids[i], R"({"name":"as written"})").status,
              201);
  }
  ASSERT_TRUE(eventually([&] {
    for (auto* server : servers) {
      if (nameOn(*server, ids.back()) != "as written") return false;
    }
    return true;
  }));
  const std::vector<std::string> edited = {"-dash7", ".dot55",   "Bravo109",
                                           "Zulu0",  "_under80", "alpha42"};
  for (const auto& id : edited) {
    cluster.query("UPDATE users SET name = 'edited with sql' WHERE id = '" + id + "'");
  }
  EXPECT_TRUE(eventually(
      [&] {
        for (auto* server : servers) {
          for (const auto& id : edited) {
            if (nameOn(*server, id) != "edited with sql") return false;
          }
        }
        return true;
      },
      kRepairedWithin));
  for (auto* server : servers) {
    // The observer repairs the row, then logs it, then counts it: the names above can be served
    // a moment before the count.
    EXPECT_TRUE(eventually([&] { return inconsistenciesOn(*server) == edited.size(); }))
        << inconsistenciesOn(*server) << " counted\n"
        << server->output();
    for (const auto& id : edited) {
      EXPECT_EQ(nameOn(*server, id), "edited with sql") << id;
      EXPECT_NE(server->output().find("table users, key '" + id +
                                      "': the cache holds version 1, the database version 1"),
                std::string::npos)
          << id << "\n"
          << server->output();
    }
  }
}

TEST(ConsistencyAcrossServers,
     AWriteOfAServerWithTheLogOffKilledBeforeItPublishedReachesTheOthers) {
  // Without the event log an event lives only in the writer's publish queue between the commit
  // and the broker. The writer's link to the broker goes silent, it commits and answers, and it
  // is killed: nothing but the observers brings the write to the others.
  AmqpCluster cluster(withObserver("[event_log]\nenabled = false\n"));
  TcpProxy broker(cluster.broker().host, cluster.broker().port);
  broker.start();
  ServerProcess& writer = cluster.startServerThroughBroker(broker.port());
  ServerProcess& b = cluster.startServer();
  ServerProcess& c = cluster.startServer();
  ASSERT_EQ(writer.request("PUT", "/users/heard", R"({"name":"heard"})").status, 201);
  ASSERT_TRUE(
      eventually([&] { return nameOn(b, "heard") == "heard" && nameOn(c, "heard") == "heard"; }));

  broker.partition(TcpProxy::Partition::kBoth);
  ASSERT_EQ(
      writer.request("PUT", "/users/unheard", R"({"name":"committed, never published"})").status,
      201);
  writer.kill();
  broker.cut();  // what the proxy held back dies with the link
  EXPECT_TRUE(eventually(
      [&] {
        return nameOn(b, "unheard") == "committed, never published" &&
               nameOn(c, "unheard") == "committed, never published";
      },
      kRepairedWithin))
      << b.output();
  for (ServerProcess* server : {&b, &c}) {
    EXPECT_EQ(inconsistenciesOn(*server), 1u) << server->output();
    EXPECT_NE(
        server->output().find("key 'unheard': the cache holds no row, the database version 1"),
        std::string::npos)
        << server->output();
  }
}

TEST(ConsistencyAcrossServers, AServerThatDropsEveryEventCountsEachChangeItMissed) {
  // Propagation broken on purpose: one server consumes nothing and the event log is off, so it
  // hears of no other server's write. Its observer counts each row it missed; the others, which
  // heard everything, count none.
  AmqpCluster cluster(withObserver("[event_log]\nenabled = false\n"));
  ServerProcess& a = cluster.startServer();
  ServerProcess& b = cluster.startServer();
  ServerProcess& deaf = cluster.startServer("");
  constexpr int kWrites = 20;
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_EQ(a.request("PUT", "/users/m" + std::to_string(i), R"({"name":"missed"})").status, 201);
  }
  EXPECT_TRUE(eventually([&] { return inconsistenciesOn(deaf) == kWrites; }, kRepairedWithin))
      << inconsistenciesOn(deaf) << "\n"
      << deaf.output();
  for (int i = 0; i < kWrites; ++i) EXPECT_EQ(nameOn(deaf, "m" + std::to_string(i)), "missed");
  // Two full passes more: the others still count nothing.
  std::this_thread::sleep_for(4s);
  EXPECT_EQ(inconsistenciesOn(a), 0u) << a.output();
  EXPECT_EQ(inconsistenciesOn(b), 0u) << b.output();
  EXPECT_EQ(inconsistenciesOn(deaf), static_cast<uint64_t>(kWrites));
}

}  // namespace
}  // namespace busbar::testing
