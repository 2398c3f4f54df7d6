// The DbalUserRepository contract on every backend: versions, tombstones, and versions that
// stay distinct and gapless under concurrent writers of one user.
#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "infrastructure/dbal_user_repository.h"
#include "infrastructure/recorded_user_events.h"
#include "storage_backends.h"
#include "storage_contract.h"

namespace busbar::testing {
namespace {

using users::DbalUserRepository;

// Lets `parties` threads go on together, round after round. Waiting threads sleep: spinning ones
// would take the cores from the database server that the others wait on.
class StartLine {
 public:
  explicit StartLine(int parties) : parties_(parties) {}

  // Returns once every party reached this round's line.
  void arriveAndWait() {
    std::unique_lock<std::mutex> lock(mutex_);
    const int round = round_;
    if (++arrived_ == parties_) {
      arrived_ = 0;
      ++round_;
      all_arrived_.notify_all();
      return;
    }
    all_arrived_.wait(lock, [&] { return round_ != round; });
  }

 private:
  const int parties_;
  std::mutex mutex_;
  std::condition_variable all_arrived_;
  int arrived_ = 0;
  int round_ = 0;
};

// The users table is shared by every test on a server database, so each test uses ids of its
// own, and never drops it.
class UserRepositoryContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    connection_ = openStorage(GetParam());
    for (const auto& migration : DbalUserRepository::migrations()) migration.apply(*connection_);
    repository_ = std::make_unique<DbalUserRepository>(connection_, events_);
    prefix_ = uniqueTableName("u") + "-";
  }

  std::string id(const std::string& name) const { return prefix_ + name; }

  std::shared_ptr<sql::PocoDataConnection> connection_;
  users::RecordedUserEvents events_;
  std::unique_ptr<DbalUserRepository> repository_;
  std::string prefix_;
};

TEST_P(UserRepositoryContract, SaveCreatesThenReplacesWithTheNextVersion) {
  auto created = repository_->save(id("alice"), "Alice", std::string("alice@example.com"));
  EXPECT_TRUE(created.created);
  EXPECT_EQ(created.user.version, 1);
  auto replaced = repository_->save(id("alice"), "Alice B.", std::nullopt);
  EXPECT_FALSE(replaced.created);
  EXPECT_EQ(replaced.user.version, 2);
  auto found = repository_->find(id("alice"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "Alice B.");
  EXPECT_FALSE(found->email.has_value());
  EXPECT_EQ(found->version, 2);
}

TEST_P(UserRepositoryContract, HostileNamesRoundTrip) {
  const std::string name = "O'Brien \"Bob\" \\ ? $1 \xf0\x9f\x98\x80 \xe4\xb8\xad";
  repository_->save(id("x'; DROP TABLE users; --"), name, std::string("o'brien@example.com"));
  auto found = repository_->find(id("x'; DROP TABLE users; --"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, name);
  EXPECT_EQ(found->email, std::string("o'brien@example.com"));
}

TEST_P(UserRepositoryContract, RemoveLeavesATombstoneAndVersionsGoOn) {
  repository_->save(id("bob"), "Bob", std::nullopt);
  EXPECT_EQ(repository_->remove(id("bob")), std::optional<int64_t>(2));
  EXPECT_FALSE(repository_->find(id("bob")));
  EXPECT_EQ(repository_->remove(id("bob")), std::nullopt);
  auto again = repository_->save(id("bob"), "Bob again", std::nullopt);
  EXPECT_TRUE(again.created);
  EXPECT_EQ(again.user.version, 3);
  bool tombstone_seen = false;
  for (const auto& record : repository_->loadAll()) {
    if (record.user.id == id("bob")) tombstone_seen = !record.deleted && record.user.version == 3;
  }
  EXPECT_TRUE(tombstone_seen);
}

TEST_P(UserRepositoryContract, ListsLiveUsersById) {
  repository_->save(id("c"), "C", std::nullopt);
  repository_->save(id("a"), "A", std::nullopt);
  repository_->save(id("b"), "B", std::nullopt);
  repository_->remove(id("b"));
  std::vector<std::string> mine;
  for (const auto& user : repository_->list(100000, 0)) {
    if (user.id.rfind(prefix_, 0) == 0) mine.push_back(user.id);
  }
  EXPECT_EQ(mine, (std::vector<std::string>{id("a"), id("c")}));
}

TEST_P(UserRepositoryContract, ConcurrentWritesOfOneUserGetDistinctGaplessVersions) {
  constexpr int kThreads = 6;
  constexpr int kWritesEach = 10;
  std::mutex mutex;
  std::vector<int64_t> versions;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWritesEach; ++i) {
        try {
          auto saved = repository_->save(id("hot"), "writer " + std::to_string(t), std::nullopt);
          std::lock_guard<std::mutex> lock(mutex);
          versions.push_back(saved.user.version);
        } catch (const std::exception& error) {
          ADD_FAILURE() << error.what();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::sort(versions.begin(), versions.end());
  std::vector<int64_t> expected(kThreads * kWritesEach);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<int64_t>(i) + 1;
  EXPECT_EQ(versions, expected);
  EXPECT_EQ(repository_->find(id("hot"))->version, kThreads * kWritesEach);
}

TEST_P(UserRepositoryContract, WritersCreatingTheSameNewUsersAtOnceAllLand) {
  // Each new id is written by every thread at the same moment: creations race, and on MariaDB
  // and PostgreSQL their locks can deadlock; the database ends one transaction and the repository
  // runs it again, so no writer sees an error.
  constexpr int kThreads = 8;
  constexpr int kIds = 40;
  StartLine start_line(kThreads);
  std::atomic<int> failures{0};
  std::mutex mutex;
  std::map<std::string, std::vector<int64_t>> versions;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kIds; ++k) {
        start_line.arriveAndWait();  // all threads start id k together
        const std::string user = id("new" + std::to_string(k));
        try {
          auto saved = repository_->save(user, "writer " + std::to_string(t), std::nullopt);
          std::lock_guard<std::mutex> lock(mutex);
          versions[user].push_back(saved.user.version);
        } catch (const std::exception& error) {
          ++failures;
          ADD_FAILURE() << user << ": " << error.what();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  for (auto& [user, seen] : versions) {
    std::sort(seen.begin(), seen.end());
    std::vector<int64_t> expected(kThreads);
    for (int i = 0; i < kThreads; ++i) expected[i] = i + 1;
    EXPECT_EQ(seen, expected) << user;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, UserRepositoryContract, ::testing::ValuesIn(storageDrivers()),
                         driverName);

}  // namespace
}  // namespace busbar::testing
