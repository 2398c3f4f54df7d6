// The users cache as the consistency observer sees it, over a real SQLite database.
#include "infrastructure/checked_user_cache.h"

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>

#include "infrastructure/composed_user_repository.h"
#include "infrastructure/recorded_user_events.h"
#include "sqlite_storage.h"

namespace busbar::users {
namespace {

class CheckedUserCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite::SqliteSettings settings;
    settings.path = dir_ + "/users.db";
    connection_ = sqlite::makeSqliteConnection(settings);
    sqlite::openSqliteDatabase(*connection_, settings);
    for (auto& migration : DbalUserRepository::migrations()) migration.apply(*connection_);
    database_ = std::make_unique<DbalUserRepository>(connection_, events_);
    composed_ =
        std::make_unique<ComposedUserRepository>(*database_, memory_, RefreshMode::kIncremental);
    checked_ = std::make_unique<CheckedUserCache>(*database_, memory_);
  }
  void TearDown() override {
    checked_.reset();
    composed_.reset();
    database_.reset();
    connection_.reset();
    Poco::File(dir_).remove(true);
  }

  static std::vector<std::string> keys(const std::vector<CheckedRow>& rows) {
    std::vector<std::string> keys;
    for (const auto& row : rows) keys.push_back(row.key);
    return keys;
  }

  std::string dir_ = Poco::TemporaryFile::tempName();
  std::shared_ptr<sql::PocoDataConnection> connection_;
  RecordedUserEvents events_;
  std::unique_ptr<DbalUserRepository> database_;
  InMemoryUserRepository memory_;
  std::unique_ptr<ComposedUserRepository> composed_;
  std::unique_ptr<CheckedUserCache> checked_;
};

TEST_F(CheckedUserCacheTest, TheCacheAndTheDatabaseGiveTheSamePagesInByteOrder) {
  // "é" is 0xC3 0xA9: after every ASCII letter in byte order, before it in most collations.
  for (const char* id : {"b", "\xC3\xA9t\xC3\xA9", "a", "Z", "c"}) {
    composed_->save(id, std::string("name of ") + id, std::string(id) + "@x");
  }
  composed_->remove("c");  // a tombstone, kept in both
  const std::vector<std::string> first = {"Z", "a", "b"};
  EXPECT_EQ(keys(checked_->cachedAfter("", 3)), first);
  EXPECT_EQ(keys(checked_->storedAfter("", 3)), first);
  const std::vector<std::string> rest = {"c", "\xC3\xA9t\xC3\xA9"};
  EXPECT_EQ(keys(checked_->cachedAfter("b", 10)), rest);
  EXPECT_EQ(keys(checked_->storedAfter("b", 10)), rest);
  EXPECT_EQ(checked_->cachedAfter("", 10), checked_->storedAfter("", 10));
  auto tombstone = checked_->storedRow("c");
  ASSERT_TRUE(tombstone);
  EXPECT_TRUE(tombstone->deleted);
  EXPECT_EQ(tombstone->version, 2);
  EXPECT_EQ(checked_->cachedRow("c"), tombstone);
  EXPECT_FALSE(checked_->cachedRow("nobody"));
  EXPECT_FALSE(checked_->storedRow("nobody"));
}

TEST_F(CheckedUserCacheTest, TheContentTellsAMissingEmailFromAnEmptyOneAndANameFromAnEmail) {
  UserRecord none{User{"a", "x", std::nullopt, 1}, false};
  UserRecord empty{User{"a", "x", std::string(), 1}, false};
  UserRecord moved{User{"a", "", std::string("x"), 1}, false};
  EXPECT_NE(CheckedUserCache::toCheckedRow(none), CheckedUserCache::toCheckedRow(empty));
  EXPECT_NE(CheckedUserCache::toCheckedRow(none), CheckedUserCache::toCheckedRow(moved));
  EXPECT_NE(CheckedUserCache::toCheckedRow(empty), CheckedUserCache::toCheckedRow(moved));
}

TEST_F(CheckedUserCacheTest, ARepairPutsInTheRowTheDatabaseHasNow) {
  composed_->save("u", "before", std::nullopt);
  // Edited with SQL: same version, another name. No event says so.
  connection_->execute("UPDATE users SET name = 'edited' WHERE id = 'u'");
  auto seen = checked_->cachedRow("u");
  ASSERT_NE(seen, checked_->storedRow("u"));
  EXPECT_TRUE(checked_->repair("u", seen));
  EXPECT_EQ(checked_->cachedRow("u"), checked_->storedRow("u"));
  EXPECT_EQ(composed_->find("u")->name, "edited");
  EXPECT_EQ(memory_.size(), 1u);
}

TEST_F(CheckedUserCacheTest, ARepairNeverOverwritesAChangeAppliedSinceTheObserverLooked) {
  composed_->save("u", "one", std::nullopt);
  auto seen = checked_->cachedRow("u");
  connection_->execute("UPDATE users SET name = 'sql' WHERE id = 'u'");
  // The event of a newer write arrives between the look and the repair.
  memory_.apply(UserRecord{User{"u", "newer", std::nullopt, 2}, false});
  EXPECT_FALSE(checked_->repair("u", seen));
  EXPECT_EQ(composed_->find("u")->name, "newer");
}

TEST_F(CheckedUserCacheTest, ARepairRemovesWhatTheDatabaseNoLongerHasAndAddsWhatTheCacheLacks) {
  composed_->save("gone", "g", std::nullopt);
  composed_->save("kept", "k", std::nullopt);
  connection_->execute("DELETE FROM users WHERE id = 'gone'");
  connection_->execute(
      "INSERT INTO users (id, name, email, version, deleted) VALUES ('new', 'n', NULL, 1, 0)");
  EXPECT_TRUE(checked_->repair("gone", checked_->cachedRow("gone")));
  EXPECT_TRUE(checked_->repair("new", std::nullopt));
  EXPECT_FALSE(checked_->cachedRow("gone"));
  EXPECT_EQ(composed_->find("new")->name, "n");
  EXPECT_EQ(memory_.size(), 2u);
  EXPECT_EQ(checked_->cachedAfter("", 10), checked_->storedAfter("", 10));
  // A repair that expected nothing where the cache now holds a row changes nothing.
  EXPECT_FALSE(checked_->repair("kept", std::nullopt));
}

TEST_F(CheckedUserCacheTest, ARepairWaitsForAReloadThatIsLoading) {
  composed_->save("u", "one", std::nullopt);
  connection_->execute("UPDATE users SET name = 'sql' WHERE id = 'u'");
  bool repaired = true;
  memory_.replaceAll([&] {
    repaired = checked_->repair("u", checked_->cachedRow("u"));
    return database_->loadAll();
  });
  EXPECT_FALSE(repaired);
  EXPECT_EQ(composed_->find("u")->name, "sql");  // the reload read it anyway
}

}  // namespace
}  // namespace busbar::users
