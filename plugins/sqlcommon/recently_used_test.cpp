#include "recently_used.h"

#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace busbar::sql {
namespace {

// A value that counts the live copies of what it holds, as a prepared handle would.
struct Held {
  std::shared_ptr<int> token;
};

// Keys longer than any string's inline buffer: a view of a moved-from key would dangle.
std::string longKey(int i) {
  return "SELECT id, name, version FROM users WHERE id = ? -- statement " + std::to_string(i);
}

TEST(RecentlyUsedTest, FindsWhatWasAddedAndNothingElse) {
  RecentlyUsed<int> values;
  values.add("SELECT 1", 1);
  const int& added = values.add(longKey(2), 2);
  EXPECT_EQ(&added, values.use(longKey(2))) << "add gives the value it kept";
  ASSERT_NE(values.use("SELECT 1"), nullptr);
  EXPECT_EQ(*values.use("SELECT 1"), 1);
  EXPECT_EQ(*values.use(longKey(2)), 2);
  EXPECT_EQ(values.use("SELECT 3"), nullptr);
  EXPECT_EQ(values.size(), 2u);
}

TEST(RecentlyUsedTest, TheLeastRecentlyUsedIsTheOneUsedLongestAgo) {
  RecentlyUsed<int> values;
  values.add("a", 1);
  values.add("b", 2);
  values.add("c", 3);
  values.use("a");  // b is now the oldest, then c, then a
  EXPECT_EQ(values.removeLeastRecentlyUsed(), 2);
  EXPECT_EQ(values.removeLeastRecentlyUsed(), 3);
  EXPECT_EQ(values.use("b"), nullptr);
  EXPECT_EQ(values.removeLeastRecentlyUsed(), 1);
  EXPECT_TRUE(values.empty());
  EXPECT_EQ(values.removeLeastRecentlyUsed(), std::nullopt);
}

TEST(RecentlyUsedTest, RemoveHandsTheValueBackAndForgetsItsKey) {
  RecentlyUsed<std::string> values;
  values.add("a", "busbar_1");
  values.add("b", "busbar_2");
  EXPECT_EQ(values.remove("a"), "busbar_1");
  EXPECT_EQ(values.use("a"), nullptr);
  EXPECT_EQ(values.remove("a"), std::nullopt) << "removed twice";
  values.add("a", "busbar_3");  // the key can be used again
  EXPECT_EQ(*values.use("a"), "busbar_3");
  EXPECT_EQ(values.removeLeastRecentlyUsed(), "busbar_2");
}

TEST(RecentlyUsedTest, ValuesAreReleasedWhenRemovedClearedOrDestroyed) {
  auto token = std::make_shared<int>(0);
  {
    RecentlyUsed<Held> values;
    values.add("a", Held{token});
    values.add("b", Held{token});
    values.add("c", Held{token});
    EXPECT_EQ(token.use_count(), 4);
    values.remove("a");
    EXPECT_EQ(token.use_count(), 3);
    values.clear();
    EXPECT_EQ(token.use_count(), 1);
    EXPECT_EQ(values.use("b"), nullptr) << "cleared";
    EXPECT_EQ(values.size(), 0u);
    values.add("d", Held{token});
    EXPECT_EQ(token.use_count(), 2);
  }
  EXPECT_EQ(token.use_count(), 1) << "the destructor releases what is left";
}

TEST(RecentlyUsedTest, AKeyAddedTwiceIsRefusedAndItsValueReleased) {
  auto token = std::make_shared<int>(0);
  RecentlyUsed<Held> values;
  values.add("a", Held{token});
  EXPECT_THROW(values.add("a", Held{token}), std::logic_error);
  EXPECT_EQ(token.use_count(), 2) << "the refused value is released, the kept one stays";
  EXPECT_EQ(values.size(), 1u);
  EXPECT_EQ(values.removeLeastRecentlyUsed()->token, token);
  EXPECT_TRUE(values.empty());
}

TEST(RecentlyUsedTest, KeysStayFindableThroughManyAddsAndRemoves) {
  // The index views keys stored in the list's nodes: rehashing and removing others moves none.
  RecentlyUsed<int> values;
  for (int i = 0; i < 2000; ++i) values.add(longKey(i), i);
  for (int i = 0; i < 2000; i += 2) EXPECT_EQ(values.remove(longKey(i)), i);
  for (int i = 1; i < 2000; i += 2) {
    const int* found = values.use(longKey(i));
    ASSERT_NE(found, nullptr) << i;
    EXPECT_EQ(*found, i);
  }
  EXPECT_EQ(values.size(), 1000u);
  EXPECT_EQ(values.removeLeastRecentlyUsed(), 1) << "the first used again above";
}

}  // namespace
}  // namespace busbar::sql
