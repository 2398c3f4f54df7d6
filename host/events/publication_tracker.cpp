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
    if (confirmed) published(event);
    if (outstanding->then && !outstanding->told.exchange(true)) outstanding->then(confirmed);
  };
}

void PublicationTracker::published(const LogPosition& event) {
  std::lock_guard<std::mutex> lock(mutex_);
  marks_.push_back(event);
}

void PublicationTracker::flush(EventLog& log) {
  std::vector<LogPosition> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(marks_);
  }
  if (batch.empty()) return;
  try {
    log.markPublished(batch);
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
