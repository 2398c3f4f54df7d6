// User: the aggregate of the users module, and the rules for its fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace busbar::users {

struct User {
  std::string id;
  std::string name;
  std::optional<std::string> email;
  int64_t version = 0;  // incremented by every write, deletes included

  bool operator==(const User& other) const {
    return id == other.id && name == other.name && email == other.email && version == other.version;
  }
};

// A user as stored: deleted users stay as tombstones so that versions never go back.
struct UserRecord {
  User user;
  bool deleted = false;
};

inline constexpr size_t kMaxIdLength = 64;
inline constexpr size_t kMaxNameLength = 100;   // characters, not bytes
inline constexpr size_t kMaxEmailLength = 254;  // characters, the SMTP limit

// Each returns an empty string when the value is valid, else what is wrong with it.
std::string checkUserId(const std::string& id);
std::string checkUserName(const std::string& name);
std::string checkUserEmail(const std::string& email);

// Number of code points of valid UTF-8 text, or nullopt when it is not valid UTF-8.
std::optional<size_t> countUtf8(const std::string& text);

}  // namespace busbar::users
