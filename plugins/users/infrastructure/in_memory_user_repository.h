// InMemoryUserRepository: users in a sorted in-process table, kept current by versions.
//
// apply() takes a record only when its version is newer than what the table holds for that id,
// deletes included (as tombstones), so duplicated or reordered events never roll a user back.
// replaceAll() builds a whole new table from the database outside any lock, merges in what was
// applied while it loaded, and swaps it in: readers never wait for a reload, and the database
// wins over everything held from before the reload (a restored database rolls the copy back).
// Readers share a lock with each other and only wait for the few instructions of a single write
// or swap; a waiting write goes before the readers that come after it, so that reads which never
// pause cannot hold the events off. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "infrastructure/writer_preferring_shared_mutex.h"

#include "domain/user_repository.h"

namespace busbar::users {

class InMemoryUserRepository : public UserRepository {
 public:
  InMemoryUserRepository();

  std::optional<User> find(const std::string& id) override;
  std::vector<User> list(size_t limit, size_t offset) override;
  // Local-only writes (a repository of its own, e.g. in tests): increment the held version.
  SaveResult save(const std::string& id, const std::string& name,
                  const std::optional<std::string>& email) override;
  std::optional<int64_t> remove(const std::string& id) override;

  // What the table holds for `id`, a deleted user's tombstone included; nullopt when nothing.
  std::optional<UserRecord> record(const std::string& id) const;

  // Stores the record if its version is newer than the held one. Returns whether it did.
  bool apply(const UserRecord& record);

  // Replaces the table by the records `load` returns (every user, tombstones included, sorted by
  // id), except entries applied while `load` ran that are newer than its records. The records'
  // strings move into the table and their memory is returned before the call ends. On failure of
  // `load` throws and keeps the table.
  void replaceAll(const std::function<std::vector<UserRecord>()>& load);

  // Number of live users.
  size_t size() const;

  // Up to `limit` records with ids after `after` ("" = from the first), tombstones included, in
  // id order (byte order).
  std::vector<UserRecord> recordsAfter(const std::string& after, size_t limit) const;

  // Puts `replacement` in place of what the table holds for `id` (nothing: removes the entry),
  // whatever the versions, if `expected(held)` is true of what it holds now (nothing when it holds
  // nothing) and no reload is loading. Returns whether it did. For repairs: the database wins, but
  // never over a change applied since the caller looked.
  bool replaceIf(const std::string& id,
                 const std::function<bool(const std::optional<UserRecord>& held)>& expected,
                 const std::optional<UserRecord>& replacement);

 private:
  struct Entry {
    int64_t version = 0;
    bool deleted = false;
    std::string name;
    std::optional<std::string> email;
  };
  using Table = std::map<std::string, Entry, std::less<>>;

  static User toUser(const std::string& id, const Entry& entry);
  // Stores `record` in `table` if newer; the caller holds what protects `table`.
  static bool applyTo(Table& table, const UserRecord& record, size_t& live);
  // The same for a record inserted near `hint` (a sorted load), moving its strings.
  static bool applyTo(Table& table, Table::const_iterator hint, UserRecord&& record, size_t& live);

  // Readers shared; a write or a swap exclusive, and before readers that come after it.
  mutable WriterPreferringSharedMutex table_mutex_;
  std::mutex writer_mutex_;  // one writer at a time, a reload's merge included
  std::unique_ptr<Table> table_;
  size_t live_ = 0;
  // Under writer_mutex_: reloads loading now, and the ids applied since the first of them began.
  int reloads_loading_ = 0;
  std::set<std::string, std::less<>> applied_while_loading_;
};

}  // namespace busbar::users
