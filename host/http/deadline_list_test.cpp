#include "http/deadline_list.h"

#include <gtest/gtest.h>

#include <vector>

namespace busbar::host {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Entry : DeadlineEntry {
  explicit Entry(int id) : id(id) {}
  int id;
};

// The ids of `list`'s entries from the earliest on, taking each out.
std::vector<int> drain(DeadlineList& list) {
  std::vector<int> ids;
  while (auto* first = list.earliest()) {
    ids.push_back(static_cast<Entry*>(first)->id);
    first->disarm();
  }
  return ids;
}

TEST(DeadlineListTest, EntriesExpireInTheOrderTheyWereArmed) {
  DeadlineList list(10s);
  Entry a(1), b(2), c(3);
  const auto now = Clock::now();
  list.arm(a, now);
  list.arm(b, now + 1ms);
  list.arm(c, now + 2ms);
  EXPECT_EQ(a.deadline(), now + 10s);
  EXPECT_EQ(drain(list), (std::vector<int>{1, 2, 3}));
}

TEST(DeadlineListTest, ReArmingMovesAnEntryToTheBackAndDisarmingTakesItOut) {
  DeadlineList list(10s), other(1s);
  Entry a(1), b(2), c(3);
  const auto now = Clock::now();
  list.arm(a, now);
  list.arm(b, now);
  list.arm(c, now);
  list.arm(a, now + 5ms);  // a request on `a` re-arms it
  b.disarm();              // from the middle
  other.arm(c, now);       // to another list: leaves this one
  EXPECT_EQ(other.earliest(), &c);
  EXPECT_EQ(drain(list), (std::vector<int>{1}));
  EXPECT_EQ(drain(other), (std::vector<int>{3}));
  b.disarm();  // twice is harmless
}

TEST(DeadlineListTest, AnEntryDestroyedWhileArmedLeavesItsList) {
  DeadlineList list(10s);
  Entry kept(1);
  {
    Entry gone(2);
    list.arm(gone, Clock::now());
    list.arm(kept, Clock::now());
  }
  EXPECT_EQ(drain(list), (std::vector<int>{1}));
}

}  // namespace
}  // namespace busbar::host
