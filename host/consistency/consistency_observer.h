// ConsistencyObserver: checks every cache a module registered (busbar/consistency.h) against the
// database, continuously, on a thread of its own ("bb-consistency").
//
// It walks the watched tables one after the other, a page of rows at a time, comparing each page
// of the cache with the same keys of the database (cache_comparison.h). Each piece of work costs
// its pace: a page at least kPageRows rows (so that a small or empty table is read twice a second
// at the default pace, not in a spin), a second look kRecheckRows. The pace is `rows_per_second`,
// raised when the tables hold more rows than that rate covers in `full_pass` (known from the
// previous pass: the first pass after a start keeps to `rows_per_second`). A row that differs is
// looked at again `bound` later; one that is then still inconsistent is counted, logged with its
// key, both versions and how long it had been seen stale, and repaired. A repair the cache
// refuses (it changed since, or reloads) puts the row off by a bound, up to three times. At most
// kMaxSuspects rows per table wait for a second look; more wait for a later pass. While
// `paused()` says why (the server is not ready: its caches are known to be stale, its database or
// broker is away, it drains) it compares nothing. Once it resumes, and whenever `reloads()` says
// the caches were reloaded since its last piece of work (a reload too short for a look at
// `paused()` to see), each row that differed is looked at afresh, as if first seen then: what a
// look before saw says nothing of the cache after it (a reload may have fixed the row, or lost it
// again until the next). Ten such rows per table at most, a page's worth of pace; the others are
// forgotten until the pass comes to them again (within two full passes). A row whose second look comes a bound late
// because the process was frozen gets the whole bound again, once.
//
// Metrics, per table: busbar_cache_samples_total (rows compared),
// busbar_cache_inconsistencies_total, busbar_cache_repairs_total, busbar_cache_suspect_rows,
// busbar_cache_last_full_pass_timestamp_seconds and busbar_cache_full_pass_duration_seconds;
// besides busbar_cache_check_rows_per_second and busbar_cache_check_errors_total (database reads
// that failed).
//
// Thread-safety: watch() during init only; start() and stop() from the host's thread; the rest
// from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>

#include "background_worker.h"
#include "busbar/consistency.h"
#include "busbar/metrics.h"
#include "host_config.h"

namespace busbar::host {

class HostConsistencyObserver final : public ConsistencyObserver {
 public:
  using Clock = BackgroundWorker::Clock;
  // "" to compare, or why not now. Must return at once.
  using PauseReason = std::function<std::string()>;
  // How many times the caches were reloaded since the start (the host's resynchronizations); only
  // its changes count. Must return at once.
  using ReloadCount = std::function<uint64_t()>;

  // Rows per page, read from the cache and from the database at once.
  static constexpr size_t kPageRows = 500;
  // Rows looked at again at most, per table; more differences wait for a later pass.
  static constexpr size_t kMaxSuspects = 10000;

  HostConsistencyObserver(ConsistencySettings settings, MetricsRegistry& metrics,
                          Poco::Logger& logger);
  ~HostConsistencyObserver() override;

  void watch(std::shared_ptr<CheckedCache> cache) override;

  // Starts the thread when the observer is enabled and a cache is watched.
  void start(PauseReason paused, ReloadCount reloads = {});
  void stop() noexcept;

  // Changes the pace at run time (the admin listener). Throws std::invalid_argument naming the
  // setting when a value is out of range: rows_per_second in [1, 1e7], full_pass in [1 s, 30 d].
  void adjust(double rows_per_second, std::chrono::seconds full_pass);

  // {"enabled", "rows_per_second", "full_pass_seconds", "bound_ms", "pace_rows_per_second",
  //  "paused", "tables": {name: {"samples", "inconsistencies", "inconsistencies_per_million",
  //  "repairs", "rows", "last_full_pass", "last_full_pass_seconds"}}}, for /health and the admin
  // route.
  Poco::JSON::Object::Ptr figures() const;

 private:
  struct Table;
  struct Suspect {
    size_t table = 0;
    std::string key;
    std::optional<CheckedRow> stored_then;   // the database's row at the last look
    std::optional<CheckedRow> cached_first;  // the cache's row at the first look
    Clock::time_point first_seen;
    bool put_off = false;           // its look came late once and was put off
    bool needs_fresh_look = false;  // paused or reloaded since the first look
    int moving_looks = 0;           // looks in a row that found the database moved
    int refused_repairs = 0;        // repairs the cache refused
  };

  void loop();
  // One page of the current table; returns the rows compared.
  size_t comparePage(Table& table);
  // The first due suspect: looked at afresh (lookAfresh), judged, or put off by a bound once when
  // its look comes more than a bound late. Returns whether it read anything.
  bool recheckFirst(Clock::time_point now);
  struct Rows {
    std::optional<CheckedRow> cached;
    std::optional<CheckedRow> stored;
  };
  // The suspect's row in the cache, then in the database. On failure moves the suspect back into
  // due_, for a retry after kRetryAfterError, and rethrows.
  Rows readRowsOrRetryLater(Suspect& suspect);
  // Makes the first suspects of each table (kFreshLooks) due at `now` for a fresh first look,
  // and forgets the others, which the pass finds again.
  void lookAgainAtFirstSuspects(Clock::time_point now);
  // A first look again at a suspect seen before a pause or a reload: forgotten when the cache now
  // equals the database, else seen differing from now on (its first look and repair refusals
  // start again; its moving looks stay) and due a bound later.
  void lookAfresh(Suspect suspect);
  // Makes `key` no suspect of `table` any more.
  void forget(Table& table, const std::string& key);
  // The second look: done, looked at again later, or counted, logged and repaired.
  void judge(Suspect suspect);
  void reportInconsistent(Table& table, const Suspect& suspect,
                          const std::optional<CheckedRow>& cached_now,
                          const std::optional<CheckedRow>& stored_now, bool repaired,
                          const std::string& outcome);
  // The rows per second to keep to now. Requires worker_.mutex().
  double paceLocked() const;
  void noteError(const std::exception& error);

  const ConsistencySettings initial_;
  MetricsRegistry& metrics_;
  Poco::Logger& logger_;
  std::vector<std::unique_ptr<Table>> tables_;
  PauseReason paused_;
  ReloadCount reloads_;
  BackgroundWorker worker_;
  // Under worker_.mutex():
  double rows_per_second_;
  std::chrono::seconds full_pass_;
  std::string pause_reason_;
  uint64_t adjustments_ = 0;  // adjust() calls, so that the loop's wait ends at a new pace
  // Only on the observer's thread:
  size_t current_ = 0;
  std::multimap<Clock::time_point, Suspect> due_;
  Clock::time_point last_error_log_{};
  Counter* errors_ = nullptr;
};

}  // namespace busbar::host
