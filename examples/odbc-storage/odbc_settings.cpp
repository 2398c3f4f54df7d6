#include "odbc_settings.h"

#include <algorithm>
#include <cctype>

namespace odbc_storage {
namespace {

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

std::string withoutPassword(const std::string& connection) {
  // Attributes are KEY=VALUE separated by ';'; a value in braces may hold ';'.
  std::string out;
  std::size_t at = 0;
  while (at < connection.size()) {
    std::size_t equals = connection.find('=', at);
    if (equals == std::string::npos) {
      out += connection.substr(at);
      break;
    }
    std::size_t end = equals + 1;
    if (end < connection.size() && connection[end] == '{') {
      end = connection.find('}', end);
      end = end == std::string::npos ? connection.size() : end + 1;
    }
    end = std::min(connection.find(';', end), connection.size());
    const std::string key = upper(trimmed(connection.substr(at, equals - at)));
    out += connection.substr(at, equals + 1 - at);
    out +=
        key == "PWD" || key == "PASSWORD" ? "***" : connection.substr(equals + 1, end - equals - 1);
    if (end < connection.size()) out += ';';
    at = end + 1;
  }
  return out;
}

OdbcSettings readOdbcSettings(const busbar::ConfigSection& section) {
  section.rejectUnknownKeys(
      {"driver", "odbc.connection", "pool.max", "connect_timeout", "idle_transaction_timeout"});
  OdbcSettings settings;
  settings.connection = section.getString("odbc.connection");
  if (settings.connection.empty()) {
    section.fail(
        "odbc.connection",
        "is required: an ODBC connection string, e.g. odbc.connection = DRIVER={PostgreSQL "
        "Unicode};SERVER=127.0.0.1;PORT=5432;DATABASE=busbar;UID=busbar;PWD=secret, or "
        "DSN=<a data source of odbc.ini>",
        "nothing");
  }
  const std::string keys = upper(settings.connection);
  if (keys.find("DRIVER=") == std::string::npos && keys.find("DSN=") == std::string::npos) {
    section.fail("odbc.connection",
                 "must name a DRIVER={...} (see odbcinst -q -d) or a DSN=... (see odbcinst -q -s); "
                 "e.g. DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;DATABASE=busbar;UID=busbar",
                 "'" + withoutPassword(settings.connection) + "'");
  }
  for (const char* attribute :
       {"Protocol=7.4-2", "MaxVarcharSize=10485760", "MaxLongVarcharSize=1048576"}) {
    const std::string name =
        upper(std::string(attribute).substr(0, std::string(attribute).find('=') + 1));
    if (keys.find(name) != std::string::npos) continue;  // the operator's own value wins
    if (settings.connection.back() != ';') settings.connection += ';';
    settings.connection += attribute;
  }
  settings.described = withoutPassword(settings.connection);
  settings.pool_max = static_cast<int>(section.getInt("pool.max", 16, 1, 1024));
  settings.connect_timeout_seconds = static_cast<int>(section.getInt("connect_timeout", 5, 1, 300));
  settings.idle_transaction_timeout_seconds =
      static_cast<int>(section.getInt("idle_transaction_timeout", 1, 0, 3600));
  return settings;
}

}  // namespace odbc_storage
