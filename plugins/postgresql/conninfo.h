// Values of a libpq connection string (conninfo), as Poco's PostgreSQL connector hands it over.
#pragma once

#include <string>

namespace busbar::postgresql {

// `value` in single quotes, with quotes and backslashes escaped. Poco splits the string at
// spaces before libpq reads it, so a value with a space cannot be carried at all: the settings
// refuse those.
inline std::string conninfoValue(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace busbar::postgresql
