// DeadlineList: the connections waiting for one kind of deadline (idle keep-alive, request head,
// request body, response write, lingering close), in the order they expire.
//
// Every entry of a list gets the same timeout from the moment it is added, so adding at the back
// keeps the list sorted by deadline: adding, removing and finding the earliest are O(1) without
// an allocation, the links living in the entry. A heap or a timer per connection would cost
// O(log n) and an allocation per re-arm, and a connection re-arms on every request.
//
// Thread-safety: none; the lists of an event loop belong to its thread.
#pragma once

#include <chrono>

namespace busbar::host {

class DeadlineList;

// Base of whatever waits in a DeadlineList; in at most one list at a time.
class DeadlineEntry {
 public:
  DeadlineEntry() = default;
  DeadlineEntry(const DeadlineEntry&) = delete;
  DeadlineEntry& operator=(const DeadlineEntry&) = delete;
  ~DeadlineEntry() { disarm(); }

  // Leaves its list, if in one.
  void disarm();
  std::chrono::steady_clock::time_point deadline() const { return deadline_; }

 private:
  friend class DeadlineList;
  DeadlineEntry* prev_ = nullptr;
  DeadlineEntry* next_ = nullptr;
  DeadlineList* list_ = nullptr;
  std::chrono::steady_clock::time_point deadline_;
};

class DeadlineList {
 public:
  explicit DeadlineList(std::chrono::milliseconds timeout) : timeout_(timeout) {}
  DeadlineList(const DeadlineList&) = delete;
  DeadlineList& operator=(const DeadlineList&) = delete;
  ~DeadlineList() {
    while (head_ != nullptr) head_->disarm();
  }

  // Leaves `entry`'s list, if any, and joins this one with a deadline of now + timeout.
  void arm(DeadlineEntry& entry, std::chrono::steady_clock::time_point now) {
    entry.disarm();
    entry.deadline_ = now + timeout_;
    entry.list_ = this;
    entry.prev_ = tail_;
    if (tail_ != nullptr) {
      tail_->next_ = &entry;
    } else {
      head_ = &entry;
    }
    tail_ = &entry;
  }

  // The entry expiring first, or null when empty.
  DeadlineEntry* earliest() const { return head_; }

  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  friend class DeadlineEntry;
  const std::chrono::milliseconds timeout_;
  DeadlineEntry* head_ = nullptr;
  DeadlineEntry* tail_ = nullptr;
};

inline void DeadlineEntry::disarm() {
  if (list_ == nullptr) return;
  (prev_ != nullptr ? prev_->next_ : list_->head_) = next_;
  (next_ != nullptr ? next_->prev_ : list_->tail_) = prev_;
  prev_ = next_ = nullptr;
  list_ = nullptr;
}

}  // namespace busbar::host
