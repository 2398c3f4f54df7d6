// The domain events of users, and the port through which the application publishes them.
#pragma once

#include "domain/user.h"

namespace busbar::users {

inline constexpr const char* kUserWasCreated = "UserWasCreated";
inline constexpr const char* kUserWasUpdated = "UserWasUpdated";
inline constexpr const char* kUserWasDeleted = "UserWasDeleted";

enum class UserChangeKind { kCreated, kUpdated, kDeleted };

// What one event says: for kDeleted only user.id and user.version are meaningful.
struct UserChange {
  UserChangeKind kind = UserChangeKind::kUpdated;
  User user;

  UserRecord record() const { return UserRecord{user, kind == UserChangeKind::kDeleted}; }
};

// Publishes user changes to whoever listens. Thread-safe.
class UserEventPublisher {
 public:
  virtual ~UserEventPublisher() = default;
  // Hands the change on; never fails the write that caused it.
  virtual void publish(const UserChange& change) = 0;
};

}  // namespace busbar::users
