#include "http/request_id.h"

#include <cstring>
#include <random>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace busbar::host {

RequestIdGenerator::RequestIdGenerator() {
  std::random_device device;
  state_ = (static_cast<uint64_t>(device()) << 32) ^ device();
}

namespace {

// The 16 hex digits of `value`, most significant first. This runs for every request that came
// without an id: SSE2 turns all sixteen nibbles into digits at once where there is SSE2 (every
// x86-64), a loop over the nibbles elsewhere.
void formatHex(uint64_t value, char* text) {
#if defined(__SSE2__)
  const __m128i bytes = _mm_cvtsi64_si128(static_cast<long long>(__builtin_bswap64(value)));
  const __m128i low_nibble = _mm_set1_epi8(0x0F);
  const __m128i high = _mm_and_si128(_mm_srli_epi16(bytes, 4), low_nibble);
  const __m128i low = _mm_and_si128(bytes, low_nibble);
  const __m128i nibbles = _mm_unpacklo_epi8(high, low);
  const __m128i letters = _mm_cmpgt_epi8(nibbles, _mm_set1_epi8(9));
  const __m128i offset =
      _mm_add_epi8(_mm_set1_epi8('0'), _mm_and_si128(letters, _mm_set1_epi8('a' - '0' - 10)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(text), _mm_add_epi8(nibbles, offset));
#else
  static const char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    text[i] = kHex[value & 15];
    value >>= 4;
  }
#endif
}

}  // namespace

void RequestIdGenerator::next(RequestId& id) {
  // splitmix64: a bijection of the counter, so ids of one generator never repeat.
  uint64_t value = (state_ += 0x9E3779B97F4A7C15ULL);
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
  value ^= value >> 31;
  formatHex(value, id.prepare(16));
}

}  // namespace busbar::host
