#include "events/event_id.h"

#include <chrono>
#include <random>

namespace busbar::host {
namespace {

void appendHex(std::string& out, uint64_t value, int digits) {
  static const char kDigits[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += kDigits[(value >> shift) & 0xf];
}

}  // namespace

std::string makeEventId(uint64_t unix_ms, uint64_t random_high, uint64_t random_low) {
  // time_high(32) - time_low(16) - version(4) rand_a(12) - variant(2) rand_b(14) - rand_b(48)
  std::string id;
  id.reserve(36);
  appendHex(id, (unix_ms >> 16) & 0xffffffffULL, 8);
  id += '-';
  appendHex(id, unix_ms & 0xffff, 4);
  id += '-';
  appendHex(id, 0x7000 | (random_high & 0xfff), 4);
  id += '-';
  appendHex(id, 0x8000 | ((random_low >> 48) & 0x3fff), 4);
  id += '-';
  appendHex(id, random_low & 0xffffffffffffULL, 12);
  return id;
}

std::string newEventId() {
  // Seeded per thread from the system's entropy, so that servers and threads draw apart.
  thread_local std::mt19937_64 random{[] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }()};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto unix_ms =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  const uint64_t random_high = random();
  return makeEventId(unix_ms, random_high, random());
}

}  // namespace busbar::host
