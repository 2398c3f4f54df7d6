// RecentlyUsed<V>: values under string keys, ordered by when each was last used, for a cache
// that keeps what it used last: its owner bounds it, removing the least recently used value
// before it adds one when full.
//
// It moves and destroys values; destroying one releases what it holds (a prepared handle, say),
// and a value handed back by remove() is the caller's to release (a name the server still
// holds, say). Each key is stored once; use, add and remove cost one hash of the key on average.
// A pointer or reference to a value stays valid until its key is removed or clear() runs.
//
// Not thread-safe: a statement cache belongs to one session, used by one thread at a time.
#pragma once

#include <cstddef>
#include <iterator>
#include <list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace busbar::sql {

template <typename V>
class RecentlyUsed {
 public:
  static_assert(std::is_nothrow_move_constructible_v<V>, "remove() moves values out, noexcept");

  RecentlyUsed() = default;
  RecentlyUsed(const RecentlyUsed&) = delete;
  RecentlyUsed& operator=(const RecentlyUsed&) = delete;

  // The value under `key`, now the most recently used; nullptr when there is none.
  V* use(std::string_view key) {
    auto found = index_.find(key);
    if (found == index_.end()) return nullptr;
    entries_.splice(entries_.begin(), entries_, found->second);
    return &found->second->value;
  }

  // Keeps `value` under `key` as the most recently used. On failure (out of memory, or `key`
  // already holds a value: std::logic_error) throws, and `value` is destroyed, releasing what it
  // holds.
  V& add(std::string key, V value) {
    entries_.push_front(Entry{std::move(key), std::move(value)});
    bool added = false;
    try {
      added = index_.emplace(entries_.front().key, entries_.begin()).second;
    } catch (...) {
      entries_.pop_front();
      throw;
    }
    if (!added) {
      std::string held = std::move(entries_.front().key);
      entries_.pop_front();
      throw std::logic_error("RecentlyUsed::add: the key already holds a value: " + held);
    }
    return entries_.front().value;
  }

  // Removes the value under `key` and hands it back; nullopt when there is none.
  std::optional<V> remove(std::string_view key) noexcept {
    auto found = index_.find(key);
    if (found == index_.end()) return std::nullopt;
    return take(found);
  }

  // Removes the least recently used value and hands it back; nullopt when empty.
  std::optional<V> removeLeastRecentlyUsed() noexcept {
    if (entries_.empty()) return std::nullopt;
    return take(index_.find(std::string_view(entries_.back().key)));
  }

  // Destroys every value.
  void clear() noexcept {
    index_.clear();
    entries_.clear();
  }

  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }

 private:
  struct Entry {
    std::string key;
    V value;
  };
  using Entries = std::list<Entry>;
  // Keys are views of the entries' own keys: list nodes never move.
  using Index = std::unordered_map<std::string_view, typename Entries::iterator>;

  V take(typename Index::iterator found) noexcept {
    const typename Entries::iterator entry = found->second;
    V value = std::move(entry->value);
    index_.erase(found);
    entries_.erase(entry);
    return value;
  }

  Entries entries_;  // most recently used first
  Index index_;
};

}  // namespace busbar::sql
