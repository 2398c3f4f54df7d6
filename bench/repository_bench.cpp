// busbar-repository-bench: the users repositories alone, no HTTP in front (Google Benchmark).
//
// A cached read (ComposedUserRepository, reads from InMemoryUserRepository) against the same
// read from the persistent repository (DbalUserRepository) on SQLite, over the same table of
// users. bench/run sets the table size with BENCH_USERS (default 10000).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>

#include "infrastructure/composed_user_repository.h"
#include "infrastructure/dbal_user_repository.h"
#include "infrastructure/in_memory_user_repository.h"
#include "infrastructure/recorded_user_events.h"
#include "sqlite_storage.h"

namespace {

using namespace busbar;

long tableSize() {
  const char* text = std::getenv("BENCH_USERS");
  return text != nullptr ? std::atol(text) : 10000;
}

std::string userId(long n) {
  char id[24];
  std::snprintf(id, sizeof id, "u%07ld", n);
  return id;
}

// One SQLite file with the users table, filled once, and the repositories over it.
class Fixture {
 public:
  Fixture() {
    sqlite::SqliteSettings settings;
    settings.path = dir_ + "/users.db";
    connection_ = sqlite::makeSqliteConnection(settings);
    sqlite::openSqliteDatabase(*connection_, settings);
    for (auto& migration : users::DbalUserRepository::migrations()) migration.apply(*connection_);
    database_ = std::make_unique<users::DbalUserRepository>(connection_, events_);
    connection_->transaction([&](Connection& tx) {
      for (long n = 0; n < size_; ++n) {
        tx.insert("users", {{"id", userId(n)},
                            {"name", "User " + std::to_string(n)},
                            {"email", userId(n) + "@example.org"},
                            {"version", int64_t{1}},
                            {"deleted", int64_t{0}}});
      }
    });
    composed_ = std::make_unique<users::ComposedUserRepository>(*database_, memory_,
                                                                users::RefreshMode::kIncremental);
    memory_.replaceAll([this] { return database_->loadAll(); });
    for (long n = 0; n < size_; ++n) ids_.push_back(userId(n));
  }
  ~Fixture() {
    composed_.reset();
    database_.reset();
    connection_.reset();
    Poco::File(dir_).remove(true);
  }

  const long size_ = tableSize();
  std::vector<std::string> ids_;
  users::DbalUserRepository& database() { return *database_; }
  users::ComposedUserRepository& composed() { return *composed_; }

 private:
  std::string dir_ = Poco::TemporaryFile::tempName();
  std::shared_ptr<sql::PocoDataConnection> connection_;
  users::RecordedUserEvents events_;
  std::unique_ptr<users::DbalUserRepository> database_;
  users::InMemoryUserRepository memory_;
  std::unique_ptr<users::ComposedUserRepository> composed_;
};

Fixture& fixture() {
  static Fixture instance;
  return instance;
}

template <typename Repository>
void findRandom(benchmark::State& state, Repository& repository) {
  const auto& ids = fixture().ids_;
  std::mt19937_64 random(42);
  for (auto _ : state) {
    auto user = repository.find(ids[random() % ids.size()]);
    if (!user) state.SkipWithError("a seeded user was not found");
    benchmark::DoNotOptimize(user);
  }
}

void BM_CachedFind(benchmark::State& state) { findRandom(state, fixture().composed()); }
void BM_SqliteFind(benchmark::State& state) { findRandom(state, fixture().database()); }

BENCHMARK(BM_CachedFind);
BENCHMARK(BM_SqliteFind);

}  // namespace

BENCHMARK_MAIN();
