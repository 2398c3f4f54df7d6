// Test support: a database of one's own on the shared MariaDB or PostgreSQL server that
// scripts/services started, for tests whose tables have fixed names (the event log, the users
// table of a test cluster).
#pragma once

#include <map>
#include <string>

namespace busbar::testing {

// Creates a database and a user of their own with `scripts/services/<service>.sh database`
// for the storage driver `driver` ("mysql" or "postgresql") and returns the [storage] keys that
// reach it: driver, host, port, database, user, password. Throws std::runtime_error when the
// script fails (the server is not started?).
std::map<std::string, std::string> createServiceDatabase(const std::string& driver);

}  // namespace busbar::testing
