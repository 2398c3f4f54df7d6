// PublicationTracker: what became of the logged events this server published, written back to the
// event log in batches (busbar_events.published): confirmed by a broker, or given up by the
// transport (its queue was full, it stopped), so that the relay publishes those at once and
// leaves alone what a publisher still holds.
//
// An event routed to several exchanges counts as published when every one confirmed it. The
// marks wait in memory until flush(); a crash loses them, which only makes the relay publish
// those events once more, later (consumers drop what they already applied). Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "busbar/transport.h"
#include "events/event_log.h"

namespace busbar::host {

class PublicationTracker {
 public:
  // The callback for each of the `exchanges` publications of the event `event_id`: when all of them
  // reported a confirm, the event is marked confirmed; one given up marks it given up. `then`, when
  // set, learns the outcome once: true after every confirm, false at the first publication given
  // up.
  PublishSettled settledFor(const std::string& event_id, size_t exchanges,
                            PublishSettled then = {});

  // Marks the event `event_id` as published (a transport without confirmations took it, or it is
  // routed nowhere).
  void published(const std::string& event_id);

  // Marks the event `event_id` as given up by the transport: the relay's now.
  void givenUp(const std::string& event_id);

  // Writes the marks collected so far. On failure keeps them for the next flush and throws.
  void flush(EventLogStorage& log);

  // Marks waiting for flush().
  size_t waiting() const;

 private:
  mutable std::mutex mutex_;
  struct Mark {
    std::string event_id;
    EventLogStorage::Publication state;
  };
  std::vector<Mark> marks_;
};

}  // namespace busbar::host
