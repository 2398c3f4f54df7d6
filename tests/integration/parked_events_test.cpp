// The parking lot on the real binary: an event a subscriber keeps failing on (the audit
// example's table gone) is parked, listed on the admin listener, kept across a crash, delivered
// by a replay once the cause is fixed, and dropped on request; the rest flows meanwhile.
#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>

#include "sqlite_server.h"

namespace busbar::testing {
namespace {

class ParkedEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_text_ = "[host]\nplugins = local, sqlite, users, audit\nplugin_dir = " + buildDir() +
                   "/lib/busbar/plugins, " + buildDir() +
                   "/test-modules\n"
                   "[event_bus]\ntransport = local\nexchanges.events = busbar.events\n"
                   "router._all = events\nasync_pass_through = true\n"
                   "[storage]\ndriver = sqlite\nsqlite.path = " +
                   dir_.path() + "/busbar.db\n";
    config_ = dir_.write("host.conf", config_text_);
  }

  std::string sql(const std::string& statement) {
    std::string output;
    EXPECT_EQ(runShell("sqlite3 -cmd '.timeout 5000' '" + dir_.path() + "/busbar.db' \"" +
                           statement + "\"",
                       output),
              0)
        << output;
    return output;
  }

  Poco::JSON::Object::Ptr parked(ServerProcess& server) {
    auto answer = server.adminRequest("GET", "/admin/events/parked");
    EXPECT_EQ(answer.status, 200) << answer.body;
    return parseObject(answer.body);
  }

  // The ids of the events the audit example recorded.
  std::string audited() { return sql("SELECT COUNT(*) FROM audit_log"); }

  TempDir dir_;
  std::string config_text_;
  std::string config_;
};

// Who caused a parked event (SDK 1.6) is kept with it, across a crash, and its replay hands it to
// the subscriber again: the audit row written by the replay names the token of the write.
TEST_F(ParkedEventsTest, AParkedEventKeepsWhoCausedItAcrossACrashAndItsReplay) {
  const std::string secret = "deploy-8e1b7c3d9a2f4e6b";
  ServerProcess server(
      dir_.write("host.conf", config_text_ + "[http]\nauth = bearer\n[admin]\nauth = off\n"
                                             "[token.deploy]\nscopes = write, read\n"
                                             "env = BUSBAR_TEST_DEPLOY_TOKEN\n"),
      {}, {{"BUSBAR_TEST_DEPLOY_TOKEN", secret}});
  server.start();
  auto put = [&](const std::string& id) {
    return httpRequest(server.port(), "PUT", "/users/" + id, R"({"name":"a"})", "application/json",
                       {{"Authorization", "Bearer " + secret}})
        .status;
  };
  sql("ALTER TABLE audit_log RENAME TO audit_log_away");
  ASSERT_EQ(put("parked-by-deploy"), 201);
  ASSERT_TRUE(eventually([&] { return parked(server)->getValue<size_t>("count") == 1; }))
      << server.output();
  auto entry = parked(server)->getArray("parked")->getObject(0);
  EXPECT_EQ(entry->getValue<std::string>("principal"), "deploy");
  const std::string id = entry->getValue<std::string>("event_id");

  server.kill();
  server.start();
  EXPECT_EQ(parked(server)->getArray("parked")->getObject(0)->getValue<std::string>("principal"),
            "deploy");

  sql("ALTER TABLE audit_log_away RENAME TO audit_log");
  auto replay = server.adminRequest("POST", "/admin/events/parked/" + id + "/replay");
  ASSERT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(sql("SELECT principal FROM audit_log WHERE event_id = '" + id + "'"), "deploy\n");
  EXPECT_EQ(server.stop(), 0) << server.failureReport();
}

TEST_F(ParkedEventsTest, AFailingSubscribersEventIsParkedKeptAcrossACrashAndReplayedOnceFixed) {
  ServerProcess server(config_);
  server.start();
  ASSERT_EQ(server.request("PUT", "/users/before", R"({"name":"a"})").status, 201);
  ASSERT_TRUE(eventually([&] { return audited() == "1\n"; }));

  // The audit table goes away: its subscriber fails on the next events, which are parked.
  sql("ALTER TABLE audit_log RENAME TO audit_log_away");
  ASSERT_EQ(server.request("PUT", "/users/during", R"({"name":"b"})").status, 201);
  ASSERT_TRUE(eventually([&] { return parked(server)->getValue<size_t>("count") == 1; }))
      << server.output();
  auto entry = parked(server)->getArray("parked")->getObject(0);
  EXPECT_EQ(entry->getValue<std::string>("type"), "UserWasCreated");
  EXPECT_NE(entry->getValue<std::string>("error").find("audit_log"), std::string::npos)
      << entry->getValue<std::string>("error");
  const std::string id = entry->getValue<std::string>("event_id");
  // The rest flows: the users cache took the write, and the next one too.
  EXPECT_EQ(server.request("GET", "/users/during").status, 200);
  ASSERT_EQ(server.request("PUT", "/users/after", R"({"name":"c"})").status, 201);
  EXPECT_EQ(server.request("GET", "/users/after").status, 200);
  ASSERT_TRUE(eventually([&] { return parked(server)->getValue<size_t>("count") == 2; }));

  // A replay before the fix keeps them, saying why.
  auto replay = parseObject(server.adminRequest("POST", "/admin/events/parked/replay").body);
  EXPECT_EQ(replay->getArray("delivered")->size(), 0u);
  ASSERT_EQ(replay->getArray("still_parked")->size(), 2u);
  EXPECT_EQ(replay->getArray("still_parked")->getObject(0)->getValue<int>("replays"), 1);

  // Kept across a crash: SIGKILL, no chance to write anything on the way out.
  server.kill();
  server.start();
  ASSERT_EQ(parked(server)->getValue<size_t>("count"), 2u) << server.output();

  // Fixed: a replay of one delivers it to the audit table.
  sql("ALTER TABLE audit_log_away RENAME TO audit_log");
  auto one = server.adminRequest("POST", "/admin/events/parked/" + id + "/replay");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(parseObject(one.body)->getArray("delivered")->getElement<std::string>(0), id);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM audit_log WHERE event_id = '" + id + "'"), "1\n");
  EXPECT_EQ(parked(server)->getValue<size_t>("count"), 1u);

  // The other is dropped; asking for one that is not parked is a 404 that says where to look.
  const std::string other =
      parked(server)->getArray("parked")->getObject(0)->getValue<std::string>("event_id");
  EXPECT_EQ(server.adminRequest("DELETE", "/admin/events/parked/" + other).status, 200);
  auto missing = server.adminRequest("POST", "/admin/events/parked/" + other + "/replay");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("GET /admin/events/parked"), std::string::npos) << missing.body;
  EXPECT_EQ(parked(server)->getValue<size_t>("count"), 0u);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM busbar_parked_events"), "0\n");
  // Not on the public listener.
  EXPECT_EQ(server.request("GET", "/admin/events/parked").status, 404);
  const std::string metrics = server.request("GET", "/metrics").body;
  EXPECT_NE(metrics.find("\nbusbar_event_log_parked_events 0\n"), std::string::npos);
  ASSERT_EQ(server.stop(), 0) << server.output();
}

}  // namespace
}  // namespace busbar::testing
