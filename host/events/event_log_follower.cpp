#include "events/event_log_follower.h"

#include <algorithm>

namespace busbar::host {

using Clock = std::chrono::steady_clock;

namespace {

// How often a catch-up that waits for the deliveries looks at their progress, a stop and a resync.
constexpr std::chrono::milliseconds kPaceCheck{100};

}  // namespace

EventLogFollower::EventLogFollower(EventLogStorage2* log, EventSequencer* sequencer,
                                   LogIdentity* identity, Reload reload, FollowerOptions options,
                                   Poco::Logger& logger)
    : log_(log),
      sequencer_(sequencer),
      identity_(identity),
      reload_(std::move(reload)),
      options_(options),
      logger_(logger) {}

EventLogFollower::~EventLogFollower() { stop(); }

LogPosition EventLogFollower::reloadAt(const Reload& reload) {
  // Read before the reload: every event up to it committed before the reload's reads began.
  LogHead head = log_->head();
  LogPosition position{head.seq, head.seq > 0 ? log_->eventIdAt(head.seq).value_or("") : ""};
  reloadNoting(reload);
  identity_->set(head.log_id);
  std::lock_guard<std::mutex> lock(worker_.mutex());
  // The subscribers hold the database as it is now, the position becomes this head: nothing to
  // recover.
  freshness_ = Freshness{Clock::now(), std::nullopt};
  return position;
}

void EventLogFollower::reloadNoting(const Reload& reload) {
  // Read before: a table made again while the reload reads is then seen on the next pass.
  auto tables = log_->tableIdentities();
  reload();
  // A table made again since the last reload may still be filling (a restore makes a table, then
  // inserts its rows): once more on the next pass, whatever asked for this reload.
  reload_once_more_ = !tables_at_reload_.empty() && tables != tables_at_reload_;
  tables_at_reload_ = std::move(tables);
}

std::string EventLogFollower::tablesReplaced() {
  if (reload_once_more_) {
    return "tables were made again a moment ago (a restore?) and may have been filled since";
  }
  const auto now = log_->tableIdentities();
  std::string names;
  for (const auto& [name, made] : now) {
    auto before = tables_at_reload_.find(name);
    if (before != tables_at_reload_.end() && before->second == made) continue;
    names += (names.empty() ? "" : ", ") + name;
  }
  for (const auto& [name, made] : tables_at_reload_) {
    if (now.count(name) == 0) names += (names.empty() ? "" : ", ") + name + " (dropped)";
  }
  if (names.empty()) return "";
  return "tables were made again since the last reload (a restore?): " + names;
}

void EventLogFollower::preload(const Reload& preload) {
  if (log_ == nullptr) {
    preload();
    return;
  }
  sequencer_->resynchronize([&] { return reloadAt(preload); });
}

void EventLogFollower::start() {
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    catch_up_wanted_ = log_ != nullptr;
    catch_up_due_ = Clock::now();
  }
  worker_.start("bb-follower", [this] { run(); });
}

void EventLogFollower::stop() noexcept { worker_.stop(); }

void EventLogFollower::requestCatchUp() {
  if (log_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    auto due = Clock::now() + options_.gap_grace;
    if (catch_up_wanted_) {
      catch_up_due_ = std::min(catch_up_due_, due);
    } else {
      catch_up_wanted_ = true;
      catch_up_due_ = due;
    }
  }
  worker_.wake();
}

void EventLogFollower::requestResync(const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    if (resync_reason_.empty()) resync_reason_ = why;
  }
  worker_.wake();
}

EventLogFollower::Freshness EventLogFollower::freshness() {
  std::lock_guard<std::mutex> lock(worker_.mutex());
  // The sequencer's mutex after the worker's, never the other way round (it calls out of neither).
  if (freshness_.recovering_to && sequencer_->applied().seq >= *freshness_.recovering_to) {
    freshness_.recovering_to.reset();
  }
  return freshness_;
}

EventLogFollower::Figures EventLogFollower::figures() const {
  std::lock_guard<std::mutex> lock(worker_.mutex());
  Figures figures = figures_;
  figures.resync_wanted = resync_reason_;
  return figures;
}

void EventLogFollower::run() {
  auto retry = options_.retry_initial;
  auto next_periodic = Clock::now();  // the first pass is a whole one
  std::unique_lock<std::mutex> lock(worker_.mutex());
  while (!worker_.stopping()) {
    auto due = log_ != nullptr ? next_periodic : Clock::time_point::max();
    if (catch_up_wanted_) due = std::min(due, catch_up_due_);
    if (resync_reason_.empty() && Clock::now() < due) {
      // A request wakes it: a resync, or a catch-up due before `due`.
      worker_.waitUntil(lock, due, [this, due] {
        return !resync_reason_.empty() || (catch_up_wanted_ && catch_up_due_ < due);
      });
      continue;
    }
    catch_up_wanted_ = false;
    // Only a gap to fill, or the whole pass (periodic, a resync, a retry)?
    const bool whole = !resync_reason_.empty() || log_ == nullptr ||
                       retry != options_.retry_initial || Clock::now() >= next_periodic;
    lock.unlock();
    std::string error;
    try {
      if (whole) {
        pass();
      } else {
        fillGap();
      }
    } catch (const std::exception& failure) {
      error = failure.what();
    }
    lock.lock();
    if (error.empty()) {
      retry = options_.retry_initial;
      if (whole) next_periodic = Clock::now() + options_.interval;
      figures_.last_error.clear();
      continue;
    }
    ++figures_.failures;
    figures_.last_error = error;
    const bool resyncing = !resync_reason_.empty();
    logger_.warning(std::string(resyncing ? "resynchronizing" : "catching up with the event log") +
                    " failed (" + error + "); trying again in " + std::to_string(retry.count()) +
                    " ms");
    // Retry no later than the backoff says, whatever else is due.
    catch_up_wanted_ = log_ != nullptr;
    catch_up_due_ = Clock::now() + retry;
    next_periodic = std::max(next_periodic, catch_up_due_);
    // Never longer than the interval: a failure must not make the log read less often.
    retry = std::min({options_.retry_cap, options_.interval, retry * 2});
  }
}

void EventLogFollower::pass() {
  std::string why;
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    why = resync_reason_;
  }
  if (why.empty() && log_ != nullptr) why = tablesReplaced();
  if (!why.empty()) {
    refresh(why);
    std::lock_guard<std::mutex> lock(worker_.mutex());
    resync_reason_.clear();
  }
  if (log_ != nullptr) catchUp();
}

void EventLogFollower::refresh(const std::string& why) {
  Poco::Timestamp started;
  if (log_ == nullptr) {
    reload_();
  } else {
    // The state is reloaded, the position kept: the events after it are still delivered, and
    // change nothing the reload already holds.
    sequencer_->resynchronize([&] {
      LogPosition kept = sequencer_->applied();
      reloadNoting(reload_);
      return kept;
    });
  }
  finishResync(why, started);
}

void EventLogFollower::restart(const std::string& why) {
  Poco::Timestamp started;
  sequencer_->resynchronize([&] { return reloadAt(reload_); });
  // A log that went back or changed is usually a restore, whose module tables may still be
  // filling, in the same second as their creation (which MariaDB's identity cannot tell apart).
  reload_once_more_ = true;
  finishResync(why, started);
}

void EventLogFollower::finishResync(const std::string& why, const Poco::Timestamp& started) {
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    ++figures_.resyncs;
  }
  logger_.information("resynchronized (" + why + "): subscribers reloaded from the database in " +
                      std::to_string(started.elapsed() / 1000) + " ms" +
                      (log_ != nullptr
                           ? ", applied seq " + std::to_string(sequencer_->applied().seq)
                           : std::string()));
}

void EventLogFollower::fillGap() {
  // Usually the missing event arrived from the broker or a commit of this server meanwhile.
  auto gap = sequencer_->gap();
  if (!gap) return;
  // Everything after the gap as well, not the gap alone: when a server's events miss the broker
  // (its link is cut), every one of them leaves a gap of its own, and reading them one gap at a
  // time falls behind. What is waiting already is dropped as a duplicate.
  auto events = log_->readAfter2(gap->first - 1, options_.batch);
  for (auto& logged : events) {
    sequencer_->offer(logged.seq, std::move(logged.event), EventSource::kLog,
                      std::move(logged.request_id), std::move(logged.principal));
  }
  std::lock_guard<std::mutex> lock(worker_.mutex());
  figures_.read += events.size();
}

std::string EventLogFollower::checkHistory(const LogPosition& applied, const LogHead& head) {
  const std::string known = identity_->get();
  if (!known.empty() && head.log_id != known) {
    return "the event log changed identity (" + known + " -> " + head.log_id +
           "): another database";
  }
  if (head.seq < applied.seq) {
    return "the event log went back from seq " + std::to_string(applied.seq) + " to " +
           std::to_string(head.seq) + " (a database restored from a dump?)";
  }
  if (applied.seq > 0 && !applied.event_id.empty()) {
    auto id = log_->eventIdAt(applied.seq);
    if (id && *id != applied.event_id) {
      return "the event log holds another event at seq " + std::to_string(applied.seq) +
             " than the one applied (a database restored from a dump?)";
    }
  }
  return "";
}

void EventLogFollower::catchUp() {
  // Applied first: events delivered meanwhile are committed, so the head read after it is at
  // least as far (read the other way round, a delivery in between looks like a log gone back).
  LogPosition applied = sequencer_->applied();
  const auto read_at = Clock::now();
  LogHead head = log_->head();
  if (std::string why = checkHistory(applied, head); !why.empty()) {
    restart(why);
    head = log_->head();
    applied = sequencer_->applied();
  }
  uint64_t offered = 0;
  // A stop ends a long catch-up between two batches.
  auto stopping = [this] {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    return worker_.stopping();
  };
  {
    // Back after longer than stale_after without a catch-up (a pause): recovering until the
    // sequencer takes this head. Decided before the reads, which wait for the subscribers.
    std::lock_guard<std::mutex> lock(worker_.mutex());
    const auto& last = freshness_.caught_up_at;
    if (last && read_at - *last > options_.stale_after) {
      freshness_.recovering_to = std::max(freshness_.recovering_to.value_or(0), head.seq);
    }
  }
  // A backlog is read at the pace it is applied: no more than a batch ahead of the deliveries,
  // so that it waits in the log, not in memory. A resync wanted meanwhile ends the pass.
  auto paced = [&](uint64_t after) {
    if (after <= options_.batch) return true;
    uint64_t seen = sequencer_->applied().seq;
    for (;;) {
      const bool reached = sequencer_->waitForProgress(after - options_.batch, kPaceCheck);
      const uint64_t taken = sequencer_->applied().seq;
      std::lock_guard<std::mutex> lock(worker_.mutex());
      // The subscribers go on taking events: this server applies slowly, it is not stale.
      if (taken > seen) freshness_.caught_up_at = Clock::now();
      if (reached) return true;
      if (worker_.stopping() || !resync_reason_.empty()) return false;
      seen = taken;
    }
  };
  for (uint64_t after = applied.seq; after < head.seq && !stopping() && paced(after);) {
    auto events = log_->readAfter2(after, options_.batch);
    if (events.empty()) break;
    if (events.front().seq != after + 1) {
      restart("the event log was pruned past this server's position (seq " + std::to_string(after) +
              ", oldest kept " + std::to_string(events.front().seq) + ")");
      head = log_->head();
      after = sequencer_->applied().seq;
      continue;
    }
    after = events.back().seq;
    for (auto& logged : events) {
      sequencer_->offer(logged.seq, std::move(logged.event), EventSource::kLog,
                        std::move(logged.request_id), std::move(logged.principal));
      ++offered;
    }
    if (events.size() < options_.batch) break;
  }
  std::lock_guard<std::mutex> lock(worker_.mutex());
  figures_.head_seq = head.seq;
  figures_.read += offered;
  ++figures_.catch_ups;
  figures_.last_catch_up = Poco::Timestamp();
  const auto& last = freshness_.caught_up_at;
  freshness_.caught_up_at = std::max(last.value_or(read_at), read_at);
}

}  // namespace busbar::host
