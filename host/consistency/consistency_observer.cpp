#include "consistency/consistency_observer.h"

#include <cmath>
#include <set>
#include <stdexcept>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

#include "busbar/errors.h"
#include "consistency/cache_comparison.h"

namespace busbar::host {
namespace {

constexpr auto kRetryAfterError = std::chrono::seconds(1);
constexpr auto kErrorLogInterval = std::chrono::seconds(60);
constexpr auto kPausedLook = std::chrono::milliseconds(250);
// A second look costs the pace this many rows: its two point reads (and a repair's) read the
// database as often as a page of 500 rows does, but fewer rows each.
constexpr double kRecheckRows = 50;
// A repair the cache refused (a change applied since the look, a reload loading) is looked at
// again a bound later, this many times before the row counts anyway.
constexpr int kRepairRefusals = 3;
// After a pause or a reload, the suspects per table looked at afresh one by one: as many as cost
// the pace one page. The others are forgotten and left to the pass, which finds those still
// differing when it comes to them, a page of rows for the cost of these few looks (within two
// full passes: it may have just gone past them); looked at one by one, thousands of suspects
// would hold every page off for minutes.
constexpr size_t kFreshLooks =
    static_cast<size_t>(HostConsistencyObserver::kPageRows / kRecheckRows);

std::string describe(const std::optional<CheckedRow>& row) {
  if (!row) return "no row";
  return (row->deleted ? "a deletion at version " : "version ") + std::to_string(row->version);
}

double secondsBetween(BackgroundWorker::Clock::time_point from,
                      BackgroundWorker::Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

struct HostConsistencyObserver::Table {
  std::shared_ptr<CheckedCache> cache;
  std::string name;
  std::atomic<uint64_t> samples{0};
  std::atomic<uint64_t> inconsistencies{0};
  std::atomic<uint64_t> repairs{0};
  // Rows of the last full pass, or of this one once it went past them.
  std::atomic<uint64_t> rows{0};
  std::atomic<double> last_full_pass_unix{0};  // seconds; 0: no full pass yet
  std::atomic<double> last_full_pass_seconds{0};
  // Only on the observer's thread:
  std::string after;                        // the next page starts after this key
  std::atomic<uint64_t> rows_this_pass{0};  // read by paceLocked() on other threads
  std::atomic<uint64_t> suspect_count{0};   // suspects.size(), for the metrics
  Clock::time_point pass_started{};
  std::set<std::string> suspects;     // keys waiting for a second look
  bool suspects_full_logged = false;  // this pass
};

HostConsistencyObserver::HostConsistencyObserver(ConsistencySettings settings,
                                                 MetricsRegistry& metrics, Poco::Logger& logger)
    : initial_(settings),
      metrics_(metrics),
      logger_(logger),
      rows_per_second_(settings.rows_per_second),
      full_pass_(settings.full_pass) {
  errors_ = &metrics_.counter("busbar_cache_check_errors_total",
                              "Reads of the consistency observer that failed (the database away)");
  metrics_.gaugeReader("busbar_cache_check_rows_per_second",
                       "Rows per second the consistency observer compares now: [consistency] "
                       "rows_per_second, or more to finish a full pass in time",
                       {}, [this] {
                         std::lock_guard<std::mutex> lock(worker_.mutex());
                         return initial_.enabled && !tables_.empty() ? paceLocked() : 0.0;
                       });
}

HostConsistencyObserver::~HostConsistencyObserver() { stop(); }

void HostConsistencyObserver::watch(std::shared_ptr<CheckedCache> cache) {
  if (!cache) throw std::invalid_argument("ConsistencyObserver::watch: no cache");
  const std::string name = cache->table();
  for (const auto& table : tables_) {
    if (table->name == name) {
      throw ConfigError("two caches of the table '" + name +
                        "' asked to be checked; each table is checked once");
    }
  }
  auto table = std::make_unique<Table>();
  table->cache = std::move(cache);
  table->name = name;
  Table* t = table.get();
  const MetricLabels labels{{"table", name}};
  metrics_.counterReader("busbar_cache_samples_total",
                         "Cached rows the consistency observer compared with the database", labels,
                         [t] { return static_cast<double>(t->samples.load()); });
  metrics_.counterReader(
      "busbar_cache_inconsistencies_total",
      "Cached rows that still differed from the database once the propagation bound had passed",
      labels, [t] { return static_cast<double>(t->inconsistencies.load()); });
  metrics_.counterReader("busbar_cache_repairs_total",
                         "Inconsistent cached rows replaced by the database's", labels,
                         [t] { return static_cast<double>(t->repairs.load()); });
  metrics_.gaugeReader("busbar_cache_last_full_pass_timestamp_seconds",
                       "When the consistency observer last finished comparing every row (Unix "
                       "time; 0: not yet)",
                       labels, [t] { return t->last_full_pass_unix.load(); });
  metrics_.gaugeReader("busbar_cache_full_pass_duration_seconds",
                       "How long the last full pass of the consistency observer took", labels,
                       [t] { return t->last_full_pass_seconds.load(); });
  metrics_.gaugeReader("busbar_cache_suspect_rows",
                       "Cached rows that differed from the database, waiting for a second look",
                       labels, [t] { return static_cast<double>(t->suspect_count.load()); });
  tables_.push_back(std::move(table));
}

void HostConsistencyObserver::start(PauseReason paused, ReloadCount reloads) {
  if (!initial_.enabled || tables_.empty() || worker_.running()) return;
  paused_ = std::move(paused);
  reloads_ = std::move(reloads);
  for (auto& table : tables_) table->pass_started = Clock::now();
  worker_.start("bb-consistency", [this] { loop(); });
}

void HostConsistencyObserver::stop() noexcept { worker_.stop(); }

void HostConsistencyObserver::adjust(double rows_per_second, std::chrono::seconds full_pass) {
  if (!std::isfinite(rows_per_second) || rows_per_second < 1 || rows_per_second > 1e7) {
    throw std::invalid_argument("rows_per_second must be between 1 and 10000000, not " +
                                std::to_string(rows_per_second));
  }
  if (full_pass < std::chrono::seconds(1) || full_pass > std::chrono::hours(24 * 30)) {
    throw std::invalid_argument("full_pass_seconds must be between 1 and 2592000 (30 days), not " +
                                std::to_string(full_pass.count()));
  }
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    rows_per_second_ = rows_per_second;
    full_pass_ = full_pass;
    ++adjustments_;
  }
  worker_.wake();
  logger_.notice("consistency observer: now at least " + std::to_string(rows_per_second) +
                 " rows per second and a full pass every " + std::to_string(full_pass.count()) +
                 " s at most");
}

double HostConsistencyObserver::paceLocked() const {
  uint64_t rows = 0;
  for (const auto& table : tables_) {
    rows += std::max(table->rows.load(), table->rows_this_pass.load());
  }
  return std::max(rows_per_second_, static_cast<double>(rows) / full_pass_.count());
}

void HostConsistencyObserver::loop() {
  std::unique_lock<std::mutex> lock(worker_.mutex());
  // Each piece of work (a page, a second look) costs the pace its rows; the next waits until the
  // pace has paid for the last.
  Clock::time_point last_start = Clock::now();
  double last_cost = 0;
  bool last_failed = false;
  bool was_paused = false;
  uint64_t reloads_seen = reloads_ ? reloads_() : 0;
  while (!worker_.stopping()) {
    const uint64_t adjustments = adjustments_;
    const Clock::time_point next =
        last_failed ? last_start + kRetryAfterError
                    : last_start + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(last_cost / paceLocked()));
    worker_.waitUntil(lock, next, [&] { return adjustments_ != adjustments; });
    if (worker_.stopping()) break;
    if (adjustments_ != adjustments) continue;  // a new pace: wait by it
    pause_reason_ = paused_ ? paused_() : std::string();
    if (!pause_reason_.empty()) {
      was_paused = true;
      worker_.waitFor(lock, kPausedLook);
      continue;
    }
    lock.unlock();
    const auto now = Clock::now();
    // A server that was not serving had no reason to be current, and a reload replaced what the
    // caches held: the rows that differed are looked at again as if for the first time (the
    // first few one by one, the others when the pass comes to them).
    const uint64_t reloads = reloads_ ? reloads_() : 0;
    if (was_paused || reloads != reloads_seen) lookAgainAtFirstSuspects(now);
    reloads_seen = reloads;
    was_paused = false;
    last_start = now;
    last_failed = false;
    try {
      if (!due_.empty() && due_.begin()->first <= now) {
        last_cost = recheckFirst(now) ? kRecheckRows : 0;
      } else {
        last_cost = static_cast<double>(
            std::max(comparePage(*tables_[current_]), kPageRows));  // a small table too
      }
    } catch (const std::exception& error) {
      noteError(error);
      last_failed = true;
    }
    lock.lock();
  }
}

size_t HostConsistencyObserver::comparePage(Table& table) {
  // The cache first: a change committed between the two reads shows the database ahead, which
  // the second look clears; the other order could not tell a lost change from one in flight.
  auto cached = table.cache->cachedAfter(table.after, kPageRows);
  auto stored = table.cache->storedAfter(table.after, kPageRows);
  const auto now = Clock::now();
  PageComparison page = comparePages(cached, stored, kPageRows);
  table.samples += page.compared;
  table.rows_this_pass += page.compared;
  if (table.rows_this_pass.load() > table.rows.load()) table.rows = table.rows_this_pass.load();
  for (auto& difference : page.differences) {
    if (table.suspects.size() >= kMaxSuspects) {
      // The next pass finds the rest.
      if (!table.suspects_full_logged) {
        table.suspects_full_logged = true;
        logger_.warning("consistency observer: more than " + std::to_string(kMaxSuspects) +
                        " rows of table " + table.name +
                        " differ from the database; the others are looked at in a later pass. "
                        "After a bulk change made outside busbar, POST /admin/resync reloads "
                        "every cache at once");
      }
      break;
    }
    if (!table.suspects.insert(difference.key).second) continue;
    table.suspect_count = table.suspects.size();
    Suspect suspect;
    suspect.table = current_;
    suspect.key = difference.key;
    suspect.stored_then = std::move(difference.stored);
    suspect.cached_first = std::move(difference.cached);
    suspect.first_seen = now;
    due_.emplace(now + initial_.bound, std::move(suspect));
  }
  if (page.reached_end) {
    table.last_full_pass_unix = static_cast<double>(Poco::Timestamp().epochMicroseconds()) / 1e6;
    table.last_full_pass_seconds = secondsBetween(table.pass_started, now);
    table.rows = table.rows_this_pass.load();
    table.rows_this_pass = 0;
    table.suspects_full_logged = false;
    table.after.clear();
    current_ = (current_ + 1) % tables_.size();
    tables_[current_]->pass_started = now;
  } else {
    table.after = page.covered_to;
  }
  return page.compared;
}

bool HostConsistencyObserver::recheckFirst(Clock::time_point now) {
  const bool late = now - due_.begin()->first > initial_.bound;
  Suspect suspect = std::move(due_.begin()->second);
  due_.erase(due_.begin());
  if (suspect.needs_fresh_look) {
    lookAfresh(std::move(suspect));
    return true;
  }
  if (late && !suspect.put_off) {
    // This thread did not run for a bound (the process was frozen, or starved): neither did the
    // ones that apply events. Give them the bound from now before judging.
    suspect.put_off = true;
    due_.emplace(now + initial_.bound, std::move(suspect));
    return false;
  }
  judge(std::move(suspect));
  return true;
}

void HostConsistencyObserver::lookAgainAtFirstSuspects(Clock::time_point now) {
  std::multimap<Clock::time_point, Suspect> now_due;
  std::vector<size_t> kept(tables_.size(), 0);
  std::vector<size_t> left(tables_.size(), 0);
  for (auto& [due, suspect] : due_) {
    if (kept[suspect.table] == kFreshLooks) {
      forget(*tables_[suspect.table], suspect.key);
      ++left[suspect.table];
      continue;
    }
    ++kept[suspect.table];
    suspect.needs_fresh_look = true;
    now_due.emplace_hint(now_due.end(), now, std::move(suspect));
  }
  due_.swap(now_due);
  for (size_t i = 0; i < tables_.size(); ++i) {
    if (left[i] == 0) continue;
    logger_.information("consistency observer: " + std::to_string(kept[i] + left[i]) +
                        " rows of table " + tables_[i]->name +
                        " differed before the pause or reload; " + std::to_string(kept[i]) +
                        " are looked at again now, the others when the pass comes to them");
  }
}

HostConsistencyObserver::Rows HostConsistencyObserver::readRowsOrRetryLater(Suspect& suspect) {
  const Table& table = *tables_[suspect.table];
  try {
    // The cache first, as in comparePage().
    auto cached = table.cache->cachedRow(suspect.key);
    return Rows{std::move(cached), table.cache->storedRow(suspect.key)};
  } catch (const std::exception&) {
    due_.emplace(Clock::now() + kRetryAfterError, std::move(suspect));
    throw;
  }
}

void HostConsistencyObserver::lookAfresh(Suspect suspect) {
  Table& table = *tables_[suspect.table];
  auto [cached_now, stored_now] = readRowsOrRetryLater(suspect);
  if (cached_now == stored_now) {
    forget(table, suspect.key);
    return;
  }
  suspect.stored_then = std::move(stored_now);
  suspect.cached_first = std::move(cached_now);
  suspect.first_seen = Clock::now();
  suspect.needs_fresh_look = false;
  suspect.put_off = false;
  suspect.refused_repairs = 0;
  const auto due = suspect.first_seen + initial_.bound;
  due_.emplace(due, std::move(suspect));
}

void HostConsistencyObserver::forget(Table& table, const std::string& key) {
  table.suspects.erase(key);
  table.suspect_count = table.suspects.size();
}

void HostConsistencyObserver::judge(Suspect suspect) {
  Table& table = *tables_[suspect.table];
  auto [cached_now, stored_now] = readRowsOrRetryLater(suspect);
  switch (recheck(suspect.stored_then, cached_now, stored_now, suspect.moving_looks)) {
    case RecheckVerdict::kConsistent:
      forget(table, suspect.key);
      return;
    case RecheckVerdict::kStillMoving:
      suspect.stored_then = std::move(stored_now);
      ++suspect.moving_looks;
      due_.emplace(Clock::now() + initial_.bound, std::move(suspect));
      return;
    case RecheckVerdict::kInconsistent:
      break;
  }
  bool repaired = false;
  std::string outcome;
  try {
    repaired = table.cache->repair(suspect.key, cached_now);
    outcome = repaired ? "repaired from the database"
                       : "not repaired: the cache changed since, or is reloading";
  } catch (const std::exception& error) {
    outcome = std::string("not repaired: ") + error.what();
  }
  if (!repaired && ++suspect.refused_repairs < kRepairRefusals) {
    // The cache is moving (a change applied since the look, a reload): judge it again later.
    due_.emplace(Clock::now() + initial_.bound, std::move(suspect));
    return;
  }
  forget(table, suspect.key);
  reportInconsistent(table, suspect, cached_now, stored_now, repaired, outcome);
}

void HostConsistencyObserver::reportInconsistent(Table& table, const Suspect& suspect,
                                                 const std::optional<CheckedRow>& cached_now,
                                                 const std::optional<CheckedRow>& stored_now,
                                                 bool repaired, const std::string& outcome) {
  const double stale = secondsBetween(suspect.first_seen, Clock::now());
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", stale);
  logger_.warning("cache inconsistent with the database: table " + table.name + ", key '" +
                  suspect.key + "': the cache holds " + describe(cached_now) + ", the database " +
                  describe(stored_now) + "; stale for at least " + seconds +
                  " s (seen differing first then, with the cache at " +
                  describe(suspect.cached_first) + "); " + outcome);
  // Counted after the line is written: whoever reads a figure finds its line in the log.
  ++table.inconsistencies;
  if (repaired) ++table.repairs;
}

void HostConsistencyObserver::noteError(const std::exception& error) {
  errors_->increment();
  const auto now = Clock::now();
  if (last_error_log_ != Clock::time_point{} && now - last_error_log_ < kErrorLogInterval) return;
  last_error_log_ = now;
  logger_.warning(std::string("consistency observer: a read failed, trying again in 1 s (logged "
                              "once a minute): ") +
                  error.what());
}

Poco::JSON::Object::Ptr HostConsistencyObserver::figures() const {
  Poco::JSON::Object::Ptr json = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  std::lock_guard<std::mutex> lock(worker_.mutex());
  json->set("enabled", initial_.enabled);
  json->set("rows_per_second", rows_per_second_);
  json->set("full_pass_seconds", static_cast<int64_t>(full_pass_.count()));
  json->set("bound_ms", static_cast<int64_t>(initial_.bound.count()));
  json->set("pace_rows_per_second", tables_.empty() ? 0.0 : paceLocked());
  json->set("paused", pause_reason_);
  Poco::JSON::Object::Ptr tables = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& table : tables_) {
    Poco::JSON::Object::Ptr figures = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    const uint64_t samples = table->samples.load();
    const uint64_t inconsistencies = table->inconsistencies.load();
    figures->set("samples", samples);
    figures->set("inconsistencies", inconsistencies);
    figures->set("inconsistencies_per_million",
                 samples > 0 ? 1e6 * static_cast<double>(inconsistencies) / samples : 0.0);
    figures->set("repairs", table->repairs.load());
    figures->set("rows", table->rows.load());
    const double last = table->last_full_pass_unix.load();
    if (last > 0) {
      figures->set("last_full_pass",
                   Poco::DateTimeFormatter::format(
                       Poco::Timestamp(static_cast<Poco::Timestamp::TimeVal>(last * 1e6)),
                       Poco::DateTimeFormat::ISO8601_FRAC_FORMAT));
      figures->set("last_full_pass_seconds", table->last_full_pass_seconds.load());
    } else {
      figures->set("last_full_pass", Poco::Dynamic::Var());
    }
    tables->set(table->name, figures);
  }
  json->set("tables", tables);
  return json;
}

}  // namespace busbar::host
