// Restarts keep data and preload it; the settings of [users] and [event_bus] all serve reads.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "sqlite_server.h"

namespace busbar::testing {
namespace {

TEST(RestartTest, DataSurvivesARestartAndIsPreloaded) {
  TempDir dir;
  std::string config = dir.write("host.conf", sqliteConfig(dir.path()));
  {
    ServerProcess server(config);
    server.start();
    for (int i = 0; i < 25; ++i) {
      ASSERT_EQ(server.request("PUT", "/users/u" + std::to_string(i), R"({"name":"U"})").status,
                201);
    }
    ASSERT_EQ(server.request("DELETE", "/users/u0").status, 204);
    ASSERT_EQ(server.stop(), 0);
  }
  ServerProcess again(config);
  again.start();
  EXPECT_NE(again.output().find("preload: loaded 24 users"), std::string::npos) << again.output();
  EXPECT_EQ(again.request("GET", "/users/u7").status, 200);
  EXPECT_EQ(again.request("GET", "/users/u0").status, 404);
  // The tombstone kept the version: a re-created user continues from it.
  auto recreated = again.request("PUT", "/users/u0", R"({"name":"back"})");
  EXPECT_EQ(recreated.status, 201);
  EXPECT_EQ(parseObject(recreated.body)->getValue<int>("version"), 3);
  EXPECT_EQ(again.stop(), 0);
}

// Each mode must serve the same API: composed/incremental, composed/reload, persistent, and
// async_pass_through = false (the event reaches subscribers through the transport only).
class ModeTest : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(ModeTest, WritesAreVisibleToReadsAtOnce) {
  TempDir dir;
  const std::string& users = GetParam().first;
  const std::string& event_bus = GetParam().second;
  ServerProcess server(dir.write("host.conf", sqliteConfig(dir.path(), users, event_bus)));
  server.start();
  EXPECT_EQ(server.request("PUT", "/users/m", R"({"name":"M"})").status, 201);
  EXPECT_EQ(parseObject(server.request("GET", "/users/m").body)->getValue<std::string>("name"),
            "M");
  EXPECT_EQ(server.request("PUT", "/users/m", R"({"name":"N"})").status, 200);
  EXPECT_EQ(parseObject(server.request("GET", "/users/m").body)->getValue<std::string>("name"),
            "N");
  EXPECT_EQ(server.request("DELETE", "/users/m").status, 204);
  EXPECT_EQ(server.request("GET", "/users/m").status, 404);
  // Every event was delivered to the local subscribers, one way or the other.
  EXPECT_TRUE(eventually([&] {
    auto health = parseObject(server.request("GET", "/health").body);
    return health->getObject("events")->getValue<int>("delivered") == 3 ||
           users.find("persistent") != std::string::npos;
  }));
  EXPECT_EQ(server.stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Modes, ModeTest,
    ::testing::Values(
        std::make_pair(std::string("[users]\nrepository = composed\nrefresh = incremental\n"),
                       std::string("async_pass_through = true\n")),
        std::make_pair(std::string("[users]\nrepository = composed\nrefresh = reload\n"),
                       std::string("async_pass_through = true\n")),
        std::make_pair(std::string("[users]\nrepository = persistent\n"),
                       std::string("async_pass_through = true\n")),
        std::make_pair(std::string("[users]\nrepository = composed\n"),
                       std::string("async_pass_through = false\n"))));

}  // namespace
}  // namespace busbar::testing

namespace busbar::testing {
namespace {

// SIGTERM while clients write: every write that was answered 2xx is in the database afterwards,
// no request is answered with a server error, and the process exits 0.
TEST(RestartTest, SigtermDuringWritesLosesNoAnsweredWrite) {
  TempDir dir;
  std::string config = dir.write("host.conf", sqliteConfig(dir.path()));
  ServerProcess server(config);
  server.start();

  std::atomic<bool> stop{false};
  std::vector<std::vector<std::string>> answered(4);  // each client's own, read once they end
  std::atomic<size_t> answered_count{0};
  std::atomic<int> server_errors{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 2000 && !stop; ++i) {
        std::string id = "c" + std::to_string(c) + "-" + std::to_string(i);
        try {
          auto result = httpRequest(server.port(), "PUT", "/users/" + id, R"({"name":"W"})");
          if (result.status == 201) {
            answered[c].push_back(id);
            ++answered_count;
          }
          if (result.status >= 500) ++server_errors;
        } catch (...) {
          return;  // the server stopped accepting: this client is done
        }
      }
    });
  }
  ASSERT_TRUE(eventually([&] { return answered_count >= 100; }));
  EXPECT_EQ(server.stop(), 0) << server.output();
  stop = true;
  for (auto& client : clients) client.join();
  EXPECT_EQ(server_errors.load(), 0);
  // The log's last line says the stop was clean and what it drained, unlike a hang or a crash.
  std::string log = server.output();
  while (!log.empty() && log.back() == '\n') log.pop_back();
  const std::string last = log.substr(log.rfind('\n') + 1);
  EXPECT_NE(last.find("stopped cleanly in"), std::string::npos) << last;
  EXPECT_NE(last.find("answers sent while draining"), std::string::npos) << last;
  EXPECT_NE(last.find("event log applied up to seq"), std::string::npos) << last;

  ServerProcess again(config);
  again.start();
  for (const auto& ids : answered) {
    for (const auto& id : ids) EXPECT_EQ(again.request("GET", "/users/" + id).status, 200) << id;
  }
  EXPECT_EQ(again.stop(), 0);
}

}  // namespace
}  // namespace busbar::testing

namespace busbar::testing {
namespace {

// Two servers starting at the same moment on one new database: both serve, and the schema
// migration was applied by exactly one of them.
TEST(RestartTest, TwoServersStartingAtOnceApplyTheMigrationOnce) {
  for (int round = 0; round < 3; ++round) {
    TempDir dir;
    std::string config = dir.write("host.conf", sqliteConfig(dir.path()));
    ServerProcess first(config);
    ServerProcess second(config);
    std::string first_failure;
    std::thread starter([&] {
      try {
        first.start();
      } catch (const std::exception& error) {
        first_failure = error.what();
      }
    });
    std::string second_failure;
    try {
      second.start();
    } catch (const std::exception& error) {
      second_failure = error.what();
    }
    starter.join();
    ASSERT_EQ(first_failure, "");
    ASSERT_EQ(second_failure, "");
    int applied = 0;
    for (const auto* server : {&first, &second}) {
      if (server->output().find("applied migration users 1") != std::string::npos) ++applied;
    }
    EXPECT_EQ(applied, 1) << first.output() << "\n---\n" << second.output();
    EXPECT_EQ(first.request("PUT", "/users/a", R"({"name":"A"})").status, 201);
    EXPECT_EQ(second.request("GET", "/users/a").status, 404);  // local transport: no event
    EXPECT_EQ(first.stop(), 0);
    EXPECT_EQ(second.stop(), 0);
  }
}

}  // namespace
}  // namespace busbar::testing
