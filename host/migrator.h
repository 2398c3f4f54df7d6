// Migrator: the host's Migrations; applies what the database lacks, once, across servers.
//
// Each migration runs in its own transaction that first claims its row in busbar_migrations
// (primary key module + number), applies the change, then stamps the row's applied_at. Two
// servers starting at once do not both apply it: the second's claim waits for the first's
// transaction and fails; it then waits until every claimed row is stamped, which matters where
// DDL commits implicitly (MySQL) and a claim is visible before its migration is done.
// add() during init; apply() once at start.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <Poco/Logger.h>

#include "busbar/migrations.h"

namespace busbar::host {

class Migrator : public Migrations {
 public:
  void add(const std::string& module, Migration migration) override;

  // Applies the missing migrations of every module. On a database newer than the modules know,
  // or a failed migration, throws StorageError naming the module and the number.
  void apply(Connection& connection, Poco::Logger& logger);

 private:
  std::map<std::string, std::vector<Migration>> by_module_;
};

}  // namespace busbar::host
