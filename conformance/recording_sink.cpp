#include "recording_sink.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace busbar::conformance {

void RecordingSink::deliver(const Event& event) { take(event, EventLogSeq{}, false, ""); }

void RecordingSink::deliverSequenced(const Event& event, const EventLogSeq& at) {
  take(event, at, true, "");
}

void RecordingSink::deliverAttributed(const Event& event, const std::string& principal) {
  take(event, EventLogSeq{}, false, principal);
}

void RecordingSink::deliverSequencedAttributed(const Event& event, const EventLogSeq& at,
                                               const std::string& principal) {
  take(event, at, true, principal);
}

void RecordingSink::reconnected() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++reconnects_;
}

void RecordingSink::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
}

size_t RecordingSink::waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiting_;
}

std::vector<RecordingSink::Heard> RecordingSink::heard() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return heard_;
}

std::vector<RecordingSink::Heard> RecordingSink::taken() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return taken_;
}

int RecordingSink::reconnects() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reconnects_;
}

std::set<EventKey> RecordingSink::heardFrom(const std::set<std::string>& origins) const {
  std::set<EventKey> keys;
  for (const auto& heard : heard()) {
    if (origins.count(heard.event.origin) > 0) {
      keys.insert({heard.event.origin, heard.event.version});
    }
  }
  return keys;
}

void RecordingSink::setMode(Mode mode, const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    mode_ = mode;
    why_ = why;
  }
  changed_.notify_all();
}

void RecordingSink::take(const Event& event, const EventLogSeq& at, bool sequenced,
                         const std::string& principal) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (closed_) {
    ADD_FAILURE() << "the transport delivered " << event.type << " " << event.origin << "#"
                  << event.version << " to server " << server_
                  << " after that server's stop() returned";
    return;
  }
  taken_.push_back({event, at, sequenced, principal});
  ++waiting_;
  changed_.wait(lock, [this] { return mode_ != Mode::kHold; });
  --waiting_;
  if (mode_ == Mode::kFail) throw std::runtime_error(why_);
  heard_.push_back({event, at, sequenced, principal});
}

}  // namespace busbar::conformance
