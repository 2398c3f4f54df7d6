#include "events/publication_tracker.h"

#include <atomic>
#include <memory>

namespace busbar::host {

PublishSettled PublicationTracker::settledFor(uint64_t seq, size_t exchanges) {
  struct Outstanding {
    std::atomic<size_t> confirms_missing;
  };
  auto outstanding = std::make_shared<Outstanding>();
  outstanding->confirms_missing = exchanges;
  return [this, seq, outstanding](bool confirmed) {
    if (confirmed && outstanding->confirms_missing.fetch_sub(1) == 1) published(seq);
  };
}

void PublicationTracker::published(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mutex_);
  marks_.push_back(seq);
}

void PublicationTracker::flush(EventLog& log) {
  std::vector<uint64_t> batch;
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
