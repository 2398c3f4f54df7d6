// UserRepository: where users live, as the domain sees it.
//
// Implementations are thread-safe. Writes return the stored version, so that the event that
// reports a write carries it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/user.h"

namespace busbar::users {

struct SaveResult {
  User user;     // as stored, with its new version
  bool created;  // true when no live user had this id before
};

class UserRepository {
 public:
  virtual ~UserRepository() = default;

  // The live user with this id, or nothing.
  virtual std::optional<User> find(const std::string& id) = 0;

  // Live users sorted by id, `limit` of them after skipping `offset`.
  virtual std::vector<User> list(size_t limit, size_t offset) = 0;

  // Creates or replaces the user; increments its version. On a storage failure throws.
  virtual SaveResult save(const std::string& id, const std::string& name,
                          const std::optional<std::string>& email) = 0;

  // Deletes the live user; returns the version of the deletion, or nothing when there was none.
  virtual std::optional<int64_t> remove(const std::string& id) = 0;
};

}  // namespace busbar::users
