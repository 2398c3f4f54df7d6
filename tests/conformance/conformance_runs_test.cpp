// busbar-conformance as a third party runs it, on each bundled storage plugin: each suite passes;
// and what it tells when the plugin cannot be proven.
#include <regex>

#include <gtest/gtest.h>

#include "server_process.h"
#include "service_database.h"

namespace busbar::testing {
namespace {

// The bundled storage plugins of this build.
std::vector<std::string> storagePlugins() {
  std::vector<std::string> plugins = {"sqlite"};
#ifdef BUSBAR_TEST_WITH_MYSQL
  plugins.push_back("mysql");
#endif
#ifdef BUSBAR_TEST_WITH_POSTGRESQL
  plugins.push_back("postgresql");
#endif
  return plugins;
}

// A config file whose [storage] reaches a database of its own for `plugin`.
std::string storageConfig(const TempDir& dir, const std::string& plugin) {
  std::string text = "[storage]\n";
  if (plugin == "sqlite") {
    text += "driver = sqlite\nsqlite.path = " + dir.path() + "/conformance.db\n";
  } else {
    for (const auto& [key, value] : createServiceDatabase(plugin)) {
      text += key + " = " + value + "\n";
    }
  }
  return dir.write("host.conf", text);
}

// Runs busbar-conformance with `args`; returns its exit code and puts its output in `output`.
int conformance(const std::string& args, std::string& output) {
  return runShell(buildDir() + "/bin/busbar-conformance " + args + " 2>&1", output);
}

// The count GoogleTest's summary gives as passed, 0 without one.
int testsPassed(const std::string& output) {
  std::smatch match;
  static const std::regex summary(R"(\[  PASSED  \] (\d+) tests?)");
  return std::regex_search(output, match, summary) ? std::stoi(match[1]) : 0;
}

class ConformanceRun : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(ConformanceRun, TheBundledPluginPassesTheSuite) {
  const auto& [suite, plugin] = GetParam();
  TempDir dir;
  std::string output;
  EXPECT_EQ(conformance(suite + " --plugin " + plugin + " --config " +
                            storageConfig(dir, plugin) + " --plugin-dir " + buildDir() +
                            "/lib/busbar/plugins",
                        output),
            0)
      << output;
  EXPECT_GT(testsPassed(output), 0) << output;
  EXPECT_EQ(output.find("[  FAILED  ]"), std::string::npos) << output;
}

INSTANTIATE_TEST_SUITE_P(
    Bundled, ConformanceRun,
    ::testing::Combine(::testing::Values("storage", "event-log"),
                       ::testing::ValuesIn(storagePlugins())),
    [](const ::testing::TestParamInfo<std::tuple<std::string, std::string>>& info) {
      std::string name = std::get<0>(info.param) + "_" + std::get<1>(info.param);
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

TEST(ConformanceRefusals, AStoragePluginWithoutTheLogsStorageFailsTheEventLogSuiteSayingWhy) {
  TempDir dir;
  std::string output;
  EXPECT_EQ(conformance("event-log --plugin logless --config " + storageConfig(dir, "sqlite") +
                            " --plugin-dir " + buildDir() + "/test-modules",
                        output),
            1)
      << output;
  EXPECT_NE(output.find("provides no \"event_log_storage\" (a busbar::EventLogStorage"),
            std::string::npos)
      << output;
}

TEST(ConformanceRefusals, APluginTheHostWouldRefuseIsRefusedWithTheHostsMessage) {
  TempDir dir;
  std::string output;
  EXPECT_EQ(conformance("storage --plugin glibcxx_debug --config " + storageConfig(dir, "sqlite") +
                            " --plugin-dir " + std::string(BUSBAR_FIXTURE_DIR),
                        output),
            2)
      << output;
  EXPECT_NE(output.find("the plugin was built with _GLIBCXX_DEBUG, this host without"),
            std::string::npos)
      << output;
}

TEST(ConformanceRefusals, BadArgumentsNameTheProblemAndTheUsage) {
  std::string output;
  EXPECT_EQ(conformance("storgae --plugin sqlite --config /nowhere.conf", output), 2) << output;
  EXPECT_NE(output.find("unknown suite 'storgae'"), std::string::npos) << output;
  EXPECT_NE(output.find("usage: busbar-conformance SUITE"), std::string::npos) << output;
  EXPECT_EQ(conformance("storage --plugin sqlite", output), 2) << output;
  EXPECT_NE(output.find("--config FILE is missing"), std::string::npos) << output;
}

}  // namespace
}  // namespace busbar::testing
