#include "events/publication_tracker.h"

#include <atomic>
#include <memory>

namespace busbar::host {

PublishSettled PublicationTracker::settledFor(const std::string& event_id, size_t exchanges,
                                              PublishSettled then) {
  struct Outstanding {
    std::atomic<size_t> confirms_missing;
    std::atomic<bool> told{false};
    PublishSettled then;
  };
  auto outstanding = std::make_shared<Outstanding>();
  outstanding->confirms_missing = exchanges;
  outstanding->then = std::move(then);
  return [this, event_id, outstanding](bool confirmed) {
    if (confirmed && outstanding->confirms_missing.fetch_sub(1) != 1) return;
    if (confirmed) {
      published(event_id);
    } else {
      givenUp(event_id);
    }
    if (outstanding->then && !outstanding->told.exchange(true)) outstanding->then(confirmed);
  };
}

void PublicationTracker::published(const std::string& event_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  marks_.push_back({event_id, EventLogStorage::Publication::kConfirmed});
}

void PublicationTracker::givenUp(const std::string& event_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  marks_.push_back({event_id, EventLogStorage::Publication::kGivenUp});
}

void PublicationTracker::flush(EventLogStorage& log) {
  std::vector<Mark> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(marks_);
  }
  if (batch.empty()) return;
  std::vector<std::string> confirmed;
  std::vector<std::string> given_up;
  for (const auto& mark : batch) {
    (mark.state == EventLogStorage::Publication::kConfirmed ? confirmed : given_up)
        .push_back(mark.event_id);
  }
  try {
    log.mark(given_up, EventLogStorage::Publication::kGivenUp);
    log.mark(confirmed, EventLogStorage::Publication::kConfirmed);
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
