#include "ops/storage_probe.h"

#include <gtest/gtest.h>

#include "server_process.h"

#include <chrono>
#include <thread>

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>

#include "sqlite_storage.h"

namespace busbar::host {
namespace {

using namespace std::chrono_literals;

using testing::eventually;

std::shared_ptr<Connection> sqliteAt(const std::string& path) {
  sqlite::SqliteSettings settings;
  settings.path = path;
  return sqlite::makeSqliteConnection(settings);
}

TEST(StorageProbeTest, WithoutStorageItIsAlwaysReachable) {
  StorageProbe probe(nullptr, 10ms, 1s, Poco::Logger::get("probe-test"));
  probe.start();
  EXPECT_EQ(probe.problem(), "");
}

TEST(StorageProbeTest, TellsADatabaseThatCannotBeReachedAndNoticesWhenItCan) {
  const std::string folder = Poco::TemporaryFile::tempName();
  // The folder does not exist yet: SQLite cannot open the file, as a database that is down.
  StorageProbe probe(sqliteAt(folder + "/busbar.db"), 20ms, 5s, Poco::Logger::get("probe-test"));
  EXPECT_NE(probe.problem().find("has not been probed yet"), std::string::npos);
  probe.start();
  EXPECT_TRUE(eventually([&] {
    return probe.problem().find("database does not answer") != std::string::npos;
  })) << probe.problem();
  Poco::File(folder).createDirectories();
  EXPECT_TRUE(eventually([&] { return probe.problem().empty(); })) << probe.problem();
  probe.stop();
  Poco::File(folder).remove(true);
}

}  // namespace
}  // namespace busbar::host
