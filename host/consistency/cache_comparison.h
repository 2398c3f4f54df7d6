// What the consistency observer counts as stale: a page of a cache beside the same page of the
// database, and the verdict on a row that differed once the propagation bound has passed.
// Pure functions, no I/O: the observer (consistency_observer.h) reads, these decide.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "busbar/consistency.h"

namespace busbar::host {

// A key whose row differs between the cache and the database.
struct RowDifference {
  std::string key;
  std::optional<CheckedRow> cached;  // nothing: the cache holds no row for it
  std::optional<CheckedRow> stored;  // nothing: the database has no row for it
};

struct PageComparison {
  std::vector<RowDifference> differences;
  size_t compared = 0;  // keys compared: those of either page, up to `covered_to`
  // Both pages ran out: the table's pass is complete. Otherwise the next page starts after
  // `covered_to`, the last key both pages cover.
  bool reached_end = false;
  std::string covered_to;
};

// Compares `cached` and `stored`, each the first rows after one key in byte order, of at most
// `limit` rows. A page shorter than `limit` reached its table's end; a full one covers keys up to
// its last only, so keys are compared up to the smaller last key of the full pages, or all of
// them when neither is full.
PageComparison comparePages(const std::vector<CheckedRow>& cached,
                            const std::vector<CheckedRow>& stored, size_t limit);

// What a second look at a row that differed says.
enum class RecheckVerdict {
  kConsistent,    // the cache equals the database now
  kStillMoving,   // the database changed since the last look and the cache is not behind what it
                  // held then: a newer version may still be on its way; look again a bound later
  kInconsistent,  // the database held still for the bound and the cache differs from it, or the
                  // cache is older than what the database held a bound ago
};

// A row without versions whose database moved at every look is counted after this many looks:
// with no version, nothing tells a cache that follows late from one that never follows.
inline constexpr int kUnversionedLooks = 5;

// The verdict a bound after the previous look, which saw `stored_then` in the database;
// `cached_now` and `stored_now` are read now; `moving_looks` earlier looks found the database
// moved.
RecheckVerdict recheck(const std::optional<CheckedRow>& stored_then,
                       const std::optional<CheckedRow>& cached_now,
                       const std::optional<CheckedRow>& stored_now, int moving_looks = 0);

}  // namespace busbar::host
