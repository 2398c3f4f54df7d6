// ParkingLot: the logged events this server's subscribers failed on for good, kept until an
// operator replays or drops them (the admin listener's /admin/events/parked routes).
//
// The sequencer parks an event whose delivery kept failing (HostInbound::deliverInOrder's
// retries, or 30 s of an unavailable database), and the next events flow. A parked event is kept
// in memory and in busbar_parked_events: one row per server and event, with a copy of the event,
// so that pruning the log loses nothing. The row is written as soon as the database answers: at
// once, or else at the next call of any method here (the database is often what failed). A server
// that starts loads what it parked before, by server_id.
//
// replay() hands parked events again, oldest seq first, to every subscriber of their type; a
// subscriber that took the event before sees it again, which it must take as a duplicate (by
// version or by event id, as every busbar subscriber does: docs/plugins.md). Those delivered
// leave the lot; the others stay with their new error.
//
// Thread-safe; one replay runs at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <Poco/Logger.h>

#include "busbar/migrations.h"
#include "busbar/storage.h"
#include "events/event_log.h"

namespace busbar::host {

class ParkingLot {
 public:
  struct Parked {
    LoggedEvent2 logged;
    std::string error;      // why its last delivery failed
    int64_t parked_at = 0;  // when it was last parked, us since the epoch (this server's clock)
    int64_t replays = 0;    // replays that failed
  };

  // What a replay did: the ids delivered (and gone from the lot), and those still parked, with
  // their errors. A replay stops at the first event whose database is unavailable.
  struct ReplayOutcome {
    std::vector<std::string> delivered;
    std::vector<Parked> still_parked;
  };

  // Delivers an event again to every subscriber of its type; throws when one failed.
  using Redeliver = std::function<void(const LoggedEvent2&)>;

  // `storage` is the storage plugin's Connection; it must outlive the lot.
  // `keeps_principals`: the table has the principal column (migrations(true)).
  ParkingLot(Connection& storage, std::string server_id, Poco::Logger& logger,
             bool keeps_principals = true);

  // The table, then, with `keeps_principals`, its principal column (SDK 1.6), for the Migrator
  // under kMigrationModule. The column is added by raw SQL, which only a storage plugin of SDK
  // 1.6 or later is asked to run (one whose event log keeps principals: the host speaks no SQL
  // to older ones). The first was the event log's migration 4 before SDK 1.3; on such a
  // database it finds its table there and changes nothing.
  static constexpr const char* kMigrationModule = "busbar_parking_lot";
  static std::vector<Migration> migrations(bool keeps_principals = true);

  // Reads what this server parked before it started. On failure logs and tries again at the next
  // call.
  void load();

  // Parks `logged`, whose delivery failed with `error` (again, if it was parked already).
  void park(const LoggedEvent2& logged, const std::string& error);

  // Every parked event, oldest seq first.
  std::vector<Parked> list();

  // The parked event `event_id`, if it is parked.
  std::optional<Parked> find(const std::string& event_id);

  // Delivers again through `redeliver` the parked events `event_ids` (all of them when empty;
  // ids not parked are skipped), oldest seq first.
  ReplayOutcome replay(const std::vector<std::string>& event_ids, const Redeliver& redeliver);

  // Removes `event_id` from the lot without delivering it. Returns false when it was not parked.
  bool drop(const std::string& event_id);

  // How many are parked now, and how many of them the database does not hold yet.
  size_t size() const;
  size_t unsaved() const;

  // Writes to busbar_parked_events what it does not hold yet. On failure logs and keeps it for
  // the next call; never throws.
  void flush();

 private:
  static Migration tableMigration();
  void loadLocked();
  void flushLocked();

  Connection& storage_;
  const std::string server_id_;
  Poco::Logger& logger_;
  const bool keeps_principals_;

  std::mutex replaying_;  // one replay at a time; taken before mutex_
  mutable std::mutex mutex_;
  std::map<std::string, Parked> parked_;  // by event id
  std::set<std::string> unsaved_;         // parked, not written yet
  std::set<std::string> removed_;         // left the lot, rows not deleted yet
  bool loaded_ = false;
  bool failing_ = false;  // the last write failed (logged once until one succeeds)
};

}  // namespace busbar::host
