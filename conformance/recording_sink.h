// RecordingSink: the InboundSink of one server of the transport suite. It records what the
// transport delivers, and can make deliveries wait (hold) or fail (as subscribers that throw), as a
// test needs. Thread-safe: the transport's threads deliver while the test reads and steers.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "busbar/transport.h"

namespace busbar::conformance {

// Where an event came from and its number there: how the tests tell their events apart.
using EventKey = std::pair<std::string, int64_t>;

class RecordingSink : public InboundSink {
 public:
  // One delivery: the event, its place in the event log when it came sequenced, its principal.
  struct Heard {
    Event event;
    EventLogSeq at;
    bool sequenced = false;
    std::string principal;  // what the transport handed over with it (SDK 1.6), "" for none
  };

  // `server` names the sink's server in failure messages.
  explicit RecordingSink(std::string server) : server_(std::move(server)) {}

  // Each records the delivery, then returns, waits or throws as hold(), release() and fail() say.
  void deliver(const Event& event) override;
  void deliverSequenced(const Event& event, const EventLogSeq& at) override;
  void deliverAttributed(const Event& event, const std::string& principal) override;
  void deliverSequencedAttributed(const Event& event, const EventLogSeq& at,
                                  const std::string& principal) override;
  // Counts the call (reconnects()).
  void reconnected() override;

  // From now on each delivery waits until release() or fail().
  void hold() { setMode(Mode::kHold, ""); }
  // Deliveries waiting and to come return normally.
  void release() { setMode(Mode::kPass, ""); }
  // Deliveries waiting and to come throw `why`, as a subscriber that fails: not delivered.
  void fail(const std::string& why) { setMode(Mode::kFail, why); }
  // Its instance stopped: a delivery from now on breaks the contract (the test fails).
  void close();

  // Deliveries waiting in hold() now.
  size_t waiting() const;
  // Deliveries that returned normally, in the order they returned.
  std::vector<Heard> heard() const;
  // Every delivery the transport began, whatever became of it.
  std::vector<Heard> taken() const;
  // Times the transport called reconnected().
  int reconnects() const;

  // The keys of the events of `origins` heard (returned normally), duplicates once.
  std::set<EventKey> heardFrom(const std::set<std::string>& origins) const;

 private:
  enum class Mode { kPass, kHold, kFail };

  void setMode(Mode mode, const std::string& why);
  // Records a delivery, then waits, fails or returns as the mode says.
  void take(const Event& event, const EventLogSeq& at, bool sequenced,
            const std::string& principal);

  const std::string server_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Mode mode_ = Mode::kPass;
  std::string why_;
  bool closed_ = false;
  size_t waiting_ = 0;
  int reconnects_ = 0;
  std::vector<Heard> heard_;
  std::vector<Heard> taken_;
};

}  // namespace busbar::conformance
