#include "statement_cache.h"

#include <cctype>

namespace busbar::sql {
namespace {

// The statement's first word, in upper case.
std::string firstWord(const std::string& sql) {
  std::size_t start = sql.find_first_not_of(" \t\r\n(");
  if (start == std::string::npos) return "";
  std::size_t end = sql.find_first_of(" \t\r\n", start);
  std::string word = sql.substr(start, end == std::string::npos ? std::string::npos : end - start);
  for (auto& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return word;
}

}  // namespace

bool changesSchema(const std::string& sql) {
  const std::string verb = firstWord(sql);
  return verb == "CREATE" || verb == "ALTER" || verb == "DROP" || verb == "RENAME";
}

bool isRead(const std::string& sql) {
  const std::string verb = firstWord(sql);
  return verb == "SELECT" || verb == "SHOW";
}

}  // namespace busbar::sql
