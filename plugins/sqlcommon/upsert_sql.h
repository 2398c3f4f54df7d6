// The parts of an upsert statement that every dialect writes the same way.
#pragma once

#include <string>
#include <vector>

namespace busbar::sql {

struct UpsertParts {
  std::string names;                  // "a, b, c"
  std::string placeholders;           // "?, ?, ?"
  std::string keys;                   // "a"
  std::vector<std::string> non_keys;  // b, c: what a conflict updates
};

// Splits already quoted `columns` (in binding order) by `keys`.
UpsertParts upsertParts(const std::vector<std::string>& columns,
                        const std::vector<std::string>& keys);

// INSERT ... ON CONFLICT (keys) DO UPDATE SET c = <excluded>.c, or DO NOTHING with only keys:
// the form of SQLite 3.24+ ("excluded") and PostgreSQL 9.5+ ("EXCLUDED").
std::string onConflictUpsert(const std::string& table, const std::vector<std::string>& columns,
                             const std::vector<std::string>& keys, const std::string& excluded);

}  // namespace busbar::sql
