#include "events/event_id.h"

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <Poco/UUID.h>

namespace busbar::host {
namespace {

// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in lowercase hex. (Not std::regex: GCC 12 warns
// -Wmaybe-uninitialized inside it with -fsanitize=address.)
bool canonicalUuid(const std::string& id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = id[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(EventIdTest, IsAVersion7UuidInCanonicalForm) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = newEventId();
    EXPECT_TRUE(canonicalUuid(id)) << id;
    Poco::UUID parsed;
    ASSERT_TRUE(parsed.tryParse(id)) << id;
    EXPECT_EQ(parsed.version(), 7) << id;
    EXPECT_EQ(parsed.variant(), 2) << id;
  }
}

TEST(EventIdTest, CarriesTheUnixTimeInMillisecondsFirst) {
  // 2026-12-02 00:00:00.123 UTC is 1796169600123 ms: 0x01a2 340d 0c7b.
  EXPECT_EQ(makeEventId(1796169600123ULL, 0, 0), "01a2340d-0c7b-7000-8000-000000000000");
  EXPECT_EQ(makeEventId(1796169600123ULL, ~0ULL, ~0ULL), "01a2340d-0c7b-7fff-bfff-ffffffffffff");
}

TEST(EventIdTest, LaterIdsCompareGreaterAsText) {
  std::vector<std::string> ids;
  for (uint64_t ms = 1796169600000ULL; ms < 1796169600000ULL + 5000; ms += 7) {
    ids.push_back(makeEventId(ms, ms * 2654435761ULL, ms * 11400714819323198485ULL));
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));

  const std::string before = newEventId();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_LT(before, newEventId());
}

TEST(EventIdTest, IdsDrawnAtOnceOnManyThreadsAreDistinct) {
  constexpr int kThreads = 8;
  constexpr int kEach = 20000;
  std::vector<std::vector<std::string>> drawn(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&drawn, t] {
      for (int i = 0; i < kEach; ++i) drawn[t].push_back(newEventId());
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> distinct;
  for (const auto& ids : drawn) distinct.insert(ids.begin(), ids.end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads * kEach));
}

}  // namespace
}  // namespace busbar::host
