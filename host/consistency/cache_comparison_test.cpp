#include "consistency/cache_comparison.h"

#include <gtest/gtest.h>

namespace busbar::host {
namespace {

CheckedRow row(const std::string& key, int64_t version, const std::string& content = "c") {
  return CheckedRow{key, version, false, content};
}

std::vector<std::string> keysOf(const PageComparison& page) {
  std::vector<std::string> keys;
  for (const auto& difference : page.differences) keys.push_back(difference.key);
  return keys;
}

TEST(ComparePagesTest, EqualPagesThatRanOutCompleteThePass) {
  std::vector<CheckedRow> rows = {row("a", 1), row("b", 2)};
  auto page = comparePages(rows, rows, 10);
  EXPECT_TRUE(page.differences.empty());
  EXPECT_EQ(page.compared, 2u);
  EXPECT_TRUE(page.reached_end);
}

TEST(ComparePagesTest, FindsRowsChangedMissingOnEitherSideAndTombstones) {
  std::vector<CheckedRow> cached = {row("a", 1), row("b", 1), row("d", 3), row("e", 1)};
  std::vector<CheckedRow> stored = {row("a", 1), row("b", 1, "edited"), row("c", 1), row("e", 2)};
  stored[3].deleted = true;
  auto page = comparePages(cached, stored, 10);
  EXPECT_EQ(keysOf(page), (std::vector<std::string>{"b", "c", "d", "e"}));
  EXPECT_EQ(page.compared, 5u);
  EXPECT_FALSE(page.differences[1].cached);  // c: only in the database
  EXPECT_FALSE(page.differences[2].stored);  // d: only in the cache
  EXPECT_TRUE(page.differences[3].stored->deleted);
}

TEST(ComparePagesTest, AFullPageCoversOnlyUpToItsLastKeySoNothingBeyondIsCalledMissing) {
  // The cache's page is full at "c"; the database's ran out at "e". "d" and "e" lie beyond what the
  // cache's page covers: they are compared by the next page, not reported missing now.
  std::vector<CheckedRow> cached = {row("a", 1), row("b", 1), row("c", 1)};
  std::vector<CheckedRow> stored = {row("a", 1), row("c", 1), row("d", 1), row("e", 1)};
  auto page = comparePages(cached, stored, 3);
  EXPECT_FALSE(page.reached_end);
  EXPECT_EQ(page.covered_to, "c");
  EXPECT_EQ(keysOf(page), (std::vector<std::string>{"b"}));
  EXPECT_EQ(page.compared, 3u);
  // Both full: the smaller last key bounds the page.
  auto both = comparePages({row("a", 1), row("z", 1)}, {row("a", 1), row("m", 1)}, 2);
  EXPECT_EQ(both.covered_to, "m");
  EXPECT_EQ(keysOf(both), (std::vector<std::string>{"m"}));
}

TEST(ComparePagesTest, KeysCompareAsBytes) {
  // 0xC3 sorts after 'z' as a byte, as the pages are ordered.
  auto page = comparePages({row("z", 1), row("\xC3\xA9", 1)}, {row("z", 1), row("\xC3\xA9", 1)}, 5);
  EXPECT_TRUE(page.differences.empty());
  EXPECT_EQ(page.compared, 2u);
}

TEST(RecheckTest, TheCacheCaughtUp) {
  EXPECT_EQ(recheck(row("k", 2), row("k", 2), row("k", 2)), RecheckVerdict::kConsistent);
  EXPECT_EQ(recheck(std::nullopt, std::nullopt, std::nullopt), RecheckVerdict::kConsistent);
}

TEST(RecheckTest, ADatabaseThatHeldStillWhileTheCacheDiffersIsInconsistent) {
  EXPECT_EQ(recheck(row("k", 2), row("k", 1), row("k", 2)), RecheckVerdict::kInconsistent);
  // An edit made with SQL: same version, other content.
  EXPECT_EQ(recheck(row("k", 2, "sql"), row("k", 2), row("k", 2, "sql")),
            RecheckVerdict::kInconsistent);
  // The cache ahead of a database restored from an older dump: the database wins.
  EXPECT_EQ(recheck(row("k", 2), row("k", 5), row("k", 2)), RecheckVerdict::kInconsistent);
  // A row deleted with SQL that the cache still serves.
  EXPECT_EQ(recheck(std::nullopt, row("k", 2), std::nullopt), RecheckVerdict::kInconsistent);
}

TEST(RecheckTest, ADatabaseThatMovedIsStillMovingUnlessTheCacheMissedWhatItHeldABoundAgo) {
  EXPECT_EQ(recheck(row("k", 2), row("k", 2), row("k", 3)), RecheckVerdict::kStillMoving);
  EXPECT_EQ(recheck(row("k", 2), row("k", 1), row("k", 3)), RecheckVerdict::kInconsistent);
  EXPECT_EQ(recheck(row("k", 2), std::nullopt, row("k", 3)), RecheckVerdict::kInconsistent);
  EXPECT_EQ(recheck(std::nullopt, std::nullopt, row("k", 1)), RecheckVerdict::kStillMoving);
}

TEST(RecheckTest, ARowWithoutVersionsThatDiffersAtEveryLookCountsAfterAFewLooks) {
  const CheckedRow then{"k", 0, false, "a"};
  const CheckedRow cached{"k", 0, false, "a"};
  const CheckedRow now{"k", 0, false, "b"};
  for (int looks = 0; looks + 1 < kUnversionedLooks; ++looks) {
    EXPECT_EQ(recheck(then, cached, now, looks), RecheckVerdict::kStillMoving) << looks;
  }
  EXPECT_EQ(recheck(then, cached, now, kUnversionedLooks - 1), RecheckVerdict::kInconsistent);
  // Versioned rows keep moving as long as the cache keeps up with what the database held.
  EXPECT_EQ(recheck(row("k", 2), row("k", 2), row("k", 3), 100), RecheckVerdict::kStillMoving);
}

}  // namespace
}  // namespace busbar::host
