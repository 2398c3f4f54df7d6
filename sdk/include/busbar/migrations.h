// Migrations: numbered schema changes a module ships with.
//
// The host applies, at start and before preload, every migration of every module that the
// database has not recorded in its busbar_migrations table, in order of number, each in its own
// transaction. It refuses to start when the database records a number the module does not know
// (a newer busbar wrote it). Registration only during init.
#pragma once

#include <functional>
#include <string>

#include "busbar/export.h"
#include "busbar/storage.h"

namespace busbar {

struct Migration {
  int number = 0;                          // 1, 2, 3 ... without gaps, per module
  std::string description;                 // shown in the log when applied
  std::function<void(Connection&)> apply;  // portable: use Connection's methods
};

class BUSBAR_API Migrations {
 public:
  virtual ~Migrations() = default;

  // Registers `migration` for `module`. Throws ConfigError for a duplicate or a gap.
  virtual void add(const std::string& module, Migration migration) = 0;
};

}  // namespace busbar
