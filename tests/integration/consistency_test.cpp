// The consistency observer on the real binary (local + SQLite + users): a change no event
// announced is found, counted, logged with its key and repaired within the full pass; operators
// see it in /health and the metrics and change the pace through the admin listener. The same
// across servers and backends: plugins/amqp/tests/consistency_test.cpp.
#include <thread>

#include <gtest/gtest.h>

#include "sqlite_server.h"

namespace busbar::testing {
namespace {

using namespace std::chrono_literals;

class ConsistencyTest : public ::testing::Test {
 protected:
  std::unique_ptr<ServerProcess> startServer(const std::string& consistency) {
    auto server = std::make_unique<ServerProcess>(
        dir_.write("host.conf", sqliteConfig(dir_.path(), "[consistency]\n" + consistency)));
    server->start();
    return server;
  }
  void sql(const std::string& statement) {
    std::string output;
    ASSERT_EQ(runShell("sqlite3 -cmd '.timeout 5000' '" + dir_.path() + "/busbar.db' \"" +
                           statement + "\"",
                       output),
              0)
        << output;
  }
  static Poco::JSON::Object::Ptr usersFigures(const ServerProcess& server) {
    return parseObject(server.request("GET", "/health").body)
        ->getObject("consistency")
        ->getObject("tables")
        ->getObject("users");
  }
  static std::string nameOf(const ServerProcess& server, const std::string& id) {
    auto answer = server.request("GET", "/users/" + id);
    if (answer.status != 200) return "(" + std::to_string(answer.status) + ")";
    return parseObject(answer.body)->getValue<std::string>("name");
  }

  TempDir dir_;
};

TEST_F(ConsistencyTest, RowsChangedWithSqlAreFoundCountedLoggedAndRepairedWithinTheFullPass) {
  auto server = startServer("full_pass = 2s\nbound = 500ms\n");
  for (int i = 0; i < 50; ++i) {
    const std::string id = "u" + std::to_string(i);
    ASSERT_EQ(server->request("PUT", "/users/" + id, R"({"name":"as written"})").status, 201);
  }
  // Changes no event announces: a row edited, one deleted outright, one added.
  sql("UPDATE users SET name = 'edited with sql' WHERE id = 'u7'");
  sql("DELETE FROM users WHERE id = 'u8'");
  sql("INSERT INTO users (id, name, email, version, deleted) VALUES ('added', 'by sql', NULL, 1, "
      "0)");
  EXPECT_TRUE(eventually(
      [&] {
        return nameOf(*server, "u7") == "edited with sql" && nameOf(*server, "u8") == "(404)" &&
               nameOf(*server, "added") == "by sql";
      },
      10s))
      << server->output();
  auto figures = usersFigures(*server);
  EXPECT_EQ(figures->getValue<uint64_t>("inconsistencies"), 3u);
  EXPECT_EQ(figures->getValue<uint64_t>("repairs"), 3u);
  EXPECT_GE(figures->getValue<uint64_t>("samples"), 51u);
  EXPECT_GT(figures->getValue<double>("inconsistencies_per_million"), 0);
  EXPECT_FALSE(figures->get("last_full_pass").isEmpty());
  const std::string log = server->output();
  for (const char* line :
       {"cache inconsistent with the database: table users, key 'u7': the cache holds version 1, "
        "the database version 1; stale for at least",
        "key 'u8': the cache holds version 1, the database no row",
        "key 'added': the cache holds no row, the database version 1", "repaired"}) {
    EXPECT_NE(log.find(line), std::string::npos) << line << "\n" << log;
  }
  const std::string metrics = server->request("GET", "/metrics").body;
  EXPECT_NE(metrics.find("\nbusbar_cache_inconsistencies_total{table=\"users\"} 3\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("\nbusbar_cache_last_full_pass_timestamp_seconds{table=\"users\"} "),
            std::string::npos);
  // Writes go on over the repaired rows, and nothing more is counted.
  ASSERT_EQ(server->request("PUT", "/users/u7", R"({"name":"written again"})").status, 200);
  EXPECT_EQ(nameOf(*server, "u7"), "written again");
  EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_F(ConsistencyTest, OperatorsSeeAndChangeThePaceThroughTheAdminListener) {
  auto server = startServer("rows_per_second = 200\n");
  auto shown = parseObject(server->adminRequest("GET", "/admin/consistency").body);
  EXPECT_EQ(shown->getValue<double>("rows_per_second"), 200);
  EXPECT_EQ(shown->getValue<int64_t>("full_pass_seconds"), 600);
  EXPECT_EQ(shown->getValue<int64_t>("bound_ms"), 3000);
  EXPECT_EQ(server->request("GET", "/admin/consistency").status, 404);  // not on the public port

  auto changed =
      server->adminRequest("POST", "/admin/consistency?rows_per_second=5000&full_pass_seconds=60");
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(parseObject(changed.body)->getValue<double>("rows_per_second"), 5000);
  EXPECT_EQ(parseObject(changed.body)->getValue<int64_t>("full_pass_seconds"), 60);
  EXPECT_NE(server->output().find("consistency observer: now at least 5000"), std::string::npos);

  for (const auto& [query, says] : std::vector<std::pair<std::string, std::string>>{
           {"?rows_per_second=fast", "rows_per_second must be a number, not 'fast'"},
           {"?rows_per_second=0", "rows_per_second must be between 1 and 10000000"},
           {"?full_pass_seconds=1.5", "full_pass_seconds must be whole seconds"},
           {"", "give rows_per_second, full_pass_seconds or both"},
           {"?rate=5", "rows_per_second"}}) {
    auto refused = server->adminRequest("POST", "/admin/consistency" + query);
    EXPECT_EQ(refused.status, 400) << query;
    EXPECT_NE(parseObject(refused.body)->getValue<std::string>("error").find(says),
              std::string::npos)
        << query << ": " << refused.body;
  }
  // A refused change changes nothing.
  EXPECT_EQ(parseObject(server->adminRequest("GET", "/admin/consistency").body)
                ->getValue<double>("rows_per_second"),
            5000);
  EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_F(ConsistencyTest, AnObserverTurnedOffComparesNothing) {
  auto server = startServer("enabled = false\nfull_pass = 1s\nbound = 100ms\n");
  ASSERT_EQ(server->request("PUT", "/users/a", R"({"name":"as written"})").status, 201);
  sql("UPDATE users SET name = 'edited with sql' WHERE id = 'a'");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(nameOf(*server, "a"), "as written");
  EXPECT_EQ(usersFigures(*server)->getValue<uint64_t>("samples"), 0u);
  EXPECT_FALSE(parseObject(server->request("GET", "/health").body)
                   ->getObject("consistency")
                   ->getValue<bool>("enabled"));
  EXPECT_EQ(server->stop(), 0) << server->output();
}

}  // namespace
}  // namespace busbar::testing
