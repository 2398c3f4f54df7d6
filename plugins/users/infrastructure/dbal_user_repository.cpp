#include "infrastructure/dbal_user_repository.h"

#include <utility>

#include "busbar/errors.h"

namespace busbar::users {
namespace {

const char* kTable = "users";
constexpr int kMaxAttempts = 50;

// Another writer changed the row between our read and our update.
struct VersionMoved {};

UserRecord toRecord(const Row& row) {
  UserRecord record;
  record.user.id = asText(row.at("id"));
  record.user.name = asText(row.at("name"));
  const Value& email = row.at("email");
  if (!isNull(email)) record.user.email = asText(email);
  record.user.version = asInt(row.at("version"));
  record.deleted = asInt(row.at("deleted")) != 0;
  return record;
}

Value emailValue(const std::optional<std::string>& email) {
  return email ? Value(*email) : Value(std::monostate{});
}

template <typename Work>
auto withRetries(Work work) {
  for (int attempt = 1;; ++attempt) {
    try {
      return work();
    } catch (const VersionMoved&) {
      if (attempt >= kMaxAttempts) {
        throw StorageError("user row kept changing under " + std::to_string(kMaxAttempts) +
                           " attempts to write it");
      }
    } catch (const DuplicateKey&) {
      // Another writer created the row first: retry as an update.
      if (attempt >= kMaxAttempts) throw;
    } catch (const TransactionConflict&) {
      // A deadlock or a serialization failure with another writer of the same rows: the
      // transaction was rolled back, and running it again writes after the other one.
      if (attempt >= kMaxAttempts) throw;
    }
  }
}

}  // namespace

std::optional<User> DbalUserRepository::find(const std::string& id) {
  auto row = connection_->findOne(kTable, {{"id", id}, {"deleted", int64_t{0}}});
  if (!row) return std::nullopt;
  return toRecord(*row).user;
}

std::vector<User> DbalUserRepository::list(size_t limit, size_t offset) {
  FindOptions options;
  options.order_by = {"id"};
  options.limit = static_cast<int64_t>(limit);
  options.offset = static_cast<int64_t>(offset);
  std::vector<User> users;
  for (const auto& row : connection_->findAll(kTable, {{"deleted", int64_t{0}}}, options)) {
    users.push_back(toRecord(row).user);
  }
  return users;
}

SaveResult DbalUserRepository::save(const std::string& id, const std::string& name,
                                    const std::optional<std::string>& email) {
  return withRetries([&] {
    SaveResult result{};
    connection_->transaction(
        [&](Connection& tx) { writeAfterReading(tx, id, name, email, result); });
    return result;
  });
}

SaveResult DbalUserRepository::saveOver(const UserRecord& stored, const std::string& name,
                                        const std::optional<std::string>& email) {
  bool first = true;
  return withRetries([&] {
    // A retry follows a conflict: the row moved, so it is read.
    const bool guess = std::exchange(first, false);
    SaveResult result{};
    connection_->transaction([&](Connection& tx) {
      if (guess && writeOver(tx, stored, name, email, result)) return;
      writeAfterReading(tx, stored.user.id, name, email, result);
    });
    return result;
  });
}

void DbalUserRepository::writeAfterReading(Connection& tx, const std::string& id,
                                           const std::string& name,
                                           const std::optional<std::string>& email,
                                           SaveResult& result) {
  auto row = tx.findOne(kTable, {{"id", id}});
  if (!row) {
    tx.insert(kTable, {{"id", id},
                       {"name", name},
                       {"email", emailValue(email)},
                       {"version", int64_t{1}},
                       {"deleted", int64_t{0}}});
    result = SaveResult{User{id, name, email, 1}, true};
    events_.publish(UserChange{UserChangeKind::kCreated, result.user});
    return;
  }
  if (!writeOver(tx, toRecord(*row), name, email, result)) throw VersionMoved{};
}

bool DbalUserRepository::writeOver(Connection& tx, const UserRecord& stored,
                                   const std::string& name, const std::optional<std::string>& email,
                                   SaveResult& result) {
  const int64_t version = stored.user.version + 1;
  // The version alone names the row's state, unless a restored database reused it: the deletion
  // is matched too, since it decides whether the write creates the user.
  auto changed = tx.update(
      kTable,
      {{"name", name}, {"email", emailValue(email)}, {"version", version}, {"deleted", int64_t{0}}},
      {{"id", stored.user.id},
       {"version", stored.user.version},
       {"deleted", int64_t{stored.deleted ? 1 : 0}}});
  if (changed == 0) return false;
  result = SaveResult{User{stored.user.id, name, email, version}, stored.deleted};
  events_.publish(UserChange{result.created ? UserChangeKind::kCreated : UserChangeKind::kUpdated,
                             result.user});
  return true;
}

std::optional<int64_t> DbalUserRepository::remove(const std::string& id) {
  return withRetries([&] {
    std::optional<int64_t> deleted_version;
    connection_->transaction([&](Connection& tx) {
      auto row = tx.findOne(kTable, {{"id", id}});
      if (!row) return;
      UserRecord current = toRecord(*row);
      if (current.deleted) return;
      int64_t version = current.user.version + 1;
      auto changed = tx.update(kTable,
                               {{"name", std::string()},
                                {"email", Value(std::monostate{})},
                                {"version", version},
                                {"deleted", int64_t{1}}},
                               {{"id", id}, {"version", current.user.version}});
      if (changed == 0) throw VersionMoved{};
      deleted_version = version;
      events_.publish(UserChange{UserChangeKind::kDeleted, User{id, "", std::nullopt, version}});
    });
    return deleted_version;
  });
}

std::vector<UserRecord> DbalUserRepository::loadAll() {
  FindOptions options;
  options.order_by = {"id"};
  std::vector<UserRecord> records;
  auto rows = connection_->findAll(kTable, {}, options);
  records.reserve(rows.size());
  for (const auto& row : rows) records.push_back(toRecord(row));
  return records;
}

std::vector<UserRecord> DbalUserRepository::loadAfter(const std::string& after, size_t limit) {
  // A range of the primary key's index: the DBAL's findAll matches by equality only.
  auto result = connection_->execute(
      "SELECT id, name, email, version, deleted FROM users WHERE id > ? ORDER BY id LIMIT " +
          std::to_string(limit),
      {Value(after)});
  std::vector<UserRecord> records;
  records.reserve(result.rows.size());
  for (const auto& row : result.rows) records.push_back(toRecord(row));
  return records;
}

std::optional<UserRecord> DbalUserRepository::load(const std::string& id) {
  auto row = connection_->findOne(kTable, {{"id", id}});
  if (!row) return std::nullopt;
  return toRecord(*row);
}

std::vector<Migration> DbalUserRepository::migrations() {
  Migration create;
  create.number = 1;
  create.description = "create table users";
  create.apply = [](Connection& connection) {
    TableSchema schema;
    schema.name = kTable;
    schema.columns = {{"id", ColumnType::kText, static_cast<int>(kMaxIdLength), false},
                      {"name", ColumnType::kText, static_cast<int>(kMaxNameLength), false},
                      {"email", ColumnType::kText, static_cast<int>(kMaxEmailLength), true},
                      {"version", ColumnType::kInteger, 0, false},
                      {"deleted", ColumnType::kInteger, 0, false}};
    schema.primary_key = {"id"};
    connection.createTable(schema);
  };
  return {create};
}

}  // namespace busbar::users
