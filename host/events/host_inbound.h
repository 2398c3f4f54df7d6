// HostInbound: the InboundSink transports deliver consumed events into.
//
// An event without a sequence number waits until the inline bus is open, is dropped when it is
// this server's own and async_pass_through delivered it already, and otherwise runs the
// subscribers at once, applied by version as they see fit. A logged event goes to the
// EventSequencer, which delivers it exactly once and in order; with the event log off it is
// treated like an event without a number. reconnected() asks the follower for a
// resynchronization, which it retries until it succeeds. Apply lag (occurred_on to the end of
// the delivery) is measured for what transports deliver and what is read from the log.
//
// Every delivery runs under the id and principal of the request that emitted the event
// (request_context.h), as far as the transport carried them: subscribers get them in their
// EventContext, what they log carries the id, and each application is logged at debug level
// (logger busbar.events) with it: an operator follows one write across the cluster.
//
// Thread-safe. setEventLog() is called once, before any transport starts.
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include <Poco/Logger.h>

#include "busbar/transport.h"
#include "events/event_log_follower.h"
#include "events/event_sequencer.h"
#include "events/inline_bus.h"
#include "ops/metric_cells.h"

namespace busbar::host {

class HostInbound : public InboundSink {
 public:
  HostInbound(std::string server_id, bool async_pass_through, InlineBus& inline_bus);

  // Where logged events and resynchronization requests go. `sequencer` and `identity` are null
  // when the log is off; `follower` is always set once the host starts.
  void setEventLog(EventSequencer* sequencer, const LogIdentity* identity,
                   EventLogFollower* follower) {
    sequencer_ = sequencer;
    identity_ = identity;
    follower_ = follower;
  }

  void deliver(const Event& event) override { deliverAttributed(event, std::string()); }
  void reconnected() override;
  void deliverSequenced(const Event& event, const EventLogSeq& at) override {
    deliverSequencedAttributed(event, at, std::string());
  }
  void deliverAttributed(const Event& event, const std::string& principal) override;
  void deliverSequencedAttributed(const Event& event, const EventLogSeq& at,
                                  const std::string& principal) override;

  // What the sequencer calls to deliver: runs the subscribers, and those that fail again with
  // growing pauses, so that none sees the event twice: up to `retries` more times, or, while the
  // failure is StorageUnavailable, for up to 30 s (a database restart loses no delivery).
  // Measures lag for what came from the transport or the log. On failure throws the last error
  // (the sequencer sets the event aside).
  void deliverInOrder(const Event& event, EventSource source);

  // How often and how soon deliverInOrder() tries failed subscribers again.
  void setRetries(int retries, std::chrono::milliseconds initial) {
    retries_ = retries;
    retry_initial_ = initial;
  }

  // Upper bounds of the apply lag's buckets, in seconds.
  static const std::vector<double>& applyLagBuckets();

  // Time from an event's occurred_on to the end of its delivery from the transport or the log, in
  // seconds: how far behind the writer this server's subscribers are.
  const HistogramCell& applyLag() const { return apply_lag_; }
  // The longest apply lag since start or the last resetApplyLag(), in seconds.
  double applyLagMax() const;
  void resetApplyLag();

  // Events transports handed over (deliver and deliverSequenced), duplicates included.
  uint64_t consumed() const { return consumed_.load(std::memory_order_relaxed); }

 private:
  // An event without a usable sequence number: runs the subscribers now, under the request
  // `request_id` of `principal`.
  void deliverUnsequenced(const Event& event, std::string_view request_id,
                          std::string_view principal);
  // Records the lag of `event`, delivered now; returns it in microseconds.
  int64_t recordLag(const Event& event);

  const std::string server_id_;
  const bool async_pass_through_;
  InlineBus& inline_bus_;
  EventSequencer* sequencer_ = nullptr;
  const LogIdentity* identity_ = nullptr;
  EventLogFollower* follower_ = nullptr;
  std::atomic<bool> foreign_log_told_{false};
  int retries_ = 3;
  std::chrono::milliseconds retry_initial_{50};
  std::chrono::seconds storage_outage_budget_{30};
  HistogramCell apply_lag_{applyLagBuckets()};
  std::atomic<uint64_t> apply_lag_max_us_{0};
  std::atomic<uint64_t> consumed_{0};
  Poco::Logger& applied_log_ = Poco::Logger::get("busbar.events");
};

}  // namespace busbar::host
