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

  // save() for a caller that holds what it believes is the stored row (a cache): `stored`, with
  // its version and deletion. A repository may write over that row without reading it first, and
  // must read it as save() does when the row is not that any more. The default is save().
  virtual SaveResult saveOver(const UserRecord& stored, const std::string& name,
                              const std::optional<std::string>& email) {
    return save(stored.user.id, name, email);
  }
};

}  // namespace busbar::users
