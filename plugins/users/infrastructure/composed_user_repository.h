// ComposedUserRepository: reads from memory, writes to the persistent repository.
//
// Every write is applied to the in-memory copy as soon as the database committed it, so a read
// on this server sees it when the response goes out; events from other servers keep the copy
// current (refresh = incremental applies each one; refresh = reload reloads the whole table, as
// the original design did). Preload and resynchronizations reload the whole table, and the
// database wins over what the copy held. Reads keep working from memory while the database is
// down. Thread-safe.
#pragma once

#include "domain/persistent_user_repository.h"
#include "domain/user_events.h"
#include "infrastructure/in_memory_user_repository.h"

namespace busbar::users {

enum class RefreshMode { kIncremental, kReload };

class ComposedUserRepository : public UserRepository {
 public:
  ComposedUserRepository(PersistentUserRepository& persistent, InMemoryUserRepository& memory,
                         RefreshMode mode)
      : persistent_(persistent), memory_(memory), mode_(mode) {}

  std::optional<User> find(const std::string& id) override { return memory_.find(id); }
  std::vector<User> list(size_t limit, size_t offset) override {
    return memory_.list(limit, offset);
  }
  SaveResult save(const std::string& id, const std::string& name,
                  const std::optional<std::string>& email) override;
  std::optional<int64_t> remove(const std::string& id) override;

  // A user event arrived (from this server or another one).
  void onChange(const UserChange& change);

  // Loads the whole table from the persistent repository; the database wins over what was held
  // before. On storage failure throws and keeps the copy.
  void reload();

 private:
  PersistentUserRepository& persistent_;
  InMemoryUserRepository& memory_;
  const RefreshMode mode_;
};

}  // namespace busbar::users
