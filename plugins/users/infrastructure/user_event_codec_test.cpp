#include "infrastructure/user_event_codec.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace busbar::users {
namespace {

TEST(UserEventCodecTest, RoundTripsEveryKind) {
  User user{"alice", "Alice", std::string("a@x.io"), 7};
  for (auto kind : {UserChangeKind::kCreated, UserChangeKind::kUpdated}) {
    Event event = toEvent(UserChange{kind, user});
    EXPECT_EQ(event.version, 7);
    UserChange back = fromEvent(event);
    EXPECT_EQ(back.kind, kind);
    EXPECT_EQ(back.user, user);
  }
  Event deleted = toEvent(UserChange{UserChangeKind::kDeleted, User{"alice", "", std::nullopt, 8}});
  EXPECT_EQ(deleted.type, "UserWasDeleted");
  EXPECT_FALSE(deleted.payload->has("name"));
  UserChange back = fromEvent(deleted);
  EXPECT_EQ(back.kind, UserChangeKind::kDeleted);
  EXPECT_TRUE(back.record().deleted);
  EXPECT_EQ(back.user.version, 8);
}

TEST(UserEventCodecTest, JsonHasTheDocumentedFieldsInOrder) {
  std::ostringstream out;
  userToJson(User{"a", "A", std::nullopt, 1})->stringify(out);
  EXPECT_EQ(out.str(), R"({"id":"a","name":"A","email":null,"version":1})");
}

TEST(UserEventCodecTest, RefusesPayloadsThatAreNotUsers) {
  auto event = [](const std::string& type, const std::string& json_setup) {
    Event e;
    e.type = type;
    if (json_setup == "no-id") {
      e.payload->set("name", "x");
      e.payload->set("version", 1);
    } else if (json_setup == "bad-id") {
      e.payload->set("id", "a b");
      e.payload->set("name", "x");
      e.payload->set("version", 1);
    } else if (json_setup == "string-version") {
      e.payload->set("id", "a");
      e.payload->set("name", "x");
      e.payload->set("version", "1");
    } else if (json_setup == "zero-version") {
      e.payload->set("id", "a");
      e.payload->set("name", "x");
      e.payload->set("version", 0);
    } else if (json_setup == "version-past-int64") {  // found by the user_input fuzz target
      e.payload->set("id", "a");
      e.payload->set("name", "x");
      e.payload->set("version", Poco::UInt64{9223372036854775808ULL});
    } else if (json_setup == "no-name") {
      e.payload->set("id", "a");
      e.payload->set("version", 1);
    } else if (json_setup == "bad-email") {
      e.payload->set("id", "a");
      e.payload->set("name", "x");
      e.payload->set("email", "nope");
      e.payload->set("version", 1);
    }
    return e;
  };
  for (const char* setup : {"no-id", "bad-id", "string-version", "zero-version",
                            "version-past-int64", "no-name", "bad-email"}) {
    EXPECT_THROW(fromEvent(event("UserWasUpdated", setup)), std::invalid_argument) << setup;
  }
  try {
    fromEvent(event("UserWasCreated", "version-past-int64"));
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(),
                 "UserWasCreated payload 'version' must be an integer from 1 to "
                 "9223372036854775807; found 9223372036854775808");
  }
  EXPECT_THROW(fromEvent(event("OrderWasPlaced", "")), std::invalid_argument);
  Event null_payload;
  null_payload.type = "UserWasCreated";
  null_payload.payload = nullptr;
  EXPECT_THROW(fromEvent(null_payload), std::invalid_argument);
}

}  // namespace
}  // namespace busbar::users
