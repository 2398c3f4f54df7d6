// PersistentUserRepository: a UserRepository that outlives the process (a database).
//
// Separate from UserRepository so that the domain, and the composed repository, can ask for a
// persistent one without knowing which infrastructure provides it. Thread-safe.
#pragma once

#include <vector>

#include "domain/user_repository.h"

namespace busbar::users {

class PersistentUserRepository : public UserRepository {
 public:
  // Every stored user, tombstones of deleted ones included, sorted by id: what a cache loads.
  virtual std::vector<UserRecord> loadAll() = 0;
};

}  // namespace busbar::users
