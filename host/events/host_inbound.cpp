#include "events/host_inbound.h"

#include <thread>

#include "busbar/errors.h"

namespace busbar::host {

HostInbound::HostInbound(std::string server_id, bool async_pass_through, InlineBus& inline_bus)
    : server_id_(std::move(server_id)),
      async_pass_through_(async_pass_through),
      inline_bus_(inline_bus) {}

void HostInbound::deliver(const Event& event) {
  inline_bus_.waitUntilOpen();
  if (async_pass_through_ && event.origin == server_id_) return;
  inline_bus_.deliverLocally(event);
  recordLag(event);
}

void HostInbound::deliverSequenced(const Event& event, const EventLogSeq& at) {
  if (sequencer_ == nullptr) {
    deliver(event);
    return;
  }
  // Unknown until the preload read the head; what waits meanwhile is read again from the log.
  const std::string own = identity_->get();
  if (!own.empty() && at.log_id != own) {
    if (!foreign_log_told_.exchange(true)) {
      Poco::Logger::get("busbar.event_log")
          .warning("event " + event.id + " comes from the event log " + at.log_id +
                   ", not this server's (" + own +
                   "): servers sharing an exchange should share a database; applied by version");
    }
    deliver(event);
    return;
  }
  sequencer_->offer(at.seq, event, EventSource::kTransport);
}

void HostInbound::deliverInOrder(const Event& event, EventSource source) {
  InlineBus::Delivery delivery(inline_bus_, event);
  auto pause = retry_initial_;
  const auto started = std::chrono::steady_clock::now();
  for (int attempt = 1;; ++attempt) {
    try {
      delivery.run();
      break;
    } catch (const StorageUnavailable& error) {
      // The database is away: the subscriber will succeed once it is back, so it keeps
      // waiting for it (in order: later events wait too) up to the outage budget.
      if (std::chrono::steady_clock::now() - started > storage_outage_budget_) throw;
      if (attempt == 1 || attempt % 10 == 0) {
        Poco::Logger::get("busbar.event_log")
            .warning("a subscriber of " + event.type + " " + event.id +
                     " waits for the database (attempt " + std::to_string(attempt) +
                     "): " + error.what());
      }
    } catch (const std::exception& error) {
      if (attempt > retries_) throw;
      Poco::Logger::get("busbar.event_log")
          .warning("a subscriber failed on " + event.type + " " + event.id + ", attempt " +
                   std::to_string(attempt) + " of " + std::to_string(retries_ + 1) +
                   "; trying it again (only the subscribers that failed): " + error.what());
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(1000));
  }
  // Events read from the log count as well: they are this server's propagation too.
  if (source != EventSource::kOwnCommit) recordLag(event);
}

void HostInbound::reconnected() {
  if (follower_ != nullptr) {
    follower_->requestResync("the transport reconnected or dropped events");
  }
}

void HostInbound::recordLag(const Event& event) {
  Poco::Timestamp::TimeDiff lag = event.occurred_on.elapsed();
  apply_lag_.record(lag > 0 ? static_cast<uint64_t>(lag) : 0);
}

}  // namespace busbar::host
