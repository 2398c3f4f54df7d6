#include "upsert_sql.h"

#include <algorithm>

namespace busbar::sql {
namespace {

void append(std::string& list, const std::string& item) {
  list += (list.empty() ? "" : ", ") + item;
}

}  // namespace

UpsertParts upsertParts(const std::vector<std::string>& columns,
                        const std::vector<std::string>& keys) {
  UpsertParts parts;
  for (const auto& column : columns) {
    append(parts.names, column);
    append(parts.placeholders, "?");
    if (std::find(keys.begin(), keys.end(), column) == keys.end()) {
      parts.non_keys.push_back(column);
    }
  }
  for (const auto& key : keys) append(parts.keys, key);
  return parts;
}

std::string onConflictUpsert(const std::string& table, const std::vector<std::string>& columns,
                             const std::vector<std::string>& keys, const std::string& excluded) {
  UpsertParts parts = upsertParts(columns, keys);
  std::string updates;
  for (const auto& column : parts.non_keys)
    append(updates, column + " = " + excluded + "." + column);
  return "INSERT INTO " + table + " (" + parts.names + ") VALUES (" + parts.placeholders +
         ") ON CONFLICT (" + parts.keys + ") DO " +
         (updates.empty() ? std::string("NOTHING") : "UPDATE SET " + updates);
}

}  // namespace busbar::sql
