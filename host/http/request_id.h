// RequestId: the id of one HTTP request, answered in X-Request-Id, logged with what the request
// does and carried by the events it emits. The client's own when it sent a usable one (1-64
// visible ASCII characters, no quote or backslash, so that it goes into logs and JSON as it is);
// otherwise one its event loop makes. Fixed capacity: setting one allocates nothing.
//
// RequestIdGenerator makes 16 hex digits per request: a per-loop random start passed through
// splitmix64, a bijection, so a loop never repeats one and loops (and servers) pick unrelated
// ones.
//
// Thread-safety: value types; a generator belongs to one loop.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace busbar::host {

class RequestId {
 public:
  static constexpr size_t kMaxSize = 64;

  RequestId() { std::memcpy(line_, kPrefix, kPrefixSize); }
  RequestId(const RequestId& other) { *this = other; }
  RequestId& operator=(const RequestId& other) {
    std::memcpy(line_, other.line_, kPrefixSize + other.size_ + 2);
    size_ = other.size_;
    return *this;
  }

  // True when `text` can be used as it is.
  static bool acceptable(std::string_view text) {
    if (text.empty() || text.size() > kMaxSize) return false;
    for (char c : text) {
      if (c <= 0x20 || c >= 0x7F || c == '"' || c == '\\') return false;
    }
    return true;
  }

  // Holds `text`, which must be acceptable().
  void assign(std::string_view text) {
    size_ = static_cast<uint8_t>(text.size());
    std::memcpy(line_ + kPrefixSize, text.data(), text.size());
    std::memcpy(line_ + kPrefixSize + text.size(), "\r\n", 2);
  }
  // Where to write an id of `size` characters (which must be acceptable()), in place: what a
  // generator does, without a copy.
  char* prepare(size_t size) {
    size_ = static_cast<uint8_t>(size);
    std::memcpy(line_ + kPrefixSize + size, "\r\n", 2);
    return line_ + kPrefixSize;
  }
  void clear() { size_ = 0; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return std::string_view(line_ + kPrefixSize, size_); }

  // "X-Request-Id: <id>\r\n", the response's header line, kept whole so that an answer appends
  // it at once.
  std::string_view headerLine() const { return std::string_view(line_, kPrefixSize + size_ + 2); }

 private:
  static constexpr char kPrefix[] = "X-Request-Id: ";
  static constexpr size_t kPrefixSize = sizeof kPrefix - 1;
  char line_[kPrefixSize + kMaxSize + 2];
  uint8_t size_ = 0;
};

class RequestIdGenerator {
 public:
  // Starts at a random point.
  RequestIdGenerator();
  // Starts at `seed` (tests).
  explicit RequestIdGenerator(uint64_t seed) : state_(seed) {}

  // Makes the next id into `id`.
  void next(RequestId& id);

 private:
  uint64_t state_;
};

}  // namespace busbar::host
