#include "consistency/cache_comparison.h"

namespace busbar::host {
namespace {

bool sameRow(const std::optional<CheckedRow>& a, const std::optional<CheckedRow>& b) {
  return a.has_value() == b.has_value() && (!a || *a == *b);
}

}  // namespace

PageComparison comparePages(const std::vector<CheckedRow>& cached,
                            const std::vector<CheckedRow>& stored, size_t limit) {
  PageComparison result;
  const bool cached_full = cached.size() >= limit && !cached.empty();
  const bool stored_full = stored.size() >= limit && !stored.empty();
  result.reached_end = !cached_full && !stored_full;
  if (cached_full) result.covered_to = cached.back().key;
  if (stored_full && (!cached_full || stored.back().key < result.covered_to)) {
    result.covered_to = stored.back().key;
  }
  auto covered = [&](const std::string& key) {
    return result.reached_end || key <= result.covered_to;
  };
  size_t c = 0;
  size_t s = 0;
  while (true) {
    const bool c_left = c < cached.size() && covered(cached[c].key);
    const bool s_left = s < stored.size() && covered(stored[s].key);
    if (!c_left && !s_left) break;
    ++result.compared;
    if (c_left && s_left && cached[c].key == stored[s].key) {
      if (cached[c] != stored[s])
        result.differences.push_back({cached[c].key, cached[c], stored[s]});
      ++c;
      ++s;
    } else if (c_left && (!s_left || cached[c].key < stored[s].key)) {
      result.differences.push_back({cached[c].key, cached[c], std::nullopt});
      ++c;
    } else {
      result.differences.push_back({stored[s].key, std::nullopt, stored[s]});
      ++s;
    }
  }
  return result;
}

RecheckVerdict recheck(const std::optional<CheckedRow>& stored_then,
                       const std::optional<CheckedRow>& cached_now,
                       const std::optional<CheckedRow>& stored_now, int moving_looks) {
  if (sameRow(cached_now, stored_now)) return RecheckVerdict::kConsistent;
  if (sameRow(stored_then, stored_now)) return RecheckVerdict::kInconsistent;
  // The database moved. A version the database held a bound ago must have reached the cache.
  const int64_t then_version = stored_then ? stored_then->version : 0;
  const int64_t cached_version = cached_now ? cached_now->version : 0;
  const int64_t now_version = stored_now ? stored_now->version : 0;
  if (then_version > 0 && cached_version < then_version) return RecheckVerdict::kInconsistent;
  const bool versioned = then_version > 0 || cached_version > 0 || now_version > 0;
  if (!versioned && moving_looks + 1 >= kUnversionedLooks) return RecheckVerdict::kInconsistent;
  return RecheckVerdict::kStillMoving;
}

}  // namespace busbar::host
