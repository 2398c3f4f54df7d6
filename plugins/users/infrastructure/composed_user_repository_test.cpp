// The composed repository over a real SQLite database: ordering and concurrency.
#include "infrastructure/composed_user_repository.h"

#include <thread>

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>

#include "busbar/errors.h"
#include "infrastructure/dbal_user_repository.h"
#include "infrastructure/recorded_user_events.h"
#include "sqlite_storage.h"

namespace busbar::users {
namespace {

// A Connection that counts the rows its callers look up one at a time, in or out of
// transactions, and passes everything on.
class LookupCounter : public Connection {
 public:
  LookupCounter(Connection& inner, int& lookups) : inner_(inner), lookups_(lookups) {}
  std::string driver() const override { return inner_.driver(); }
  void insert(const std::string& table, const Row& values) override {
    inner_.insert(table, values);
  }
  uint64_t update(const std::string& table, const Row& values, const Row& where) override {
    return inner_.update(table, values, where);
  }
  void upsert(const std::string& table, const Row& values,
              const std::vector<std::string>& keys) override {
    inner_.upsert(table, values, keys);
  }
  uint64_t remove(const std::string& table, const Row& where) override {
    return inner_.remove(table, where);
  }
  std::optional<Row> findOne(const std::string& table, const Row& where) override {
    ++lookups_;
    return inner_.findOne(table, where);
  }
  std::vector<Row> findAll(const std::string& table, const Row& where,
                           const FindOptions& options) override {
    return inner_.findAll(table, where, options);
  }
  ExecuteResult execute(const std::string& sql, const std::vector<Value>& params) override {
    return inner_.execute(sql, params);
  }
  void createTable(const TableSchema& schema) override { inner_.createTable(schema); }
  void transaction(const std::function<void(Connection&)>& work) override {
    inner_.transaction([&](Connection& tx) {
      LookupCounter counted(tx, lookups_);
      work(counted);
    });
  }

 private:
  Connection& inner_;
  int& lookups_;
};

// A Connection whose first update inside a transaction fails as a deadlock would: the database
// ended the transaction. Passes everything else on.
class DeadlockOnce : public LookupCounter {
 public:
  DeadlockOnce(Connection& inner, int& lookups, bool& thrown)
      : LookupCounter(inner, lookups), inner_(inner), lookups_(lookups), thrown_(thrown) {}
  uint64_t update(const std::string& table, const Row& values, const Row& where) override {
    if (in_transaction_ && !thrown_) {
      thrown_ = true;
      throw TransactionConflict("Deadlock found when trying to get lock; try restarting");
    }
    return LookupCounter::update(table, values, where);
  }
  void transaction(const std::function<void(Connection&)>& work) override {
    inner_.transaction([&](Connection& tx) {
      DeadlockOnce bound(tx, lookups_, thrown_);
      bound.in_transaction_ = true;
      work(bound);
    });
  }

 private:
  Connection& inner_;
  int& lookups_;
  bool& thrown_;
  bool in_transaction_ = false;
};

class ComposedUserRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite::SqliteSettings settings;
    settings.path = dir_ + "/users.db";
    connection_ = sqlite::makeSqliteConnection(settings);
    sqlite::openSqliteDatabase(*connection_, settings);
    for (auto& migration : DbalUserRepository::migrations()) migration.apply(*connection_);
    database_ = std::make_unique<DbalUserRepository>(connection_, events_);
  }
  void TearDown() override {
    database_.reset();
    connection_.reset();
    Poco::File(dir_).remove(true);
  }

  std::unique_ptr<ComposedUserRepository> composed(RefreshMode mode) {
    return std::make_unique<ComposedUserRepository>(*database_, memory_, mode);
  }

  // What another server's write looks like from here: the row changes, then its event arrives.
  UserChange writeElsewhere(const std::string& id, const std::string& name) {
    RecordedUserEvents ignored;
    DbalUserRepository other(connection_, ignored);
    SaveResult result = other.save(id, name, std::nullopt);
    return UserChange{result.created ? UserChangeKind::kCreated : UserChangeKind::kUpdated,
                      result.user};
  }

  std::string dir_ = Poco::TemporaryFile::tempName();
  std::shared_ptr<sql::PocoDataConnection> connection_;
  RecordedUserEvents events_;
  std::unique_ptr<DbalUserRepository> database_;
  InMemoryUserRepository memory_;
};

TEST_F(ComposedUserRepositoryTest, WritesGoToTheDatabaseAndAreReadableAtOnce) {
  auto repository = composed(RefreshMode::kIncremental);
  auto saved = repository->save("a", "A", std::string("a@x"));
  EXPECT_TRUE(saved.created);
  EXPECT_EQ(repository->find("a")->name, "A");
  EXPECT_EQ(database_->find("a")->name, "A");
  EXPECT_EQ(repository->remove("a"), 2);
  EXPECT_FALSE(repository->find("a"));
  EXPECT_FALSE(database_->find("a"));
}

TEST_F(ComposedUserRepositoryTest, AWriteOverTheHeldRowSkipsReadingIt) {
  int lookups = 0;
  auto counted = std::make_shared<LookupCounter>(*connection_, lookups);
  RecordedUserEvents events;
  DbalUserRepository database(counted, events);
  ComposedUserRepository repository(database, memory_, RefreshMode::kIncremental);
  repository.save("h", "one", std::nullopt);  // nothing held: read, then insert
  EXPECT_EQ(lookups, 1);
  auto saved = repository.save("h", "two", std::nullopt);
  EXPECT_EQ(lookups, 1) << "the held row was read again";
  EXPECT_FALSE(saved.created);
  EXPECT_EQ(saved.user.version, 2);
  EXPECT_EQ(repository.remove("h"), 3);
  // Over the held tombstone, the write creates the user again, still without a read.
  const int before = lookups;
  saved = repository.save("h", "back", std::string("h@x"));
  EXPECT_EQ(lookups, before);
  EXPECT_TRUE(saved.created);
  EXPECT_EQ(saved.user.version, 4);
  EXPECT_EQ(database_->find("h")->email, std::string("h@x"));
  ASSERT_EQ(events.changes.size(), 4u);
  EXPECT_EQ(events.changes[1].kind, UserChangeKind::kUpdated);
  EXPECT_EQ(events.changes[3].kind, UserChangeKind::kCreated);
}

TEST_F(ComposedUserRepositoryTest, AWriteOverARowThatMovedReadsItAndLosesNothing) {
  auto repository = composed(RefreshMode::kIncremental);
  repository->save("m", "mine", std::nullopt);  // held at version 1
  // Another server writes twice; its events have not arrived here.
  writeElsewhere("m", "theirs");
  writeElsewhere("m", "theirs again");
  auto saved = repository->save("m", "mine again", std::nullopt);
  EXPECT_EQ(saved.user.version, 4);
  EXPECT_FALSE(saved.created);
  EXPECT_EQ(database_->find("m")->version, 4);
  // A copy newer than the database (restored from an older dump): the write goes over the row
  // the database has.
  memory_.apply(UserRecord{User{"m", "from a lost history", std::nullopt, 9}, false});
  saved = repository->save("m", "after the restore", std::nullopt);
  EXPECT_EQ(saved.user.version, 5);
  EXPECT_EQ(database_->find("m")->name, "after the restore");
  // A copy that holds the row's version but not its deletion (a history that went otherwise).
  RecordedUserEvents ignored;
  DbalUserRepository(connection_, ignored).remove("m");  // version 6, deleted
  memory_.apply(UserRecord{User{"m", "alive here", std::nullopt, 6}, false});
  saved = repository->save("m", "back", std::nullopt);
  EXPECT_TRUE(saved.created) << "the stored row was a tombstone";
  EXPECT_EQ(saved.user.version, 7);
}

TEST_F(ComposedUserRepositoryTest, EachWritePublishesItsEventInsideItsTransaction) {
  auto repository = composed(RefreshMode::kIncremental);
  std::vector<bool> inside;
  // Publishing runs while the write's transaction is open: the row is not visible from a
  // second connection yet (SQLite in WAL mode, another session).
  struct Probe : UserEventPublisher {
    std::function<void(const UserChange&)> on_publish;
    void publish(const UserChange& change) override { on_publish(change); }
  } probe;
  std::vector<UserChange> seen;
  probe.on_publish = [&](const UserChange& change) {
    seen.push_back(change);
    inside.push_back(!DbalUserRepository(connection_, events_).find(change.user.id) ||
                     change.kind == UserChangeKind::kDeleted);
  };
  DbalUserRepository writer(connection_, probe);
  writer.save("e", "E", std::nullopt);
  writer.save("e", "E2", std::nullopt);
  writer.remove("e");
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].kind, UserChangeKind::kCreated);
  EXPECT_EQ(seen[1].kind, UserChangeKind::kUpdated);
  EXPECT_EQ(seen[1].user.version, 2);
  EXPECT_EQ(seen[2].kind, UserChangeKind::kDeleted);
  EXPECT_EQ(seen[2].user.version, 3);
  EXPECT_TRUE(inside[0]);
}

TEST_F(ComposedUserRepositoryTest, AReloadLetsTheDatabaseWinOverWhatWasHeld) {
  auto repository = composed(RefreshMode::kIncremental);
  writeElsewhere("r", "in the database");
  // A copy newer than the database, as after the database was restored from an older dump.
  memory_.apply(UserRecord{User{"r", "from a lost history", std::nullopt, 7}, false});
  memory_.apply(UserRecord{User{"gone", "only in the lost history", std::nullopt, 3}, false});
  repository->reload();
  EXPECT_EQ(repository->find("r")->name, "in the database");
  EXPECT_EQ(repository->find("r")->version, 1);
  EXPECT_FALSE(repository->find("gone"));
}

TEST_F(ComposedUserRepositoryTest, IncrementalAppliesEventsAndIgnoresStaleOnes) {
  auto repository = composed(RefreshMode::kIncremental);
  UserChange first = writeElsewhere("b", "one");
  UserChange second = writeElsewhere("b", "two");
  repository->onChange(second);
  repository->onChange(first);  // arrives late
  EXPECT_EQ(repository->find("b")->name, "two");
  repository->onChange(second);  // arrives twice
  EXPECT_EQ(repository->find("b")->version, 2);
}

TEST_F(ComposedUserRepositoryTest, ReloadModeReadsTheWholeTableOnEachEvent) {
  auto repository = composed(RefreshMode::kReload);
  writeElsewhere("c", "C");
  UserChange event = writeElsewhere("d", "D");
  repository->onChange(event);
  EXPECT_TRUE(repository->find("c"));  // loaded although its own event never came
  EXPECT_TRUE(repository->find("d"));
}

TEST_F(ComposedUserRepositoryTest, PreloadLoadsWhatTheDatabaseHas) {
  for (int i = 0; i < 50; ++i) writeElsewhere("p" + std::to_string(i), "P");
  RecordedUserEvents ignored;
  DbalUserRepository(connection_, ignored).remove("p0");
  auto repository = composed(RefreshMode::kIncremental);
  repository->reload();
  EXPECT_EQ(memory_.size(), 49u);
  EXPECT_FALSE(repository->find("p0"));
  EXPECT_EQ(repository->list(1000, 0).size(), 49u);
}

TEST_F(ComposedUserRepositoryTest, ConcurrentWritersAndReloadsEndEqualToTheDatabase) {
  auto repository = composed(RefreshMode::kIncremental);
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        std::string id = "w" + std::to_string(i % 10);
        if ((i + t) % 5 == 0) {
          repository->remove(id);
        } else {
          repository->save(id, "t" + std::to_string(t), std::nullopt);
        }
      }
    });
  }
  std::thread reloader([&] {
    for (int n = 0; n < 10; ++n) repository->reload();
  });
  for (auto& writer : writers) writer.join();
  reloader.join();
  for (const auto& record : database_->loadAll()) {
    auto cached = repository->find(record.user.id);
    if (record.deleted) {
      EXPECT_FALSE(cached) << record.user.id;
    } else {
      ASSERT_TRUE(cached) << record.user.id;
      EXPECT_EQ(*cached, record.user);
    }
  }
}

TEST_F(ComposedUserRepositoryTest, ATransactionTheDatabaseEndedOnADeadlockRunsAgain) {
  int lookups = 0;
  bool thrown = false;
  auto conflicting = std::make_shared<DeadlockOnce>(*connection_, lookups, thrown);
  RecordedUserEvents events;
  DbalUserRepository database(conflicting, events);
  ComposedUserRepository repository(database, memory_, RefreshMode::kIncremental);
  repository.save("d", "one", std::nullopt);  // an insert: no update to fail
  auto saved = repository.save("d", "two", std::nullopt);
  EXPECT_TRUE(thrown);
  EXPECT_EQ(saved.user.version, 2);
  EXPECT_EQ(database_->find("d")->name, "two");
  // The ended attempt published nothing: one event per write.
  ASSERT_EQ(events.changes.size(), 2u);
  EXPECT_EQ(events.changes[1].user.name, "two");
}

}  // namespace
}  // namespace busbar::users
