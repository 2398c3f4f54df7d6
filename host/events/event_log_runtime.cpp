#include "events/event_log_runtime.h"

#include <algorithm>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>

#include "events/principal_free_event_log.h"
#include "ops/request_context.h"

namespace busbar::host {

EventLogRuntime::EventLogRuntime(const HostSettings& settings, std::shared_ptr<Connection> storage,
                                 std::shared_ptr<EventLogStorage2> log, HostEventBus& bus,
                                 HostInbound& inbound, InlineBus& inline_bus,
                                 Migrations& migrations, Poco::Logger& logger)
    : inline_bus_(inline_bus),
      logger_(logger),
      stale_after_(std::max<std::chrono::milliseconds>(3 * settings.event_log.catch_up_interval,
                                                       std::chrono::seconds(5))) {
  if (storage && log && settings.event_log.enabled) {
    log_ = std::move(log);
    for (auto& migration : log_->migrations()) {
      migrations.add(log_->migrationModule(), std::move(migration));
    }
    // A storage plugin of SDK 1.6 or later keeps principals in the log, and in the lot too.
    const bool keeps_principals = dynamic_cast<PrincipalFreeEventLog*>(log_.get()) == nullptr;
    for (auto& migration : ParkingLot::migrations(keeps_principals)) {
      migrations.add(ParkingLot::kMigrationModule, std::move(migration));
    }
    parking_lot_ =
        std::make_unique<ParkingLot>(*storage, settings.server_id, logger, keeps_principals);
    sequencer_ = std::make_unique<EventSequencer>(
        [&inbound](const Event& event, EventSource source) {
          inbound.deliverInOrder(event, source);
        },
        [this] { follower_->requestCatchUp(); }, SequencerOptions{}, logger,
        [this](const LoggedEvent2& logged, const std::string& error) {
          parking_lot_->park(logged, error);
        });
  }
  FollowerOptions follow;
  follow.interval = settings.event_log.catch_up_interval;
  follow.stale_after = stale_after_;
  follower_ = std::make_unique<EventLogFollower>(
      log_.get(), sequencer_.get(), &identity_,
      [&inline_bus] { inline_bus.fire(Lifecycle::kReconnected); }, follow, logger);
  if (log_) {
    RelayOptions relay;
    relay.delay = settings.event_log.relay_delay;
    relay.prune_interval = settings.event_log.prune_interval;
    relay.retention.events = settings.event_log.retention_events;
    relay.retention.seconds = settings.event_log.retention_seconds;
    relay_ = std::make_unique<EventRelay>(
        *log_, tracker_,
        [&bus](const LoggedEvent2& logged, PublishSettled settled) {
          bus.republish(logged, std::move(settled));
        },
        settings.server_id, relay, logger);
  }
  if (storage) {
    outbox_ = std::make_shared<OutboxConnection>(storage, log_.get(), bus, SettleOptions{}, logger);
  }
  bus.setEventLog(sequencer_.get(), log_ ? &tracker_ : nullptr, log_ ? &identity_ : nullptr);
  inbound.setEventLog(sequencer_.get(), log_ ? &identity_ : nullptr, follower_.get());
}

EventLogRuntime::~EventLogRuntime() { stop(); }

void EventLogRuntime::preload() {
  follower_->preload([this] { inline_bus_.fire(Lifecycle::kPreload); });
  if (log_) {
    logger_.information("event log: subscribers loaded at seq " +
                        std::to_string(sequencer_->applied().seq));
  }
}

void EventLogRuntime::start() {
  started_ = true;
  if (parking_lot_) parking_lot_->load();
  if (outbox_) outbox_->start();
  follower_->start();
  if (relay_) relay_->start();
}

void EventLogRuntime::stop() noexcept {
  // Committed events go out first; the transport is still open.
  if (outbox_) outbox_->stop();
  // A stopping server's subscribers take no more events (their state goes with the process, as
  // with the events still on the broker): the sequencer's thread ends after the event in hand,
  // before the follower it reports gaps to.
  if (sequencer_) sequencer_->close();
  follower_->stop();
  if (relay_) relay_->stop();
}

ParkingLot::ReplayOutcome EventLogRuntime::replayParked(const std::vector<std::string>& event_ids) {
  ParkingLot::ReplayOutcome outcome;
  if (!parking_lot_) return outcome;
  sequencer_->exclusive([&] {
    outcome = parking_lot_->replay(event_ids, [this](const LoggedEvent2& logged) {
      RequestScope scope(logged.request_id, logged.principal);
      inline_bus_.deliverLocally(logged.event);
    });
  });
  return outcome;
}

void EventLogRuntime::finish() noexcept {
  if (!log_ || !started_) return;
  parking_lot_->flush();
  try {
    tracker_.flush(*log_);
  } catch (const std::exception& error) {
    logger_.warning(std::string("event log: the last publication marks were not written (") +
                    error.what() + "); the relay may publish those events once more");
  }
}

uint64_t EventLogRuntime::resyncs() const { return follower_->figures().resyncs; }

EventLogRuntime::Snapshot EventLogRuntime::snapshot() const {
  Snapshot snapshot;
  snapshot.enabled = log_ != nullptr;
  auto followed = follower_->figures();
  snapshot.resyncs = followed.resyncs;
  snapshot.failures = followed.failures;
  if (log_) {
    auto counted = sequencer_->counters();
    snapshot.applied_seq = sequencer_->applied().seq;
    snapshot.head_seq = followed.head_seq;
    snapshot.waiting = counted.waiting;
    snapshot.gaps = counted.gaps;
    snapshot.caught_up = counted.from_log;
    snapshot.duplicates = counted.duplicates;
    snapshot.set_aside = counted.set_aside;
    snapshot.parked = parking_lot_->size();
    snapshot.catch_ups = followed.catch_ups;
    snapshot.last_catch_up = followed.last_catch_up;
  }
  if (relay_) {
    auto relayed = relay_->figures();
    snapshot.relay = true;
    snapshot.holds_lease = relayed.holds_lease;
    snapshot.backlog = relayed.backlog;
    snapshot.republished = relayed.republished;
    snapshot.pruned = relayed.pruned;
    snapshot.marks_waiting = tracker_.waiting();
  }
  return snapshot;
}

std::string EventLogRuntime::staleness() const {
  auto followed = follower_->figures();
  if (!followed.resync_wanted.empty()) {
    return "a resynchronization has not succeeded yet (" + followed.resync_wanted + ")" +
           (followed.last_error.empty() ? "" : ": " + followed.last_error);
  }
  if (!log_) return "";
  const auto fresh = follower_->freshness();
  if (!fresh.caught_up_at) return "the caches have not been loaded yet";
  const auto since_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - *fresh.caught_up_at)
                            .count();
  if (since_ms > stale_after_.count()) {
    return "no catch-up with the event log has succeeded for " + std::to_string(since_ms) +
           " ms (more than " + std::to_string(stale_after_.count()) + " ms)" +
           (followed.last_error.empty() ? "" : ": " + followed.last_error);
  }
  if (fresh.recovering_to) {
    return "the subscribers apply what this server missed while no catch-up succeeded: seq " +
           std::to_string(sequencer_->applied().seq) + " of " +
           std::to_string(*fresh.recovering_to) + ", the log's head when catch-ups resumed";
  }
  return "";
}

Poco::JSON::Object::Ptr EventLogRuntime::figures() const {
  Poco::JSON::Object::Ptr json = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  json->set("enabled", log_ != nullptr);
  auto followed = follower_->figures();
  if (log_) {
    auto counted = sequencer_->counters();
    json->set("applied_seq", sequencer_->applied().seq);
    json->set("head_seq", followed.head_seq);
    json->set("waiting", counted.waiting);
    json->set("gaps_found", counted.gaps);
    json->set("caught_up", counted.from_log);
    json->set("duplicates_dropped", counted.duplicates);
    json->set("set_aside", counted.set_aside);
    json->set("parked", static_cast<uint64_t>(parking_lot_->size()));
    json->set("catch_ups", followed.catch_ups);
    json->set("last_catch_up",
              followed.last_catch_up
                  ? Poco::Dynamic::Var(Poco::DateTimeFormatter::format(
                        *followed.last_catch_up, Poco::DateTimeFormat::ISO8601_FRAC_FORMAT))
                  : Poco::Dynamic::Var());
  }
  json->set("resyncs", followed.resyncs);
  json->set("failures", followed.failures);
  json->set("last_error", followed.last_error.empty() ? Poco::Dynamic::Var()
                                                      : Poco::Dynamic::Var(followed.last_error));
  if (relay_) {
    auto relayed = relay_->figures();
    Poco::JSON::Object::Ptr relay = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    relay->set("holds_lease", relayed.holds_lease);
    relay->set("lease_holder", relayed.holder);
    relay->set("backlog", relayed.backlog);
    relay->set("republished", relayed.republished);
    relay->set("pruned", relayed.pruned);
    relay->set("marks_waiting", tracker_.waiting());
    relay->set("last_error", relayed.last_error.empty() ? Poco::Dynamic::Var()
                                                        : Poco::Dynamic::Var(relayed.last_error));
    json->set("relay", relay);
  }
  return json;
}

}  // namespace busbar::host
