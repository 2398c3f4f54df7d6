// CheckedUserCache: the users cache as the host's consistency observer checks it
// (busbar/consistency.h): pages and rows of the in-memory table beside the same of the `users`
// table, and repairs that put the database's row in the cache unless a newer change came first.
// A row's content is its name and email, in one fixed encoding. Thread-safe, as its parts are.
#pragma once

#include "busbar/consistency.h"
#include "infrastructure/dbal_user_repository.h"
#include "infrastructure/in_memory_user_repository.h"

namespace busbar::users {

class CheckedUserCache : public CheckedCache {
 public:
  // Both must outlive this object.
  CheckedUserCache(DbalUserRepository& stored, InMemoryUserRepository& cached)
      : stored_(stored), cached_(cached) {}

  std::string table() const override { return "users"; }
  std::vector<CheckedRow> cachedAfter(const std::string& after, size_t limit) override;
  std::vector<CheckedRow> storedAfter(const std::string& after, size_t limit) override;
  std::optional<CheckedRow> cachedRow(const std::string& key) override;
  std::optional<CheckedRow> storedRow(const std::string& key) override;
  bool repair(const std::string& key, const std::optional<CheckedRow>& seen) override;

  // `record` as the observer compares it.
  static CheckedRow toCheckedRow(const UserRecord& record);

 private:
  DbalUserRepository& stored_;
  InMemoryUserRepository& cached_;
};

}  // namespace busbar::users
