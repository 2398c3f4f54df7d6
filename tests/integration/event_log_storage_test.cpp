// A storage plugin without the event log's storage (SDK 1.3's EventLogStorage): the host runs
// with the log off and says so, or refuses to start when host.conf asks for the log.
#include <gtest/gtest.h>

#include "sqlite_server.h"

namespace busbar::testing {
namespace {

// host.conf for local + logless (SQLite without the log) + users (+ `modules`), with
// `event_log` appended.
std::string loglessConfig(const TempDir& dir, const std::string& event_log = "",
                          const std::string& modules = "") {
  return "[host]\nplugins = local, logless, users" + modules + "\nplugin_dir = " + buildDir() +
         "/lib/busbar/plugins, " + buildDir() +
         "/test-modules\n"
         "[event_bus]\ntransport = local\nexchanges.events = busbar.events\n"
         "router._all = events\n"
         "[storage]\ndriver = logless\nsqlite.path = " +
         dir.path() + "/busbar.db\n" + event_log;
}

TEST(EventLogStorageTest, TheLogAskedOfAStoragePluginWithoutItStopsTheHostNamingBoth) {
  TempDir dir;
  const std::string file =
      dir.write("host.conf", loglessConfig(dir, "[event_log]\nenabled = true\n"));
  std::string output;
  EXPECT_EQ(runBusbar({"--config", file, "--check-config"}, output), 2) << output;
  for (const char* part : {"host.conf", "[event_log] enabled = true", "storage plugin 'logless'",
                           "event_log_storage", "set enabled = false"}) {
    EXPECT_NE(output.find(part), std::string::npos) << "missing '" << part << "' in:\n" << output;
  }
}

// A plugin that needs a newer interface than the loaded plugin that should provide it has: the
// host refuses to start, naming both, what the provider does provide and the fix.
TEST(EventLogStorageTest, AModuleNeedingTheLogsStorageBesideAStoragePluginWithoutItIsRefused) {
  TempDir dir;
  const std::string file = dir.write("host.conf", loglessConfig(dir, "", ", needs_event_log"));
  std::string output;
  EXPECT_EQ(runBusbar({"--config", file, "--check-config"}, output), 2) << output;
  for (const char* part :
       {"module 'needs_event_log' needs the service 'event_log_storage', which the storage "
        "plugin 'logless' (version 1.0.0, built against SDK 1.",
        "; provides storage) does not provide",
        "Fix: upgrade logless to a version that provides "
        "it"}) {
    EXPECT_NE(output.find(part), std::string::npos) << "missing '" << part << "' in:\n" << output;
  }
}

TEST(EventLogStorageTest, AStoragePluginWithoutTheLogServesWithTheLogOffAndSaysSo) {
  TempDir dir;
  ServerProcess server(dir.write("host.conf", loglessConfig(dir)));
  server.start();
  EXPECT_NE(server.output().find("storage plugin 'logless' does not provide the event log's "
                                 "storage"),
            std::string::npos)
      << server.output();
  EXPECT_EQ(
      server.request("PUT", "/users/u1", R"({"name":"Ada","email":"ada@example.com"})").status,
      201);
  EXPECT_EQ(server.request("GET", "/users/u1").status, 200);
  auto health = parseObject(server.request("GET", "/health").body);
  EXPECT_FALSE(health->getObject("event_log")->getValue<bool>("enabled"))
      << server.request("GET", "/health").body;
  EXPECT_EQ(server.stop(), 0) << server.output();
}

}  // namespace
}  // namespace busbar::testing
