// DbalUserRepository: users in the `users` table, through the SDK storage Connection.
//
// Portable across backends: no SQL of its own. A write reads the row and updates it only if its
// version did not move meanwhile (optimistic concurrency), inside one transaction, retrying on a
// conflict; so concurrent writers of one user each get their own version. saveOver() skips the
// read when the row is still what the caller holds: one round trip fewer per write. The event that
// reports the write is published inside the same transaction, so that it commits with the write
// (the host's event log) and goes out only if the write did. Deletes keep the row as a tombstone
// (deleted = 1, personal fields cleared) so that versions never go back. Thread-safe.
#pragma once

#include <memory>

#include "busbar/migrations.h"
#include "busbar/storage.h"
#include "domain/persistent_user_repository.h"
#include "domain/user_events.h"

namespace busbar::users {

class DbalUserRepository : public PersistentUserRepository {
 public:
  // `events` must outlive the repository.
  DbalUserRepository(std::shared_ptr<Connection> connection, UserEventPublisher& events)
      : connection_(std::move(connection)), events_(events) {}

  std::optional<User> find(const std::string& id) override;
  std::vector<User> list(size_t limit, size_t offset) override;
  SaveResult save(const std::string& id, const std::string& name,
                  const std::optional<std::string>& email) override;
  std::optional<int64_t> remove(const std::string& id) override;
  std::vector<UserRecord> loadAll() override;
  SaveResult saveOver(const UserRecord& stored, const std::string& name,
                      const std::optional<std::string>& email) override;

  // Up to `limit` stored users with ids after `after` ("" = from the first), tombstones included,
  // in id order (byte order: text columns compare bytes on every backend).
  std::vector<UserRecord> loadAfter(const std::string& after, size_t limit);

  // The stored user `id`, a tombstone included, or nothing.
  std::optional<UserRecord> load(const std::string& id);

  // The schema of the users table, as numbered migrations.
  static std::vector<Migration> migrations();

 private:
  // In `tx`: writes the user over the row as read now, into `result`; throws VersionMoved when
  // another writer changes the row between the read and the write.
  void writeAfterReading(Connection& tx, const std::string& id, const std::string& name,
                         const std::optional<std::string>& email, SaveResult& result);
  // In `tx`: writes the user over the row if it is `stored`, into `result`. Returns false,
  // having written nothing, when it is not.
  bool writeOver(Connection& tx, const UserRecord& stored, const std::string& name,
                 const std::optional<std::string>& email, SaveResult& result);

  std::shared_ptr<Connection> connection_;
  UserEventPublisher& events_;
};

}  // namespace busbar::users
