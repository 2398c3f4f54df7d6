// UserService: the use cases of users (put, get, list, delete), independent of HTTP and storage.
//
// Writes go to the repository, which publishes the event of each write with it. Thread-safe when
// its parts are.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/user_repository.h"

namespace busbar::users {

class UserService {
 public:
  explicit UserService(UserRepository& repository) : repository_(repository) {}

  // Creates or replaces the user and publishes UserWasCreated or UserWasUpdated.
  SaveResult put(const std::string& id, const std::string& name,
                 const std::optional<std::string>& email);

  std::optional<User> get(const std::string& id) { return repository_.find(id); }

  std::vector<User> list(size_t limit, size_t offset) { return repository_.list(limit, offset); }

  // Deletes the user and publishes UserWasDeleted. Returns false when there was no such user.
  bool remove(const std::string& id);

 private:
  UserRepository& repository_;
};

}  // namespace busbar::users
