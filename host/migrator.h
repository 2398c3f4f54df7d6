// Migrator: the host's Migrations; applies what the database lacks, once, across servers.
//
// Each migration runs in its own transaction that first claims its row in busbar_migrations
// (primary key module + number), so two servers starting at once do not both apply it: the
// second waits for the first's transaction and then finds the row taken. add() during init;
// apply() once at start.
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
