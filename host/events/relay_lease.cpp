#include "events/relay_lease.h"

namespace busbar::host {

bool RelayLease::hold(Clock::time_point now) {
  held_.reset();
  const RelayLeaseState seen = log_.relayLease();
  if (seen.holder != seen_holder_ || seen.beat != seen_beat_) {
    seen_holder_ = seen.holder;
    seen_beat_ = seen.beat;
    seen_since_ = now;
  }
  const bool free = seen.holder == server_id_ || seen.holder.empty();
  if (!free && now - seen_since_ < timeout_) return false;
  if (!log_.moveRelayLease(server_id_, seen)) return false;  // another server moved first
  seen_holder_ = server_id_;
  seen_beat_ = seen.beat + 1;
  seen_since_ = now;
  held_ = RelayLeaseState{seen_holder_, seen_beat_};
  return true;
}

void RelayLease::release() noexcept {
  held_.reset();
  try {
    log_.releaseRelayLease(server_id_);
  } catch (...) {
    // The others take over after the timeout instead.
  }
}

}  // namespace busbar::host
