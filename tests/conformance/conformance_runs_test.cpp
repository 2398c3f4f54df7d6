// busbar-conformance as a third party runs it, on each bundled storage and transport plugin: each
// suite passes; and what it tells when the plugin cannot be proven.
#include <cstdlib>
#include <regex>
#include <sstream>

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
    // The suite checks what the plugin does, not how soon a loaded machine's database accepts a
    // session: a CI run beside the ThreadSanitizer builds once waited past the 2 s default.
    text += "connect_timeout = 10\n";
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

// The count GoogleTest's summary gives as skipped, 0 without one.
int testsSkipped(const std::string& output) {
  std::smatch match;
  static const std::regex summary(R"(\[  SKIPPED \] (\d+) tests?, listed below)");
  return std::regex_search(output, match, summary) ? std::stoi(match[1]) : 0;
}

// Whether a run that ended with `code` and printed `output` passed: exit status 0, at least one
// test passed, none failed.
bool passedTheSuite(int code, const std::string& output) {
  return code == 0 && testsPassed(output) > 0 && output.find("[  FAILED  ]") == std::string::npos;
}

// The exit status, then what failed (each failure with the lines that follow it, and
// GoogleTest's list of failed tests), then the whole `output`: a CI log keeps the start and the
// end of a long report.
std::string failuresFirst(int code, const std::string& output) {
  std::string failures;
  std::istringstream lines(output);
  int following = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(": Failure") != std::string::npos) following = 6;
    if (following > 0 || line.rfind("[  FAILED  ]", 0) == 0) failures += line + "\n";
    if (following > 0) --following;
  }
  return "exit status " + std::to_string(code) + "; what failed:\n" + failures +
         "the whole output:\n" + output;
}

class ConformanceRun : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(ConformanceRun, TheBundledPluginPassesTheSuite) {
  const auto& [suite, plugin] = GetParam();
  TempDir dir;
  std::string output;
  const int code =
      conformance(suite + " --plugin " + plugin + " --config " + storageConfig(dir, plugin) +
                      " --plugin-dir " + buildDir() + "/lib/busbar/plugins",
                  output);
  EXPECT_TRUE(passedTheSuite(code, output)) << failuresFirst(code, output);
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

// The bundled transports of this build.
std::vector<std::string> transportPlugins() {
  std::vector<std::string> plugins = {"local"};
#ifdef BUSBAR_TEST_WITH_AMQP
  plugins.push_back("amqp");
#endif
  return plugins;
}

class TransportConformanceRun : public ::testing::TestWithParam<std::string> {
 protected:
  // A config file for the transport suite on `plugin`: an exchange, and for amqp the run's vhost
  // with the way through the suite's proxy ([conformance]). "" after a skip.
  std::string transportConfig(const std::string& plugin) {
    std::string text = "[event_bus]\nexchanges.events = busbar.conformance.events\n";
    if (plugin == "amqp") {
      const char* vhost = std::getenv("BUSBAR_TEST_AMQP_VHOST");
      if (vhost == nullptr || *vhost == '\0') {
        // A CI run that lost its broker must not pass by skipping what it was meant to prove.
        const char* ci = std::getenv("CI");
        if (ci != nullptr && std::string(ci) == "true") {
          ADD_FAILURE() << "BUSBAR_TEST_AMQP_VHOST is not set (CI=true): run the suite with "
                           "scripts/test, which starts RabbitMQ and exports it";
        } else {
          skip_ =
              "BUSBAR_TEST_AMQP_* are not set: scripts/test (or `eval \"$(scripts/services/"
              "rabbitmq.sh start --exports)\"`) exports them";
        }
        return "";
      }
      const std::string host = requireEnv("BUSBAR_TEST_AMQP_HOST");
      const std::string port = requireEnv("BUSBAR_TEST_AMQP_PORT");
      text += "\n[amqp]\nhost = " + host + "\nport = " + port + "\nvhost = " + vhost +
              "\nuser = " + requireEnv("BUSBAR_TEST_AMQP_USER") +
              "\npassword = " + requireEnv("BUSBAR_TEST_AMQP_PASSWORD") +
              // Two missed heartbeats tell a hung link: the partition test's stop waits less.
              "\nheartbeat = 2\n"
              "\n[conformance]\nbroker = " +
              host + ":" + port +
              "\nthrough_proxy.host = 127.0.0.1\nthrough_proxy.port = {proxy_port}\n";
    }
    return dir_.write("host.conf", text);
  }

  TempDir dir_;
  std::string skip_;
};

TEST_P(TransportConformanceRun, TheBundledTransportPassesTheSuite) {
  const std::string plugin = GetParam();
  const std::string config = transportConfig(plugin);
  if (!skip_.empty()) GTEST_SKIP() << skip_;
  ASSERT_FALSE(config.empty());
  std::string output;
  const int code = conformance("transport --plugin " + plugin + " --config " + config +
                                   " --plugin-dir " + buildDir() + "/lib/busbar/plugins",
                               output);
  EXPECT_TRUE(passedTheSuite(code, output)) << failuresFirst(code, output);
  if (plugin == "local") {
    // In-process: the contracts between servers and about the link do not apply, and the run
    // says why.
    EXPECT_EQ(testsSkipped(output), 4) << output;
    EXPECT_NE(output.find("does not implement busbar::TransportHealth"), std::string::npos)
        << output;
  } else {
    EXPECT_EQ(testsSkipped(output), 0) << "every contract applies to a transport over a broker\n"
                                       << output;
  }
}

INSTANTIATE_TEST_SUITE_P(Bundled, TransportConformanceRun, ::testing::ValuesIn(transportPlugins()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return "transport_" + info.param;
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
