// A COMMIT whose connection breaks before its answer arrives: the server settles the outcome
// from the event log, so the client gets the truth or a 503 that says the outcome is unknown,
// never a lie, and every server's copy ends equal to the database whatever happened. MariaDB and
// PostgreSQL (SQLite has no connection to break); a proxy in front of the database cuts the
// connection that sends COMMIT, in turn before and after the database ran it.
#include <gtest/gtest.h>

#include <set>

#include "amqp_cluster.h"
#include "tcp_proxy.h"

namespace busbar::testing {
namespace {

TEST(AmbiguousCommitTest, TheClientGetsTheTruthAndEveryCopyTheDatabase) {
  ClusterOptions options;
  options.private_database = true;
  AmqpCluster cluster(options);
  ASSERT_NE(cluster.privateDatabase(), nullptr) << "needs mysql or postgresql";
  // The proxy reads the writer's connections from their start: a session that keeps its
  // statements prepared prepares COMMIT once, long before a round arms the cut.
  const auto protocol = cluster.storage() == "mysql" ? CommitFinder::Protocol::kMysql
                                                     : CommitFinder::Protocol::kPostgresql;
  TcpProxy proxy("127.0.0.1", std::stoi(cluster.privateDatabase()->storageKeys().at("port")),
                 protocol);
  proxy.start();
  ServerProcess& writer = cluster.startServerThrough(proxy.port());
  ServerProcess& other = cluster.startServer();
  ServerProcess& database = cluster.startDatabaseReader();

  std::set<std::string> outcomes;
  for (int round = 0; round < 6; ++round) {
    const std::string id = "ambiguous" + std::to_string(round);
    proxy.cutAtCommit(round % 2 == 0 ? TcpProxy::CommitCut::kBeforeItRuns
                                     : TcpProxy::CommitCut::kAfterItRan);
    HttpResult result = writer.request("PUT", "/users/" + id, R"({"name":"maybe"})");
    ASSERT_TRUE(proxy.commitCut()) << "the write's COMMIT never went through the proxy";
    const bool stored = database.request("GET", "/users/" + id).status == 200;
    if (result.status / 100 == 2) {
      EXPECT_TRUE(stored) << "answered " << result.status << " but the database lacks " << id;
      outcomes.insert("committed");
    } else {
      ASSERT_EQ(result.status, 503) << result.body;
      if (result.body.find("unknown") != std::string::npos) {
        outcomes.insert("unknown");
      } else {
        EXPECT_NE(result.body.find("did not take effect"), std::string::npos) << result.body;
        EXPECT_FALSE(stored) << "answered that the write did not take effect, but it did";
        outcomes.insert("not committed");
      }
    }
    const std::string expected = allUsersOf(database);
    for (ServerProcess* server : {&writer, &other}) {
      EXPECT_TRUE(
          eventually([&] { return allUsersOf(*server) == expected; }, std::chrono::seconds(2)))
          << "round " << round << ": server " << server->port() << " holds\n"
          << allUsersOf(*server) << "\nthe database holds\n"
          << expected << "\n"
          << server->output();
    }
  }
  // Both ways a cut COMMIT ends were met (an outcome left unknown counts for neither).
  EXPECT_EQ(outcomes.count("committed"), 1u) << "no round cut a COMMIT that had run";
  EXPECT_EQ(outcomes.count("not committed"), 1u) << "no round cut a COMMIT before it ran";
}

}  // namespace
}  // namespace busbar::testing
