// A busbar on the embedded default (local transport + SQLite) in a folder of its own.
#pragma once

#include <memory>
#include <string>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "server_process.h"

namespace busbar::testing {

// host.conf text for local + sqlite + users with the database in `dir`; `extra` is appended
// (e.g. "[users]\nrefresh = reload\n").
inline std::string sqliteConfig(const std::string& dir, const std::string& extra = "",
                                const std::string& event_bus = "async_pass_through = true\n") {
  return "[host]\nplugins = local, sqlite, users\n"
         "[event_bus]\ntransport = local\nexchanges.events = busbar.events\n"
         "router._all = events\n" +
         event_bus + "[storage]\ndriver = sqlite\nsqlite.path = " + dir + "/busbar.db\n" + extra;
}

inline Poco::JSON::Object::Ptr parseObject(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

}  // namespace busbar::testing
