// AuditLog: the repository of the audit module, the table audit_log behind the storage
// Connection.
//
// One row per event, keyed by the event id, so a redelivered event is kept once, with who caused
// it (the principal of its EventContext, SDK 1.6). Rows are read back in the order the events
// occurred. Thread-safe as the Connection is.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <busbar/event.h>
#include <busbar/migrations.h>
#include <busbar/storage.h>

namespace audit {

// An audited event and who caused it ("" for nobody).
struct AuditEntry {
  busbar::Event event;
  std::string principal;
};

class AuditLog {
 public:
  explicit AuditLog(std::shared_ptr<busbar::Connection> connection)
      : connection_(std::move(connection)) {}

  // The schema, as migrations for context.migrations().add("audit", ...).
  static std::vector<busbar::Migration> migrations();

  // On success the event is in the table, once. Throws StorageError (StorageUnavailable when the
  // database is away, so that the transport may deliver the event again).
  void append(const busbar::Event& event, const std::string& principal);

  // At most `limit` entries after the first `offset`, oldest first.
  std::vector<AuditEntry> list(int64_t limit, int64_t offset);

 private:
  std::shared_ptr<busbar::Connection> connection_;
};

}  // namespace audit
