#include "events/parking_lot.h"

#include <algorithm>

#include <Poco/Timestamp.h>

#include "busbar/errors.h"
#include "busbar/logged_event_row.h"

namespace busbar::host {
namespace {

constexpr const char* kParked = "busbar_parked_events";

std::vector<ParkingLot::Parked> bySeq(const std::map<std::string, ParkingLot::Parked>& parked) {
  std::vector<ParkingLot::Parked> list;
  list.reserve(parked.size());
  for (const auto& [id, entry] : parked) list.push_back(entry);
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    return a.logged.seq != b.logged.seq ? a.logged.seq < b.logged.seq
                                        : a.logged.event.id < b.logged.event.id;
  });
  return list;
}

}  // namespace

ParkingLot::ParkingLot(Connection& storage, std::string server_id, Poco::Logger& logger,
                       bool keeps_principals)
    : storage_(storage),
      server_id_(std::move(server_id)),
      logger_(logger),
      keeps_principals_(keeps_principals) {}

std::vector<Migration> ParkingLot::migrations(bool keeps_principals) {
  if (!keeps_principals) return {tableMigration()};
  Migration principal;
  principal.number = 2;
  principal.description = "busbar_parked_events.principal: who caused a parked event (SDK 1.6)";
  principal.apply = [](Connection& connection) {
    // ADD without COLUMN: the form SQLite, MariaDB, PostgreSQL, SQL Server and Oracle all take.
    connection.execute(std::string("ALTER TABLE ") + kParked + " ADD principal VARCHAR(255)");
  };
  return {tableMigration(), principal};
}

Migration ParkingLot::tableMigration() {
  Migration migration;
  migration.number = 1;
  migration.description =
      "busbar_parked_events: events a server's subscribers failed on, until an operator replays "
      "or drops them";
  migration.apply = [](Connection& connection) {
    TableSchema parked;
    parked.name = kParked;
    parked.columns = {{"server_id", ColumnType::kText, 255, false},
                      {"event_id", ColumnType::kText, 36, false},
                      {"seq", ColumnType::kInteger, 0, false},
                      {"event_type", ColumnType::kText, 128, false},
                      {"occurred_on", ColumnType::kInteger, 0, false},
                      {"origin", ColumnType::kText, 255, false},
                      {"version", ColumnType::kInteger, 0, false},
                      {"payload", ColumnType::kText, 0, false},
                      {"request_id", ColumnType::kText, 64, true},
                      {"error", ColumnType::kText, 0, false},
                      {"parked_at", ColumnType::kInteger, 0, false},
                      {"replays", ColumnType::kInteger, 0, false}};
    parked.primary_key = {"server_id", "event_id"};
    connection.createTable(parked);
  };
  return migration;
}

void ParkingLot::load() {
  std::lock_guard<std::mutex> lock(mutex_);
  loadLocked();
}

void ParkingLot::loadLocked() {
  if (loaded_) return;
  try {
    for (const Row& row : storage_.findAll(kParked, {{"server_id", server_id_}})) {
      Parked entry;
      entry.logged = event_row::fromRow2(row);
      entry.error = asText(row.at("error"));
      entry.parked_at = asInt(row.at("parked_at"));
      entry.replays = asInt(row.at("replays"));
      // Parked again since (or left the lot) before the rows could be read: memory is newer.
      if (removed_.count(entry.logged.event.id) == 0) {
        parked_.emplace(entry.logged.event.id, std::move(entry));
      }
    }
    loaded_ = true;
    if (!parked_.empty()) {
      logger_.warning(std::to_string(parked_.size()) +
                      " events are parked from before this start; GET /admin/events/parked "
                      "lists them, POST /admin/events/parked/replay delivers them again");
    }
  } catch (const std::exception& error) {
    logger_.warning(std::string("the parked events could not be read (") + error.what() +
                    "); trying again at the next look");
  }
}

void ParkingLot::park(const LoggedEvent2& logged, const std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  Parked& entry = parked_[logged.event.id];
  entry.logged = logged;
  entry.error = error;
  entry.parked_at = Poco::Timestamp().epochMicroseconds();
  unsaved_.insert(logged.event.id);
  removed_.erase(logged.event.id);
  flushLocked();
}

std::vector<ParkingLot::Parked> ParkingLot::list() {
  std::lock_guard<std::mutex> lock(mutex_);
  flushLocked();
  return bySeq(parked_);
}

std::optional<ParkingLot::Parked> ParkingLot::find(const std::string& event_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  flushLocked();
  auto found = parked_.find(event_id);
  if (found == parked_.end()) return std::nullopt;
  return found->second;
}

ParkingLot::ReplayOutcome ParkingLot::replay(const std::vector<std::string>& event_ids,
                                             const Redeliver& redeliver) {
  std::lock_guard<std::mutex> one_at_a_time(replaying_);
  std::vector<Parked> chosen;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    flushLocked();
    for (auto& entry : bySeq(parked_)) {
      if (event_ids.empty() ||
          std::find(event_ids.begin(), event_ids.end(), entry.logged.event.id) != event_ids.end()) {
        chosen.push_back(std::move(entry));
      }
    }
  }
  ReplayOutcome outcome;
  for (size_t i = 0; i < chosen.size(); ++i) {
    Parked& entry = chosen[i];
    const std::string& id = entry.logged.event.id;
    std::string error;
    bool database_away = false;
    try {
      redeliver(entry.logged);
    } catch (const StorageUnavailable& failure) {
      error = failure.what();
      database_away = true;
    } catch (const std::exception& failure) {
      error = failure.what();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (error.empty()) {
      outcome.delivered.push_back(id);
      parked_.erase(id);
      unsaved_.erase(id);
      removed_.insert(id);
      logger_.information("parked event " + std::to_string(entry.logged.seq) + " (" +
                          entry.logged.event.type + " " + id + ") delivered on replay");
      continue;
    }
    auto found = parked_.find(id);
    if (found != parked_.end()) {
      found->second.error = error;
      ++found->second.replays;
      unsaved_.insert(id);
      outcome.still_parked.push_back(found->second);
    }
    if (database_away) {
      // The rest would fail the same way: they stay as they are.
      for (size_t rest = i + 1; rest < chosen.size(); ++rest) {
        outcome.still_parked.push_back(chosen[rest]);
      }
      break;
    }
  }
  flush();
  return outcome;
}

bool ParkingLot::drop(const std::string& event_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  flushLocked();
  if (parked_.erase(event_id) == 0) return false;
  unsaved_.erase(event_id);
  removed_.insert(event_id);
  logger_.warning("parked event " + event_id + " dropped by an operator; it is not delivered");
  flushLocked();
  return true;
}

size_t ParkingLot::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return parked_.size();
}

size_t ParkingLot::unsaved() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return unsaved_.size();
}

void ParkingLot::flush() {
  std::lock_guard<std::mutex> lock(mutex_);
  flushLocked();
}

void ParkingLot::flushLocked() {
  loadLocked();
  try {
    while (!unsaved_.empty()) {
      const Parked& entry = parked_.at(*unsaved_.begin());
      const LoggedEvent2& logged = entry.logged;
      Row row = keeps_principals_
                    ? event_row::toRow2(logged)
                    : event_row::toRow(LoggedEvent{logged.seq, logged.event, logged.request_id});
      row["server_id"] = server_id_;
      row["error"] = entry.error;
      row["parked_at"] = entry.parked_at;
      row["replays"] = entry.replays;
      storage_.upsert(kParked, row, {"server_id", "event_id"});
      unsaved_.erase(unsaved_.begin());
    }
    while (!removed_.empty()) {
      storage_.remove(kParked, {{"server_id", server_id_}, {"event_id", *removed_.begin()}});
      removed_.erase(removed_.begin());
    }
    if (failing_) logger_.information("the parked events are written to " + std::string(kParked));
    failing_ = false;
  } catch (const std::exception& error) {
    if (!failing_) {
      logger_.warning(std::string("parked events could not be written to ") + kParked + " (" +
                      error.what() + "); they are kept here and written at the next look");
    }
    failing_ = true;
  }
}

}  // namespace busbar::host
