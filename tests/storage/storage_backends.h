// The storage backends under test, opened the way the plugins open them: from a [storage]
// config section, with the servers named by the BUSBAR_TEST_MYSQL_* and BUSBAR_TEST_PG_*
// variables that scripts/services/{mariadb,postgresql}.sh print.
//
// Free functions; thread-safe (the sqlite folder is created once per process).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "busbar/config.h"
#include "poco_data_connection.h"
#include "sql_event_log.h"

namespace busbar::testing {

// The drivers this build has: "sqlite", and "mysql" and "postgresql" when built.
std::vector<std::string> storageDrivers();

// storageDrivers() less sqlite: the backends with a server, whose sessions can break.
std::vector<std::string> serverStorageDrivers();

// The [storage] keys for `driver` (server keys from the environment; a fresh database file for
// sqlite), with `overrides` on top (an empty value removes a key). Throws std::runtime_error
// naming the variable when one is missing.
std::map<std::string, std::string> storageKeys(
    const std::string& driver, const std::map<std::string, std::string>& overrides = {});

// A [storage] section holding `keys`, as the host would hand it to the plugin.
ConfigSection storageSection(const std::map<std::string, std::string>& keys);

// A Connection for `driver` made by the backend's core library from storageSection(keys).
std::shared_ptr<sql::PocoDataConnection> openStorageFrom(
    const std::string& driver, const std::map<std::string, std::string>& keys);

// openStorageFrom with storageKeys(driver, overrides); ready to use (the sqlite file is opened).
std::shared_ptr<sql::PocoDataConnection> openStorage(
    const std::string& driver, const std::map<std::string, std::string>& overrides = {});

// The event log's storage for `driver` over `storage`, as the backend's plugin provides it.
std::shared_ptr<sql::SqlEventLog> eventLogOf(const std::string& driver,
                                             std::shared_ptr<sql::PocoDataConnection> storage);

// A table name no other test uses: "t_<prefix>_<random hex>", lower case.
std::string uniqueTableName(const std::string& prefix);

}  // namespace busbar::testing
