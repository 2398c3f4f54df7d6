#include "events/host_inbound.h"

#include <thread>

#include "busbar/errors.h"
#include "ops/request_context.h"

namespace busbar::host {

HostInbound::HostInbound(std::string server_id, bool async_pass_through, InlineBus& inline_bus)
    : server_id_(std::move(server_id)),
      async_pass_through_(async_pass_through),
      inline_bus_(inline_bus) {}

namespace {

std::string lagText(int64_t microseconds) {
  return std::to_string(microseconds / 1000) + "." + std::to_string(microseconds % 1000 / 100) +
         " ms";
}

}  // namespace

const std::vector<double>& HostInbound::applyLagBuckets() {
  // Dense around the milliseconds that propagation takes on a LAN, up to a minute.
  static const std::vector<double> buckets = {0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01,
                                              0.015,  0.02,  0.03,  0.05,  0.075, 0.1,    0.25,
                                              0.5,    1,     2.5,   5,     10,    30,     60};
  return buckets;
}

void HostInbound::deliverAttributed(const Event& event, const std::string& principal) {
  deliverUnsequenced(event, {}, principal);
}

void HostInbound::deliverUnsequenced(const Event& event, std::string_view request_id,
                                     std::string_view principal) {
  consumed_.fetch_add(1, std::memory_order_relaxed);
  inline_bus_.waitUntilOpen();
  if (async_pass_through_ && event.origin == server_id_) return;
  {
    RequestScope scope(request_id, principal);
    inline_bus_.deliverLocally(event);
  }
  const int64_t lag = recordLag(event);
  if (applied_log_.debug()) {
    applied_log_.debug("applied " + event.type + " " + event.id + " from " + event.origin +
                       " (not logged; lag " + lagText(lag) + ")");
  }
}

void HostInbound::deliverSequencedAttributed(const Event& event, const EventLogSeq& at,
                                             const std::string& principal) {
  if (sequencer_ == nullptr) {
    deliverUnsequenced(event, at.request_id, principal);
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
    deliverUnsequenced(event, at.request_id, principal);
    return;
  }
  consumed_.fetch_add(1, std::memory_order_relaxed);
  sequencer_->offer(at.seq, event, EventSource::kTransport, at.request_id, principal);
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
  const int64_t lag = source != EventSource::kOwnCommit ? recordLag(event) : 0;
  if (applied_log_.debug()) {
    const char* from = source == EventSource::kOwnCommit ? "this server's commit"
                       : source == EventSource::kLog     ? "the event log"
                                                         : "the transport";
    applied_log_.debug("applied " + event.type + " " + event.id + " from " + event.origin +
                       " (via " + from +
                       (source != EventSource::kOwnCommit ? ", lag " + lagText(lag) : "") + ")");
  }
}

void HostInbound::reconnected() {
  if (follower_ != nullptr) {
    follower_->requestResync("the transport reconnected or dropped events");
  }
}

int64_t HostInbound::recordLag(const Event& event) {
  const Poco::Timestamp::TimeDiff elapsed = event.occurred_on.elapsed();
  const int64_t lag = elapsed > 0 ? elapsed : 0;
  apply_lag_.observe(static_cast<double>(lag) / 1e6);
  uint64_t seen = apply_lag_max_us_.load(std::memory_order_relaxed);
  while (static_cast<uint64_t>(lag) > seen &&
         !apply_lag_max_us_.compare_exchange_weak(seen, static_cast<uint64_t>(lag),
                                                  std::memory_order_relaxed)) {
  }
  return lag;
}

double HostInbound::applyLagMax() const {
  return static_cast<double>(apply_lag_max_us_.load(std::memory_order_relaxed)) / 1e6;
}

void HostInbound::resetApplyLag() {
  apply_lag_.reset();
  apply_lag_max_us_.store(0, std::memory_order_relaxed);
}

}  // namespace busbar::host
