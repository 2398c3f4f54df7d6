#include "events/publication_tracker.h"

#include <atomic>
#include <memory>

namespace busbar::host {

PublishSettled PublicationTracker::settledFor(const LogPosition& event, size_t exchanges,
                                              PublishSettled then) {
  struct Outstanding {
    std::atomic<size_t> confirms_missing;
    std::atomic<bool> told{false};
    PublishSettled then;
  };
  auto outstanding = std::make_shared<Outstanding>();
  outstanding->confirms_missing = exchanges;
  outstanding->then = std::move(then);
  return [this, event, outstanding](bool confirmed) {
    if (confirmed && outstanding->confirms_missing.fetch_sub(1) != 1) return;
    if (confirmed) {
      published(event);
    } else {
      givenUp(event);
    }
    if (outstanding->then && !outstanding->told.exchange(true)) outstanding->then(confirmed);
  };
}

void PublicationTracker::published(const LogPosition& event) {
  std::lock_guard<std::mutex> lock(mutex_);
  marks_.push_back({event, EventLog::Publication::kConfirmed});
}

void PublicationTracker::givenUp(const LogPosition& event) {
  std::lock_guard<std::mutex> lock(mutex_);
  marks_.push_back({event, EventLog::Publication::kGivenUp});
}

void PublicationTracker::flush(EventLog& log) {
  std::vector<Mark> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(marks_);
  }
  if (batch.empty()) return;
  std::vector<LogPosition> confirmed;
  std::vector<LogPosition> given_up;
  for (const auto& mark : batch) {
    (mark.state == EventLog::Publication::kConfirmed ? confirmed : given_up).push_back(mark.event);
  }
  try {
    log.mark(given_up, EventLog::Publication::kGivenUp);
    log.mark(confirmed, EventLog::Publication::kConfirmed);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    marks_.insert(marks_.end(), batch.begin(), batch.end());
    throw;
  }
}

size_t PublicationTracker::waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return marks_.size();
}

}  // namespace busbar::host
