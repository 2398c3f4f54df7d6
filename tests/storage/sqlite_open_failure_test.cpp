// The sqlite plugin cannot open its database file at start: busbar exits with a message that
// names the config file, [storage] sqlite.path, the cause found on the file system and the fix;
// exit 2, since another path fixes each of them. Write access is checked as an unprivileged user
// (nobody, when the tests run as root), since root may write anywhere.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "free_port.h"
#include "server_process.h"

namespace busbar::testing {
namespace {

class SqliteOpenFailure : public ::testing::Test {
 protected:
  // Starts busbar on sqlite.path = `path`, as nobody when `unprivileged` and the tests run as
  // root; returns the exit code and fills output_.
  int start(const std::string& path, bool unprivileged = false) {
    config_ = folder_.write("host.conf",
                            "[host]\nplugins = local, sqlite, users\n[event_bus]\ntransport = "
                            "local\nexchanges.events = busbar.events\nrouter._all = events\n"
                            "[storage]\ndriver = sqlite\nsqlite.path = " +
                                path + "\n");
    const std::string bind = "127.0.0.1:" + std::to_string(freePort());
    if (unprivileged && ::geteuid() == 0) {
      ::chmod(config_.c_str(), 0644);
      return runShell("setpriv --reuid=65534 --regid=65534 --clear-groups " + buildDir() +
                          "/bin/busbar --config " + config_ + " --bind " + bind,
                      output_);
    }
    return runBusbar({"--config", config_, "--bind", bind}, output_);
  }

  void expectMessage(const std::string& path, const std::vector<std::string>& parts) {
    const std::string opening =
        config_ + ": [storage] sqlite.path = " + path + ": cannot open the SQLite database: ";
    for (const auto& part : parts) {
      EXPECT_NE(output_.find(part), std::string::npos) << part << "\n" << output_;
    }
    EXPECT_NE(output_.find(opening), std::string::npos) << opening << "\n" << output_;
    EXPECT_NE(output_.find(". Fix: "), std::string::npos) << output_;
  }

  // A folder that only root writes, for a server run as nobody to be refused.
  std::string rootOnlyFolder() {
    const std::string path = folder_.path() + "/root-only";
    ::mkdir(path.c_str(), 0755);
    if (::geteuid() != 0) ::chmod(path.c_str(), 0555);
    return path;
  }

  TempDir folder_;
  std::string config_;
  std::string output_;
};

TEST_F(SqliteOpenFailure, APathThatIsAFolderSaysToNameAFile) {
  const std::string path = folder_.path() + "/data";
  ::mkdir(path.c_str(), 0755);
  EXPECT_EQ(start(path), 2) << output_;
  expectMessage(path, {path + " is a folder", "name a file, such as " + path + "/busbar.db"});
}

TEST_F(SqliteOpenFailure, AFileThatIsNoDatabaseIsNeverOverwritten) {
  const std::string contents = "name,email\nada,ada@example.com\n";
  const std::string path = folder_.write("users.csv", contents);
  EXPECT_EQ(start(path), 2) << output_;
  expectMessage(path, {path + " is not an SQLite database", "move " + path + " away"});
  std::string left;
  runShell("cat " + path, left);
  EXPECT_EQ(left, contents);
}

TEST_F(SqliteOpenFailure, AFolderUnderAFileCannotBeMade) {
  const std::string file = folder_.write("plain", "");
  const std::string path = file + "/db/busbar.db";
  EXPECT_EQ(start(path), 2) << output_;
  expectMessage(path, {file + " is a file, not a folder", "mkdir -p " + file + "/db"});
}

TEST_F(SqliteOpenFailure, AFolderTheUserMayNotWriteNamesTheUserAndTheOwner) {
  const std::string path = rootOnlyFolder() + "/busbar.db";
  EXPECT_EQ(start(path, true), 2) << output_;
  expectMessage(path, {"may not create files in " + folder_.path() + "/root-only (owner ",
                       "-wal and -shm", "chown "});
}

TEST_F(SqliteOpenFailure, AMissingFolderTheUserMayNotMakeSaysHowToMakeIt) {
  const std::string path = rootOnlyFolder() + "/var/busbar.db";
  EXPECT_EQ(start(path, true), 2) << output_;
  expectMessage(path, {"may not create files in " + folder_.path() + "/root-only",
                       "mkdir -p " + folder_.path() + "/root-only/var"});
}

TEST_F(SqliteOpenFailure, AFileTheUserMayNotWriteSaysWhoOwnsIt) {
  const std::string folder = folder_.path() + "/shared";
  ::mkdir(folder.c_str(), 0777);
  ::chmod(folder.c_str(), 0777);
  // An empty file is an empty SQLite database.
  const std::string path = folder + "/busbar.db";
  runShell("touch " + path, output_);
  ::chmod(path.c_str(), 0444);
  EXPECT_EQ(start(path, true), 2) << output_;
  expectMessage(path, {"may not read and write " + path + " (owner ", "mode 0444"});
}

}  // namespace
}  // namespace busbar::testing
