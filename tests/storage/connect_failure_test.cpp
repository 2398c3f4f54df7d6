// A server storage backend that cannot be reached at start: busbar exits with a message that
// names the config file and section, the user, server and database it tried, the cause in a word
// and the fix; exit 2 when the config can fix it, 1 when the server is away.
#include <gtest/gtest.h>

#include "free_port.h"
#include "server_process.h"
#include "storage_backends.h"

namespace busbar::testing {
namespace {

class ConnectFailure : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& driver() const { return GetParam(); }

  // Starts busbar on [storage] `keys` with `password` in BUSBAR_STORAGE_PASSWORD (none when
  // empty); returns the exit code and fills output_.
  int start(std::map<std::string, std::string> keys, const std::string& password) {
    std::string text = "[host]\nplugins = local, " + driver() +
                       ", users\n[event_bus]\ntransport = local\nexchanges.events = "
                       "busbar.events\nrouter._all = events\n[storage]\nconnect_timeout = 2\n";
    for (const auto& [key, value] : keys) {
      if (key != "password" && key != "connect_timeout") text += key + " = " + value + "\n";
    }
    config_ = folder_.write("host.conf", text);
    std::map<std::string, std::string> env;
    if (!password.empty()) env["BUSBAR_STORAGE_PASSWORD"] = password;
    return runBusbar({"--config", config_, "--bind", "127.0.0.1:" + std::to_string(freePort())},
                     output_, env);
  }

  // Expects every part in output_, and the server's user@host:port/database.
  void expectMessage(const std::map<std::string, std::string>& keys,
                     const std::vector<std::string>& parts) {
    const std::string target =
        keys.at("user") + "@" + keys.at("host") + ":" + keys.at("port") + "/" + keys.at("database");
    for (const auto& part : std::vector<std::string>{
             config_ + ": [storage] cannot connect to " + driver() + " at " + target, "Fix: "}) {
      EXPECT_NE(output_.find(part), std::string::npos) << part << "\n" << output_;
    }
    for (const auto& part : parts) {
      EXPECT_NE(output_.find(part), std::string::npos) << part << "\n" << output_;
    }
  }

  TempDir folder_;
  std::string config_;
  std::string output_;
};

TEST_P(ConnectFailure, AWrongPasswordNamesTheUserAndTheVariable) {
  auto keys = storageKeys(driver());
  EXPECT_EQ(start(keys, keys.at("password") + "-wrong"), 2) << output_;
  expectMessage(keys, {"wrong password or unknown user '" + keys.at("user") + "'",
                       "BUSBAR_STORAGE_PASSWORD"});
}

TEST_P(ConnectFailure, AnUnknownUserIsTheSameCause) {
  auto keys = storageKeys(driver(), {{"user", "busbar_nobody"}});
  EXPECT_EQ(start(keys, keys.at("password")), 2) << output_;
  expectMessage(keys, {"wrong password or unknown user 'busbar_nobody'", "[storage] user"});
}

TEST_P(ConnectFailure, AMissingDatabaseSaysHowToMakeOne) {
  auto keys = storageKeys(driver(), {{"database", "busbar_no_such_database"}});
  EXPECT_EQ(start(keys, keys.at("password")), 2) << output_;
  expectMessage(keys, {"no such database 'busbar_no_such_database'", "create it"});
}

TEST_P(ConnectFailure, AServerThatRefusesIsAnEnvironmentProblem) {
  auto keys = storageKeys(driver(), {{"port", std::to_string(freePort())}});
  EXPECT_EQ(start(keys, keys.at("password")), 1) << output_;
  expectMessage(keys, {"refused: nothing listens at " + keys.at("host") + ":" + keys.at("port"),
                       "start the " + driver() + " server"});
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConnectFailure);
INSTANTIATE_TEST_SUITE_P(Backends, ConnectFailure, ::testing::ValuesIn(serverStorageDrivers()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace busbar::testing
