// Consistency: how a module's in-memory cache of a database table is checked against the
// database while the server runs. Since SDK 1.2.
//
// A module that serves reads from a cache implements CheckedCache and hands it to the host's
// ConsistencyObserver (PluginContext::consistency()) in init(). The observer walks every watched
// table a page at a time, at the rate [consistency] sets, and compares each page of the cache with
// the same keys read from the database. A row that differs is looked at again once the
// propagation bound has passed: if it still differs, and the database did not move meanwhile (or
// the cache is older than what the database held a bound ago), it is an inconsistency. It is
// counted (busbar_cache_inconsistencies_total{table}), logged with its key and both versions, and
// repaired through CheckedCache::repair(). A row whose newer version is still on its way is not
// an inconsistency. So changes no event announced (a row edited with SQL, a publisher that
// crashed before publishing) are found within one full pass.
//
// The observer never calls the cache's read path: a cached read costs what it cost before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "busbar/export.h"

namespace busbar {

// One row as the observer compares it, from the cache or from the database.
struct CheckedRow {
  std::string key;       // the primary key; pages are in byte order of it (memcmp)
  int64_t version = 0;   // the row's version, increasing with each change; 0 when it has none
  bool deleted = false;  // a tombstone the table keeps for a deleted row
  std::string content;   // the rest of what the cache serves, in any fixed encoding
};

inline bool operator==(const CheckedRow& a, const CheckedRow& b) {
  return a.key == b.key && a.version == b.version && a.deleted == b.deleted &&
         a.content == b.content;
}
inline bool operator!=(const CheckedRow& a, const CheckedRow& b) { return !(a == b); }

// A cache of one table, as the observer reads and repairs it. Implemented by modules.
//
// Thread-safety: the observer calls one method at a time from its own thread, while the module
// serves reads and applies events on others; each method must be safe against both. The
// database methods may block for a query; the cache methods must not wait for the database.
class BUSBAR_API CheckedCache {
 public:
  virtual ~CheckedCache() = default;

  // The table's name, which labels its metrics and log lines. Constant.
  virtual std::string table() const = 0;

  // Up to `limit` rows the cache holds with keys after `after` ("" = from the first), in byte
  // order of their keys, tombstones included.
  virtual std::vector<CheckedRow> cachedAfter(const std::string& after, size_t limit) = 0;

  // The same rows of the database. On failure throws StorageUnavailable or StorageError.
  virtual std::vector<CheckedRow> storedAfter(const std::string& after, size_t limit) = 0;

  // The cache's row for `key`, or nothing when it holds none.
  virtual std::optional<CheckedRow> cachedRow(const std::string& key) = 0;

  // The database's row for `key`, or nothing. On failure throws as storedAfter() does.
  virtual std::optional<CheckedRow> storedRow(const std::string& key) = 0;

  // Reads the database's row for `key` and puts it in the cache (removes the key when the
  // database has no row), only if the cache still holds `seen` (nothing: no row): a change applied
  // since the observer looked is never overwritten. Returns whether the cache changed. On failure
  // of the read throws as storedAfter() does and leaves the cache as it was.
  virtual bool repair(const std::string& key, const std::optional<CheckedRow>& seen) = 0;
};

// Where modules register their caches. Implemented by the host.
class BUSBAR_API ConsistencyObserver {
 public:
  virtual ~ConsistencyObserver() = default;

  // Checks `cache` from the start of the host until its stop, and makes its metrics series. Only
  // during init. Throws ConfigError when a cache of the same table() is watched already.
  virtual void watch(std::shared_ptr<CheckedCache> cache) = 0;
};

}  // namespace busbar
