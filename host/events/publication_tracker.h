// PublicationTracker: which logged events a broker has confirmed, written back to the event log
// in batches (busbar_events.published = 1) so that the relay publishes again only what no broker
// took.
//
// An event routed to several exchanges counts as published when every one confirmed it. The
// marks wait in memory until flush(); a crash loses them, which only makes the relay publish
// those events once more (consumers drop what they already applied). Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "busbar/transport.h"
#include "events/event_log.h"

namespace busbar::host {

class PublicationTracker {
 public:
  // The callback for each of the `exchanges` publications of `event`: when all of
  // them reported a confirm, the event is marked. A publication that was given up marks nothing.
  // `then`, when set, learns the outcome once: true after every confirm, false at the first
  // publication given up.
  PublishSettled settledFor(const LogPosition& event, size_t exchanges, PublishSettled then = {});

  // Marks `event` as published (a transport without confirmations took it, or it is routed
  // nowhere).
  void published(const LogPosition& event);

  // Writes the marks collected so far. On failure keeps them for the next flush and throws.
  void flush(EventLog& log);

  // Marks waiting for flush().
  size_t waiting() const;

 private:
  mutable std::mutex mutex_;
  std::vector<LogPosition> marks_;
};

}  // namespace busbar::host
