#include "infrastructure/checked_user_cache.h"

namespace busbar::users {
namespace {

std::vector<CheckedRow> toCheckedRows(const std::vector<UserRecord>& records) {
  std::vector<CheckedRow> rows;
  rows.reserve(records.size());
  for (const auto& record : records) rows.push_back(CheckedUserCache::toCheckedRow(record));
  return rows;
}

std::optional<CheckedRow> checkedRowOf(const std::optional<UserRecord>& record) {
  if (!record) return std::nullopt;
  return CheckedUserCache::toCheckedRow(*record);
}

}  // namespace

CheckedRow CheckedUserCache::toCheckedRow(const UserRecord& record) {
  CheckedRow row;
  row.key = record.user.id;
  row.version = record.user.version;
  row.deleted = record.deleted;
  // A tombstone's fields are cleared in both places; a NUL cannot occur in valid names.
  row.content = record.user.name;
  row.content += '\0';
  row.content += record.user.email ? "=" + *record.user.email : "-";
  return row;
}

std::vector<CheckedRow> CheckedUserCache::cachedAfter(const std::string& after, size_t limit) {
  return toCheckedRows(cached_.recordsAfter(after, limit));
}

std::vector<CheckedRow> CheckedUserCache::storedAfter(const std::string& after, size_t limit) {
  return toCheckedRows(stored_.loadAfter(after, limit));
}

std::optional<CheckedRow> CheckedUserCache::cachedRow(const std::string& key) {
  return checkedRowOf(cached_.record(key));
}

std::optional<CheckedRow> CheckedUserCache::storedRow(const std::string& key) {
  return checkedRowOf(stored_.load(key));
}

bool CheckedUserCache::repair(const std::string& key, const std::optional<CheckedRow>& seen) {
  const std::optional<UserRecord> stored = stored_.load(key);
  return cached_.replaceIf(
      key,
      [&seen](const std::optional<UserRecord>& held) {
        return held.has_value() == seen.has_value() && (!held || toCheckedRow(*held) == *seen);
      },
      stored);
}

}  // namespace busbar::users
