// The command line: help, version, --check-config, and every way a bad config or plugin stops
// the host with exit code 2 and a message naming the file, the key or plugin, and the fix.
#include <Poco/File.h>
#include <gtest/gtest.h>

#include "busbar/abi.h"

#include "sqlite_server.h"

namespace busbar::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  // Runs busbar with --config <file with `text`> plus `args`.
  int run(const std::string& text, std::vector<std::string> args = {"--check-config"}) {
    std::string file = dir_.write("host.conf", text);
    args.insert(args.begin(), {"--config", file});
    return runBusbar(args, output_);
  }

  void expectOutput(std::initializer_list<const char*> parts) {
    for (const char* part : parts) {
      EXPECT_NE(output_.find(part), std::string::npos) << "missing '" << part << "' in:\n"
                                                       << output_;
    }
  }

  // Plugin folders: the fixtures, then the real plugins.
  std::string pluginDirs() const {
    return std::string(BUSBAR_FIXTURE_DIR) + ", " + buildDir() + "/lib/busbar/plugins";
  }

  TempDir dir_;
  std::string output_;
};

TEST_F(CliTest, HelpListsEveryOption) {
  EXPECT_EQ(runBusbar({"--help"}, output_), 0);
  expectOutput({"--config", "--bind", "--admin-bind", "--exchange", "--plugin-dir",
                "--check-config", "--help", "--version", "infra"});
}

TEST_F(CliTest, VersionShowsTheAbi) {
  EXPECT_EQ(runBusbar({"--version"}, output_), 0);
  expectOutput(
      {"busbar 1.0.0",
       "plugin ABI " BUSBAR_STRINGIFY(BUSBAR_ABI_MAJOR) "." BUSBAR_STRINGIFY(BUSBAR_ABI_MINOR),
       "build " BUSBAR_BUILD_SIGNATURE});
}

TEST_F(CliTest, UnknownOptionIsAUsageError) {
  EXPECT_EQ(runBusbar({"--frobnicate"}, output_), 2);
  expectOutput({"frobnicate", "--help"});
}

TEST_F(CliTest, CheckConfigReportsEveryPlugin) {
  EXPECT_EQ(run(sqliteConfig(dir_.path())), 0) << output_;
  expectOutput({"host.conf: ok", "sqlite (storage", "local (transport", "users (module"});
}

TEST_F(CliTest, CheckConfigDoesNotTouchTheDatabase) {
  ASSERT_EQ(run(sqliteConfig(dir_.path())), 0) << output_;
  EXPECT_FALSE(Poco::File(dir_.path() + "/busbar.db").exists());
}

TEST_F(CliTest, MissingConfigFile) {
  EXPECT_EQ(runBusbar({"--config", dir_.path() + "/absent.conf", "--check-config"}, output_), 2);
  expectOutput({"absent.conf", "does not exist"});
}

TEST_F(CliTest, UnknownKeyInAHostSection) {
  EXPECT_EQ(run(sqliteConfig(dir_.path(), "[http]\nmax_bdy = 10\n")), 2);
  expectOutput({"host.conf", "[http] max_bdy", "Did you mean max_body?", "The keys of [http] are"});
}

TEST_F(CliTest, UnknownKeyInAPluginSection) {
  EXPECT_EQ(run(sqliteConfig(dir_.path(), "[users]\nrepositroy = composed\n")), 2);
  expectOutput({"host.conf", "[users] repositroy", "Did you mean repository?",
                "The keys of [users] are: refresh, repository"});
}

TEST_F(CliTest, BadValueInAPluginSection) {
  EXPECT_EQ(run(sqliteConfig(dir_.path(), "[users]\nrepository = cached\n")), 2);
  expectOutput({"[users] repository must be one of composed, persistent", "found 'cached'"});
}

TEST_F(CliTest, UnknownSection) {
  EXPECT_EQ(run(sqliteConfig(dir_.path(), "[amqp]\nhost = x\n")), 2);
  expectOutput({"unknown section [amqp]", "[host] plugins"});
}

// A message quotes what the file holds; control bytes in it (an escape sequence, a NUL, a line
// break that would fake another message) are shown as \xNN, never sent to the terminal.
TEST_F(CliTest, ControlBytesFromTheFileAreShownEscaped) {
  const std::string section = std::string("[ama\x1b[2Jqp\x01]\nhost = x\n");
  EXPECT_EQ(run(sqliteConfig(dir_.path(), section)), 2);
  expectOutput({"unknown section [ama\\x1b[2Jqp\\x01]"});
  EXPECT_EQ(output_.find('\x1b'), std::string::npos) << output_;
  EXPECT_EQ(output_.find('\x01'), std::string::npos) << output_;
}

TEST_F(CliTest, MissingPlugin) {
  EXPECT_EQ(run("[host]\nplugins = local, sqlite, users, billing\n[storage]\ndriver = sqlite\n"),
            2);
  expectOutput({"host.conf:2: [host] plugins: plugin 'billing'", "was not found", "billing.so",
                "--plugin-dir"});
  EXPECT_EQ(output_.find("Did you mean"), std::string::npos) << output_;
}

TEST_F(CliTest, AMistypedPluginGetsTheNearestNameSuggested) {
  EXPECT_EQ(run("[storage]\ndriver = sqlite\n[host]\nplugins = local, sqlite, userz\n"), 2);
  expectOutput({"host.conf:4: [host] plugins: plugin 'userz'", "Did you mean users?"});
}

TEST_F(CliTest, StorageDriverMustBeLoaded) {
  EXPECT_EQ(run("[host]\nplugins = local, users\n[storage]\ndriver = sqlite\n"), 2);
  expectOutput({"[storage] driver = sqlite", "not in [host] plugins"});
}

TEST_F(CliTest, StorageDriverMustBeAStoragePlugin) {
  EXPECT_EQ(run("[host]\nplugins = local, sqlite, users\n[storage]\ndriver = users\n"), 2);
  expectOutput({"[storage] driver = users must name a storage plugin", "is a module plugin"});
}

TEST_F(CliTest, TransportMustBeATransportPlugin) {
  EXPECT_EQ(run(sqliteConfig(dir_.path()) + ""), 0);
  EXPECT_EQ(run("[host]\nplugins = local, sqlite, users\n[event_bus]\ntransport = sqlite\n"), 2);
  expectOutput({"[event_bus] transport = sqlite must name a transport plugin"});
}

TEST_F(CliTest, UnknownExchangeAlias) {
  EXPECT_EQ(run(sqliteConfig(dir_.path()), {"--check-config", "--exchange", "evnts"}), 2);
  expectOutput({"--exchange evnts", "known aliases: events"});
}

TEST_F(CliTest, PluginBuiltWithAnotherSignatureIsRefused) {
  EXPECT_EQ(
      run("[host]\nplugins = local, sqlite, users, bad_signature\nplugin_dir = " + pluginDirs() +
          "\n[storage]\ndriver = sqlite\nsqlite.path = " + dir_.path() + "/db\n"),
      2);
  expectOutput({"bad_signature.so", "build signature mismatch", "expected", "found", "fix:"});
}

TEST_F(CliTest, PluginRequiringAMissingPlugin) {
  EXPECT_EQ(run("[host]\nplugins = local, sqlite, requires_missing\nplugin_dir = " + pluginDirs() +
                "\n[storage]\ndriver = sqlite\n"),
            2);
  expectOutput({"'requires_missing' requires plugin 'missing_plugin'"});
}

TEST_F(CliTest, PluginsRequiringEachOther) {
  EXPECT_EQ(run("[host]\nplugins = local, sqlite, cycle_a, cycle_b\nplugin_dir = " + pluginDirs() +
                "\n[storage]\ndriver = sqlite\n"),
            2);
  expectOutput({"cycle", "cycle_a -> cycle_b -> cycle_a"});
}

TEST_F(CliTest, PluginWhoseInitRefusesItsConfig) {
  EXPECT_EQ(run("[host]\nplugins = local, sqlite, init_throws\nplugin_dir = " + pluginDirs() +
                "\n[storage]\ndriver = sqlite\n"),
            2);
  expectOutput({"[init_throws] anything is refused by the fixture"});
}

TEST_F(CliTest, AddressInUseIsARuntimeFailure) {
  ServerProcess first(dir_.write("first.conf", sqliteConfig(dir_.path())));
  first.start();
  std::string file = dir_.write("second.conf", sqliteConfig(dir_.path()));
  EXPECT_EQ(
      runBusbar({"--config", file, "--bind", "127.0.0.1:" + std::to_string(first.port())}, output_),
      1);
  EXPECT_NE(output_.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << output_;
  EXPECT_NE(output_.find("or choose another address with --bind or [host] bind in " + file),
            std::string::npos)
      << output_;
  // Found before anything started: no plugin, no migration.
  EXPECT_EQ(output_.find("started "), std::string::npos) << output_;
  EXPECT_EQ(first.stop(), 0);
}

TEST_F(CliTest, InfraWithALocalTransportHasNothingToDo) {
  EXPECT_EQ(run(sqliteConfig(dir_.path()), {"infra", "check"}), 0) << output_;
  expectOutput({"transport 'local' has no broker topology"});
  EXPECT_EQ(run(sqliteConfig(dir_.path()), {"infra", "explode"}), 2);
  expectOutput({"usage: busbar infra create|check|drop"});
}

TEST_F(CliTest, SigtermStopsCleanly) {
  ServerProcess server(dir_.write("host.conf", sqliteConfig(dir_.path())));
  server.start();
  EXPECT_EQ(server.request("PUT", "/users/x", R"({"name":"X"})").status, 201);
  EXPECT_EQ(server.stop(), 0);
  EXPECT_NE(server.output().find("stopping"), std::string::npos);
}

}  // namespace
}  // namespace busbar::testing
