// RelayLease: which one of the servers sharing a database relays the event log.
//
// The lease is the log storage's RelayLeaseState: the holder's server_id and a heartbeat that the
// holder moves on every hold(). A server takes the lease when the row names nobody, or
// when it has watched the same holder and heartbeat for longer than `timeout` on its own clock
// (the holder died or lost the database): a compare-and-set on (holder, beat), so two servers
// never both win, and no server's clock is compared with another's. A dead server's work is
// thereby taken over within `timeout` plus one hold() period.
//
// Not thread-safe: one thread (the relay's) calls it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "busbar/event_log_storage.h"

namespace busbar::host {

class RelayLease {
 public:
  using Clock = std::chrono::steady_clock;

  // `log` must outlive the lease.
  RelayLease(EventLogStorage& log, std::string server_id, std::chrono::milliseconds timeout)
      : log_(log), server_id_(std::move(server_id)), timeout_(timeout) {}

  // Renews the lease when this server holds it, else takes it when it is free or its holder has
  // been silent longer than the timeout. Returns true when this server holds it now. On a storage
  // failure throws (and holds nothing: the caller must stop relaying).
  bool hold(Clock::time_point now = Clock::now());

  // Gives the lease up if this server holds it, so that another server takes it at once. Never
  // throws; a failure only means the others wait for the timeout.
  void release() noexcept;

  // The holder named by the row at the last hold() ("" when none).
  const std::string& lastSeenHolder() const { return seen_holder_; }

  // The lease row as the last hold() left it when it returned true, what the relay's prune is
  // fenced by (EventLogStorage2::prune2); nothing after a hold() that did not, or a release().
  const std::optional<RelayLeaseState>& held() const { return held_; }

 private:
  EventLogStorage& log_;
  const std::string server_id_;
  const std::chrono::milliseconds timeout_;
  std::string seen_holder_;
  int64_t seen_beat_ = -1;
  Clock::time_point seen_since_{};
  std::optional<RelayLeaseState> held_;
};

}  // namespace busbar::host
