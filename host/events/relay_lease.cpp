#include "events/relay_lease.h"

#include "busbar/errors.h"

namespace busbar::host {

bool RelayLease::compareAndSet(const std::string& holder, const std::string& expected_holder,
                               int64_t expected_beat) {
  return storage_
             .execute(
                 "UPDATE busbar_event_relay SET holder = ?, beat = beat + 1"
                 " WHERE id = 1 AND holder = ? AND beat = ?",
                 {holder, expected_holder, expected_beat})
             .affected == 1;
}

bool RelayLease::hold(Clock::time_point now) {
  auto row = storage_.findOne("busbar_event_relay", {{"id", int64_t{1}}});
  if (!row) throw StorageError("the event log has no relay row; was its migration applied?");
  const std::string holder = asText(row->at("holder"));
  const int64_t beat = asInt(row->at("beat"));
  if (holder != seen_holder_ || beat != seen_beat_) {
    seen_holder_ = holder;
    seen_beat_ = beat;
    seen_since_ = now;
  }
  if (holder == server_id_ || holder.empty()) {
    if (!compareAndSet(server_id_, holder, beat)) return false;  // another server moved first
    seen_holder_ = server_id_;
    seen_beat_ = beat + 1;
    seen_since_ = now;
    return true;
  }
  if (now - seen_since_ < timeout_) return false;
  if (!compareAndSet(server_id_, holder, beat)) return false;
  seen_holder_ = server_id_;
  seen_beat_ = beat + 1;
  seen_since_ = now;
  return true;
}

void RelayLease::release() noexcept {
  try {
    storage_.execute(
        "UPDATE busbar_event_relay SET holder = ?, beat = beat + 1"
        " WHERE id = 1 AND holder = ?",
        {std::string(), server_id_});
  } catch (...) {
    // The others take over after the timeout instead.
  }
}

}  // namespace busbar::host
