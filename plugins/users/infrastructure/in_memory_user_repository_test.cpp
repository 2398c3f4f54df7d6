#include "infrastructure/in_memory_user_repository.h"

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

namespace busbar::users {
namespace {

UserRecord live(const std::string& id, int64_t version, const std::string& name = "N") {
  return UserRecord{User{id, name, std::nullopt, version}, false};
}

UserRecord tombstone(const std::string& id, int64_t version) {
  return UserRecord{User{id, "", std::nullopt, version}, true};
}

TEST(InMemoryUserRepositoryTest, AppliesOnlyNewerVersions) {
  InMemoryUserRepository memory;
  EXPECT_TRUE(memory.apply(live("a", 2, "two")));
  EXPECT_FALSE(memory.apply(live("a", 1, "one")));  // late event
  EXPECT_FALSE(memory.apply(live("a", 2, "dup")));  // duplicate
  EXPECT_EQ(memory.find("a")->name, "two");
  EXPECT_TRUE(memory.apply(live("a", 3, "three")));
  EXPECT_EQ(memory.find("a")->version, 3);
}

TEST(InMemoryUserRepositoryTest, TombstonesStopOlderEventsFromResurrecting) {
  InMemoryUserRepository memory;
  memory.apply(tombstone("a", 5));  // the delete arrives before the create
  EXPECT_FALSE(memory.apply(live("a", 4)));
  EXPECT_FALSE(memory.find("a"));
  EXPECT_EQ(memory.size(), 0u);
  EXPECT_TRUE(memory.apply(live("a", 6)));  // re-created after the delete
  EXPECT_TRUE(memory.find("a"));
  EXPECT_EQ(memory.size(), 1u);
}

TEST(InMemoryUserRepositoryTest, ListsLiveUsersSortedAndPaged) {
  InMemoryUserRepository memory;
  for (const char* id : {"d", "b", "a", "c", "e"}) memory.apply(live(id, 1));
  memory.apply(tombstone("c", 2));
  auto page = memory.list(2, 1);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, "b");
  EXPECT_EQ(page[1].id, "d");
  EXPECT_EQ(memory.list(100, 0).size(), 4u);
  EXPECT_TRUE(memory.list(10, 4).empty());
}

TEST(InMemoryUserRepositoryTest, ReplaceAllKeepsOnlyWhatWasAppliedWhileItLoaded) {
  InMemoryUserRepository memory;
  memory.apply(live("older-than-db", 9, "held before the reload"));
  memory.apply(live("gone-from-db", 1));
  memory.replaceAll([&] {
    memory.apply(live("written-meanwhile", 5, "from an event"));  // while the load runs
    return std::vector<UserRecord>{live("fresh", 2), live("older-than-db", 3, "row"),
                                   tombstone("x", 4), live("written-meanwhile", 2, "stale row")};
  });
  EXPECT_EQ(memory.find("older-than-db")->name, "row");  // the database wins
  EXPECT_FALSE(memory.find("gone-from-db"));
  EXPECT_EQ(memory.find("written-meanwhile")->name, "from an event");
  EXPECT_EQ(memory.find("fresh")->version, 2);
  EXPECT_FALSE(memory.find("x"));
  EXPECT_FALSE(memory.apply(live("x", 3)));  // the snapshot's tombstone holds
  EXPECT_EQ(memory.size(), 3u);
}

TEST(InMemoryUserRepositoryTest, ARecordRefusedDuringAReloadDoesNotKeepTheEntryItLostTo) {
  // The cache holds version 9, newer than the database (restored from an older dump), which
  // holds 3. An event of version 4 arrives while the reload runs and is refused (9 is newer): the
  // reload must still end with the database's 3, not bring 9 back.
  InMemoryUserRepository memory;
  memory.apply(live("restored", 9, "newer than the database"));
  memory.replaceAll([&] {
    EXPECT_FALSE(memory.apply(live("restored", 4, "an event of the old history")));
    return std::vector<UserRecord>{live("restored", 3, "row")};
  });
  ASSERT_TRUE(memory.find("restored"));
  EXPECT_EQ(memory.find("restored")->version, 3);
  EXPECT_EQ(memory.find("restored")->name, "row");
}

TEST(InMemoryUserRepositoryTest, AFailedLoadKeepsTheTable) {
  InMemoryUserRepository memory;
  memory.apply(live("a", 1));
  EXPECT_THROW(memory.replaceAll([]() -> std::vector<UserRecord> {
    throw std::runtime_error("the database is away");
  }),
               std::runtime_error);
  EXPECT_TRUE(memory.find("a"));
  memory.replaceAll([] { return std::vector<UserRecord>{live("b", 1)}; });
  EXPECT_FALSE(memory.find("a"));
}

TEST(InMemoryUserRepositoryTest, LocalWritesIncrementVersions) {
  InMemoryUserRepository memory;
  auto created = memory.save("a", "A", std::string("a@b"));
  EXPECT_TRUE(created.created);
  EXPECT_EQ(created.user.version, 1);
  auto updated = memory.save("a", "B", std::nullopt);
  EXPECT_FALSE(updated.created);
  EXPECT_EQ(updated.user.version, 2);
  EXPECT_EQ(memory.remove("a"), 3);
  EXPECT_FALSE(memory.remove("a"));
  EXPECT_TRUE(memory.save("a", "C", std::nullopt).created);
  EXPECT_EQ(memory.find("a")->version, 4);
}

TEST(InMemoryUserRepositoryTest, ReadersSeeWholeUsersWhileWritersAndReloadsRun) {
  InMemoryUserRepository memory;
  for (int i = 0; i < 1000; ++i) memory.apply(live("u" + std::to_string(i), 1, "v1"));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        for (int i = 0; i < 1000; i += 7) {
          auto user = memory.find("u" + std::to_string(i));
          // Every user exists in every state the writers create, with a name matching its version.
          if (!user || user->name != "v" + std::to_string(user->version)) ++bad;
        }
      }
    });
  }
  // The database: a write reaches it before the copy, as a commit precedes its apply.
  std::mutex database_mutex;
  std::vector<int> database(1000, 1);
  std::thread writer([&] {
    for (int version = 2; version <= 30; ++version) {
      for (int i = 0; i < 1000; ++i) {
        {
          std::lock_guard<std::mutex> lock(database_mutex);
          database[static_cast<size_t>(i)] = version;
        }
        memory.apply(live("u" + std::to_string(i), version, "v" + std::to_string(version)));
      }
    }
  });
  std::thread reloader([&] {
    for (int n = 0; n < 20; ++n) {
      memory.replaceAll([&] {
        std::vector<UserRecord> snapshot;
        std::lock_guard<std::mutex> lock(database_mutex);
        for (int i = 0; i < 1000; ++i) {
          int version = database[static_cast<size_t>(i)];
          snapshot.push_back(live("u" + std::to_string(i), version, "v" + std::to_string(version)));
        }
        return snapshot;
      });
    }
  });
  writer.join();
  reloader.join();
  stop = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(bad.load(), 0);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(memory.find("u" + std::to_string(i))->version, 30);
}

}  // namespace
}  // namespace busbar::users
