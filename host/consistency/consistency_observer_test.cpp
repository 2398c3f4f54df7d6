// The observer's thread over a cache and a "database" kept in memory here: what it counts, when,
// and what it repairs. The users module's cache over real databases is tested in
// tests/integration/consistency_test.cpp.
#include "consistency/consistency_observer.h"

#include <map>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <thread>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Message.h>
#include <gtest/gtest.h>

#include "busbar/errors.h"
#include "ops/metrics_registry.h"
#include "server_process.h"

namespace busbar::host {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

// Keeps the log lines, to check what the observer says.
class RecordingChannel : public Poco::Channel {
 public:
  void log(const Poco::Message& message) override {
    std::lock_guard<std::mutex> lock(mutex_);
    lines_.push_back(message.getText());
  }
  std::string all() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string text;
    for (const auto& line : lines_) text += line + "\n";
    return text;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// A cache and its database, both maps. Thread-safe.
class TwoMaps : public CheckedCache {
 public:
  std::string table() const override { return "things"; }
  std::vector<CheckedRow> cachedAfter(const std::string& after, size_t limit) override {
    return lockedPage(cache_, after, limit);
  }
  std::vector<CheckedRow> storedAfter(const std::string& after, size_t limit) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (database_down_) throw StorageUnavailable("the database is away");
    ++stored_reads_;
    return afterLocked(database_, after, limit);
  }
  std::optional<CheckedRow> cachedRow(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return find(cache_, key);
  }
  std::optional<CheckedRow> storedRow(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (database_down_) throw StorageUnavailable("the database is away");
    ++stored_row_reads_;
    return find(database_, key);
  }
  bool repair(const std::string& key, const std::optional<CheckedRow>& seen) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (reloading_ || find(cache_, key) != seen) return false;
    auto stored = find(database_, key);
    if (stored) {
      cache_[key] = *stored;
    } else {
      cache_.erase(key);
    }
    return true;
  }

  // Both sides at once: a change whose event arrived.
  void write(const std::string& key, int64_t version, const std::string& content = "v") {
    std::lock_guard<std::mutex> lock(mutex_);
    database_[key] = cache_[key] = CheckedRow{key, version, false, content};
  }
  void writeDatabase(const std::string& key, int64_t version, const std::string& content = "v") {
    std::lock_guard<std::mutex> lock(mutex_);
    database_[key] = CheckedRow{key, version, false, content};
  }
  void writeCache(const std::string& key, int64_t version, const std::string& content = "v") {
    std::lock_guard<std::mutex> lock(mutex_);
    cache_[key] = CheckedRow{key, version, false, content};
  }
  // A reload that read the table before the row was there.
  void dropFromCache(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    cache_.erase(key);
  }
  std::optional<CheckedRow> cached(const std::string& key) { return cachedRow(key); }
  // A reload loading: repairs are refused, as InMemoryUserRepository::replaceIf does.
  void setReloading(bool reloading) {
    std::lock_guard<std::mutex> lock(mutex_);
    reloading_ = reloading;
  }
  void setDatabaseDown(bool down) {
    std::lock_guard<std::mutex> lock(mutex_);
    database_down_ = down;
  }
  int storedReads() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stored_reads_;
  }
  int storedRowReads() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stored_row_reads_;
  }

 private:
  using Map = std::map<std::string, CheckedRow>;
  static std::optional<CheckedRow> find(const Map& map, const std::string& key) {
    auto found = map.find(key);
    if (found == map.end()) return std::nullopt;
    return found->second;
  }
  static std::vector<CheckedRow> afterLocked(const Map& map, const std::string& after,
                                             size_t limit) {
    std::vector<CheckedRow> rows;
    for (auto it = map.upper_bound(after); it != map.end() && rows.size() < limit; ++it) {
      rows.push_back(it->second);
    }
    return rows;
  }
  std::vector<CheckedRow> lockedPage(const Map& map, const std::string& after, size_t limit) {
    std::lock_guard<std::mutex> lock(mutex_);
    return afterLocked(map, after, limit);
  }

  std::mutex mutex_;
  Map cache_;
  Map database_;
  bool database_down_ = false;
  bool reloading_ = false;
  int stored_reads_ = 0;      // pages
  int stored_row_reads_ = 0;  // single rows
};

class ConsistencyObserverTest : public ::testing::Test {
 protected:
  ConsistencyObserverTest() : logger_(Poco::Logger::get("consistency-test")) {
    logger_.setChannel(channel_);
    logger_.setLevel(Poco::Message::PRIO_INFORMATION);
    settings_.rows_per_second = 100000;
    settings_.bound = 300ms;
  }
  ~ConsistencyObserverTest() override {
    if (observer_) observer_->stop();
  }

  void start(std::function<std::string()> paused = {},
             HostConsistencyObserver::ReloadCount reloads = {}) {
    observer_ = std::make_unique<HostConsistencyObserver>(settings_, metrics_, logger_);
    observer_->watch(maps_);
    observer_->start(
        paused ? paused : [] { return std::string(); }, std::move(reloads));
  }
  // Row "k" at version 1 in the cache and 2 in the database; once the observer has compared
  // it, the server stops being ready (serving_), as while its broker is away.
  void startAndStopServingAfterAFirstLook() {
    maps_->write("k", 1);
    maps_->writeDatabase("k", 2);
    start([this] { return serving_ ? std::string() : std::string("the broker is away"); });
    ASSERT_TRUE(eventually([&] { return figure("samples") > 0; }, 5s));
    serving_ = false;
  }
  uint64_t figure(const std::string& name) {
    return observer_->figures()->getObject("tables")->getObject("things")->getValue<uint64_t>(name);
  }

  ConsistencySettings settings_;
  HostMetricsRegistry metrics_;
  Poco::AutoPtr<RecordingChannel> channel_ = new RecordingChannel;
  Poco::Logger& logger_;
  std::shared_ptr<TwoMaps> maps_ = std::make_shared<TwoMaps>();
  std::unique_ptr<HostConsistencyObserver> observer_;
  std::atomic<bool> serving_{true};
  std::atomic<bool> resumed_{false};
};

TEST_F(ConsistencyObserverTest, AChangeNoEventAnnouncedIsCountedOnceLoggedAndRepaired) {
  for (int i = 0; i < 1200; ++i) maps_->write("k" + std::to_string(i), 1);
  maps_->writeDatabase("k777", 2, "edited with SQL");
  start();
  ASSERT_TRUE(eventually([&] { return figure("repairs") == 1; }, 5s));
  EXPECT_EQ(maps_->cached("k777")->version, 2);
  EXPECT_EQ(maps_->cached("k777")->content, "edited with SQL");
  EXPECT_EQ(figure("inconsistencies"), 1u);
  // More passes find nothing more.
  ASSERT_TRUE(eventually([&] { return figure("samples") > 5000; }, 5s));
  EXPECT_EQ(figure("inconsistencies"), 1u);
  const std::string log = channel_->all();
  EXPECT_NE(log.find("table things, key 'k777': the cache holds version 1, the database version "
                     "2; stale for at least 0."),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("repaired from the database"), std::string::npos) << log;
  EXPECT_NE(observer_->figures()->getObject("tables")->getObject("things")->get("last_full_pass"),
            Poco::Dynamic::Var());
  EXPECT_NE(metrics_.exposition().find("busbar_cache_inconsistencies_total{table=\"things\"} 1"),
            std::string::npos);
}

TEST_F(ConsistencyObserverTest, ARowMissingOnEitherSideIsRepaired) {
  maps_->write("a", 1);
  maps_->writeCache("only-cached", 3);
  maps_->writeDatabase("only-stored", 1);
  start();
  ASSERT_TRUE(eventually([&] { return figure("repairs") == 2; }, 5s));
  EXPECT_FALSE(maps_->cached("only-cached"));
  EXPECT_TRUE(maps_->cached("only-stored"));
  EXPECT_EQ(figure("inconsistencies"), 2u);
}

TEST_F(ConsistencyObserverTest, AChangeOnItsWayWithinTheBoundIsNotCounted) {
  // Every few milliseconds rows change in the database, and their event reaches the cache a
  // tenth of the bound later: the observer sees differences all the time and counts none.
  settings_.bound = 1s;
  for (int i = 0; i < 20; ++i) maps_->write("k" + std::to_string(i), 1);
  start();
  for (int64_t version = 2; version < 25; ++version) {
    for (int i = 0; i < 20; i += 3) maps_->writeDatabase("k" + std::to_string(i), version);
    std::this_thread::sleep_for(settings_.bound / 10);
    for (int i = 0; i < 20; i += 3) maps_->writeCache("k" + std::to_string(i), version);
  }
  std::this_thread::sleep_for(settings_.bound * 3);
  EXPECT_GT(figure("samples"), 1000u);
  EXPECT_EQ(figure("inconsistencies"), 0u) << channel_->all();
}

TEST_F(ConsistencyObserverTest, ACacheLeftBehindADatabaseThatKeepsMovingIsCounted) {
  maps_->write("hot", 1);
  start();
  // The database moves every tenth of the bound; the cache never hears of it.
  for (int64_t version = 2; version < 40 && figure("inconsistencies") == 0; ++version) {
    maps_->writeDatabase("hot", version);
    std::this_thread::sleep_for(settings_.bound / 10);
  }
  EXPECT_GE(figure("inconsistencies"), 1u);
}

TEST_F(ConsistencyObserverTest, NothingIsComparedWhileTheCachesAreKnownToBeStale) {
  maps_->writeDatabase("k", 2);
  std::atomic<bool> stale{true};
  start([&] { return stale ? std::string("a resynchronization is running") : std::string(); });
  std::this_thread::sleep_for(settings_.bound * 3);
  EXPECT_EQ(figure("samples"), 0u);
  EXPECT_EQ(observer_->figures()->getValue<std::string>("paused"),
            "a resynchronization is running");
  stale = false;
  EXPECT_TRUE(eventually([&] { return figure("repairs") == 1; }, 5s));
}

TEST_F(ConsistencyObserverTest, ADatabaseAwayIsCountedAsErrorsAndTheObserverCarriesOn) {
  maps_->write("k", 1);
  maps_->setDatabaseDown(true);
  start();
  ASSERT_TRUE(eventually(
      [&] {
        return metrics_.exposition().find("busbar_cache_check_errors_total 0") == std::string::npos;
      },
      5s));
  EXPECT_NE(channel_->all().find("the database is away"), std::string::npos);
  maps_->writeDatabase("k", 2);
  maps_->setDatabaseDown(false);
  EXPECT_TRUE(eventually([&] { return figure("repairs") == 1; }, 5s));
}

TEST_F(ConsistencyObserverTest, ThePaceIsTheRateOrMoreToFinishAFullPassInTime) {
  settings_.rows_per_second = 1000;
  settings_.full_pass = 1s;
  for (int i = 0; i < 3000; ++i) maps_->write("k" + std::to_string(10000 + i), 1);
  start();
  // Once the first pass counted the rows, 3000 rows in 1 s.
  ASSERT_TRUE(eventually([&] { return figure("rows") == 3000; }, 10s));
  EXPECT_EQ(observer_->figures()->getValue<double>("pace_rows_per_second"), 3000);
  EXPECT_THROW(observer_->adjust(0, 1s), std::invalid_argument);
  EXPECT_THROW(observer_->adjust(10, 0s), std::invalid_argument);
  observer_->adjust(5000, 3600s);
  EXPECT_EQ(observer_->figures()->getValue<double>("pace_rows_per_second"), 5000);
}

TEST_F(ConsistencyObserverTest, TheRateBoundsTheDatabaseReadsWhateverTheTableSize) {
  // Each page costs the pace a full page's rows, however few it found: 1000 rows a second is
  // two reads a second, on an empty table as on a large one (the first read at once).
  settings_.rows_per_second = 1000;
  start();
  std::this_thread::sleep_for(2s);
  EXPECT_LE(maps_->storedReads(), 6);
  EXPECT_GE(maps_->storedReads(), 1);
}

TEST_F(ConsistencyObserverTest, ANewPaceTakesEffectAtOnce) {
  settings_.rows_per_second = 1;  // a page every 500 s
  for (int i = 0; i < 100; ++i) maps_->write("k" + std::to_string(i), 1);
  start();
  ASSERT_TRUE(eventually([&] { return figure("samples") > 0; }, 5s));
  const uint64_t first = figure("samples");
  observer_->adjust(100000, 600s);
  EXPECT_TRUE(eventually([&] { return figure("samples") > first + 1000; }, 5s))
      << figure("samples");
}

TEST_F(ConsistencyObserverTest, ARowSeenWhileTheServerStoppedServingGetsAWholeBoundAfterIt) {
  // The server stops being ready past the look's due time; the change arrives shortly after it
  // is ready again, well within a bound of that.
  settings_.bound = 1s;
  ASSERT_NO_FATAL_FAILURE(startAndStopServingAfterAFirstLook());
  std::this_thread::sleep_for(1500ms);
  serving_ = true;
  std::this_thread::sleep_for(500ms);
  maps_->writeCache("k", 2);
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(figure("inconsistencies"), 0u) << channel_->all();
}

TEST_F(ConsistencyObserverTest, ARowFixedDuringAPauseAndLostAfterItCountsFromTheLoss) {
  // Consistent at the pause's end; a reload soon after loses the row and the next brings it
  // back, within a bound of the loss. What the look before the pause saw must not make that
  // count (as stale since that look).
  settings_.bound = 1s;
  ASSERT_NO_FATAL_FAILURE(startAndStopServingAfterAFirstLook());
  maps_->writeCache("k", 2);
  std::this_thread::sleep_for(1500ms);
  serving_ = true;
  std::this_thread::sleep_for(800ms);
  maps_->dropFromCache("k");
  std::this_thread::sleep_for(500ms);
  maps_->writeCache("k", 2);
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(figure("inconsistencies"), 0u) << channel_->all();
}

TEST_F(ConsistencyObserverTest, ARowStillWrongAfterAPauseCountsFromTheLookAfterIt) {
  settings_.bound = 500ms;
  ASSERT_NO_FATAL_FAILURE(startAndStopServingAfterAFirstLook());
  std::this_thread::sleep_for(3s);
  serving_ = true;
  ASSERT_TRUE(eventually([&] { return figure("repairs") == 1; }, 5s));
  EXPECT_EQ(figure("inconsistencies"), 1u);
  const std::string log = channel_->all();
  // Stale since the look after the pause (half a second, more on a loaded machine), not since
  // the one before it (3 s).
  EXPECT_TRUE(std::regex_search(
      log,
      std::regex("the cache holds version 1, the database version 2; stale for at least [0-2]\\.")))
      << log;
}

TEST_F(ConsistencyObserverTest, ARowFixedThenLostByAReloadNoPauseShowedCountsFromTheReload) {
  // A reload too short for the observer to see the server not ready: the count of reloads tells
  // it. Seen differing, then consistent; a reload loses the row just before its second look, and
  // the next brings it back within a bound of that.
  settings_.bound = 2s;
  maps_->write("k", 1);
  maps_->writeDatabase("k", 2);
  std::atomic<uint64_t> reloads{0};
  start({}, [&] { return reloads.load(); });
  ASSERT_TRUE(eventually([&] { return figure("samples") > 0; }, 5s));
  std::this_thread::sleep_for(500ms);
  maps_->writeCache("k", 2);
  std::this_thread::sleep_for(700ms);
  maps_->dropFromCache("k");
  ++reloads;
  std::this_thread::sleep_for(1200ms);
  maps_->writeCache("k", 2);
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(figure("inconsistencies"), 0u) << channel_->all();
}

TEST_F(ConsistencyObserverTest, AFreshLookThatFailsIsTriedAgainAndTheRowStillCounts) {
  settings_.bound = 300ms;
  ASSERT_NO_FATAL_FAILURE(startAndStopServingAfterAFirstLook());
  std::this_thread::sleep_for(500ms);
  maps_->setDatabaseDown(true);
  serving_ = true;
  ASSERT_TRUE(eventually(
      [&] {
        return metrics_.exposition().find("busbar_cache_check_errors_total 0") == std::string::npos;
      },
      5s));
  maps_->setDatabaseDown(false);
  ASSERT_TRUE(eventually([&] { return figure("repairs") == 1; }, 5s)) << channel_->all();
  EXPECT_EQ(maps_->cached("k")->version, 2);
  EXPECT_TRUE(eventually(
      [&] {
        return metrics_.exposition().find("busbar_cache_suspect_rows{table=\"things\"} 0") !=
               std::string::npos;
      },
      5s));
}

TEST_F(ConsistencyObserverTest, AfterAPauseTenSuspectsAreLookedAtAfreshAndThePassFindsTheRest) {
  // 1000 rows differ; the server stops serving before their second looks. After it, ten of them
  // are looked at afresh one by one and the pass finds the others again, a page at a time: each
  // row still counts once, and the database is read row by row about once per row (to judge it),
  // not twice.
  settings_.bound = 1s;
  for (int i = 1000; i < 2000; ++i) {
    maps_->write("k" + std::to_string(i), 1);
    maps_->writeDatabase("k" + std::to_string(i), 2);
  }
  // The server stops serving as soon as both pages were read (on the observer's own thread, so
  // that no second look can come first), until the test lets it go on.
  start([this] {
    return !resumed_ && maps_->storedReads() >= 2 ? std::string("the broker is away")
                                                  : std::string();
  });
  ASSERT_TRUE(eventually(
      [&] { return !observer_->figures()->getValue<std::string>("paused").empty(); }, 5s));
  ASSERT_EQ(figure("samples"), 1000u);
  resumed_ = true;
  ASSERT_TRUE(eventually([&] { return figure("inconsistencies") >= 1000; }, 10s))
      << figure("inconsistencies");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(figure("inconsistencies"), 1000u);
  EXPECT_EQ(figure("repairs"), 1000u);
  EXPECT_LT(maps_->storedRowReads(), 1100);
  const std::string log = channel_->all();
  EXPECT_NE(log.find("1000 rows of table things differed before the pause or reload; 10 are "
                     "looked at again now, the others when the pass comes to them"),
            std::string::npos)
      << log;
}

TEST_F(ConsistencyObserverTest, ARowWhoseRepairTheCacheRefusesIsLookedAtAgainBeforeItCounts) {
  settings_.bound = 200ms;
  maps_->write("k", 1);
  maps_->writeDatabase("k", 2);
  maps_->setReloading(true);
  start();
  // Past the bound, but the cache refuses repairs (a reload is loading): not counted yet.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(figure("inconsistencies"), 0u);
  // The reload ends without having brought the row: counted once, and repaired.
  maps_->setReloading(false);
  ASSERT_TRUE(eventually([&] { return figure("repairs") == 1; }, 5s));
  EXPECT_EQ(figure("inconsistencies"), 1u);
}

TEST_F(ConsistencyObserverTest, ATableWatchedTwiceIsRefused) {
  start();
  EXPECT_THROW(observer_->watch(std::make_shared<TwoMaps>()), ConfigError);
}

}  // namespace
}  // namespace busbar::host
