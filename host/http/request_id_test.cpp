#include "http/request_id.h"

#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <set>
#include <string>

namespace busbar::host {
namespace {

// splitmix64 of the generator's next state, written out the slow way.
std::string expectedId(uint64_t seed) {
  uint64_t value = seed + 0x9E3779B97F4A7C15ULL;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
  value ^= value >> 31;
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, value);
  return text;
}

TEST(RequestIdTest, AClientsIdIsTakenOnlyWhenItGoesIntoLogsAsItIs) {
  EXPECT_TRUE(RequestId::acceptable("9b2f8c1e-4d3a-4f6b-8e7d-1a2b3c4d5e6f"));
  EXPECT_TRUE(RequestId::acceptable("trace:abc/123+=_."));
  EXPECT_TRUE(RequestId::acceptable(std::string(64, 'x')));
  EXPECT_FALSE(RequestId::acceptable(""));
  EXPECT_FALSE(RequestId::acceptable(std::string(65, 'x')));
  EXPECT_FALSE(RequestId::acceptable("has space"));
  EXPECT_FALSE(RequestId::acceptable("quote\"d"));
  EXPECT_FALSE(RequestId::acceptable("back\\slash"));
  EXPECT_FALSE(RequestId::acceptable("tab\there"));
  EXPECT_FALSE(RequestId::acceptable("caf\xc3\xa9"));
}

TEST(RequestIdTest, TheHeaderLineCarriesTheIdWhole) {
  RequestId id;
  EXPECT_TRUE(id.empty());
  id.assign("abc-1");
  EXPECT_EQ(id.view(), "abc-1");
  EXPECT_EQ(id.headerLine(), "X-Request-Id: abc-1\r\n");
  RequestId copy = id;
  id.assign("other");
  EXPECT_EQ(copy.headerLine(), "X-Request-Id: abc-1\r\n");
  copy.clear();
  EXPECT_TRUE(copy.empty());
}

TEST(RequestIdTest, GeneratedIdsAreSixteenHexDigitsOfSplitmix) {
  for (uint64_t seed : {0ULL, 1ULL, 0xFFFFFFFFFFFFFFFFULL, 0x0123456789ABCDEFULL}) {
    RequestIdGenerator generator(seed);
    RequestId id;
    generator.next(id);
    EXPECT_EQ(id.view(), expectedId(seed)) << seed;
  }
}

TEST(RequestIdTest, AGeneratorNeverRepeatsItselfAndTwoDoNotAgree) {
  RequestIdGenerator first;
  RequestIdGenerator second;
  std::set<std::string> seen;
  RequestId id;
  for (int i = 0; i < 100000; ++i) {
    first.next(id);
    ASSERT_TRUE(seen.insert(std::string(id.view())).second) << id.view();
  }
  second.next(id);
  EXPECT_EQ(seen.count(std::string(id.view())), 0u);
}

}  // namespace
}  // namespace busbar::host
