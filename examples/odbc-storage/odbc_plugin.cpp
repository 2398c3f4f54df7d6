// The odbc storage plugin: provides "storage" (a busbar::Connection) and the event log's storage
// (busbar::kEventLogStorageService) over ODBC, in PostgreSQL's SQL: psqlODBC, or any ODBC driver
// that reaches a PostgreSQL server.
#include <busbar/event_log_storage.h>
#include <busbar/plugin.h>

#include "odbc_connection.h"
#include "odbc_event_log.h"
#include "odbc_settings.h"

namespace odbc_storage {
namespace {

bool mentions(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

// The operator's version of a first session that would not open: a ConfigError (exit 2) when
// the connection string can fix it, else StorageUnavailable (exit 1: the server is away).
[[noreturn]] void throwOpenFailure(const busbar::ConfigSection& config,
                                   const OdbcSettings& settings, const OpenFailed& failure) {
  const std::string& state = failure.state();
  const std::string& detail = failure.detail();
  const auto fix = [&](const std::string& what) {
    config.fail("odbc.connection", "must reach the database: " + what, failure.what());
  };
  if (state == "IM002" || mentions(detail, "Data source name not found")) {
    fix("name a DRIVER={...} that `odbcinst -q -d` lists (apt-get install odbc-postgresql) or a "
        "DSN that `odbcinst -q -s` lists");
  }
  if (state == "IM003" || mentions(detail, "Can't open lib")) {
    fix("the ODBC driver's library cannot be loaded; reinstall it (odbc-postgresql) or fix "
        "/etc/odbcinst.ini");
  }
  if (state == "28P01" || state == "28000" || mentions(detail, "password authentication failed") ||
      mentions(detail, "no password supplied")) {
    fix("the user (UID=) or its password (PWD=) is wrong");
  }
  if (state == "3D000" || (mentions(detail, "database \"") && mentions(detail, "does not exist"))) {
    fix("the database (DATABASE=) does not exist; create it or name another");
  }
  if (mentions(detail, "role \"") && mentions(detail, "does not exist")) {
    fix("the user (UID=) does not exist on the server; create it or name another");
  }
  throw busbar::StorageUnavailable("odbc storage at " + settings.described +
                                   ": the database does not answer; start it, or fix SERVER= and "
                                   "PORT= in [storage] odbc.connection of " +
                                   config.file() + " (" + failure.what() + ")");
}

// Reads [storage] in init and provides both services; opens the first session in start. Used by
// the host's thread only.
class OdbcPlugin : public busbar::Plugin {
 public:
  void init(busbar::PluginContext& context) override {
    context_ = &context;
    settings_ = readOdbcSettings(context.config());
    connection_ = std::make_shared<OdbcConnection>(settings_);
    context.registry().provide("storage", connection_);
    context.registry().provide(busbar::kEventLogStorageService,
                               std::make_shared<OdbcEventLog>(connection_));
  }

  void start() override {
    try {
      connection_->warmUp();
    } catch (const OpenFailed& failure) {
      throwOpenFailure(context_->config(), settings_, failure);
    }
    // The statements are PostgreSQL's: another database behind the driver would fail later and
    // less clearly.
    const auto version = connection_->execute("SELECT version() AS version", {}).rows;
    const std::string name = version.empty() ? "" : busbar::asText(version.front().at("version"));
    if (name.rfind("PostgreSQL", 0) != 0) {
      context_->config().fail("odbc.connection",
                              "must reach a PostgreSQL server (the plugin speaks its SQL)",
                              "'" + name + "'");
    }
    context_->logger().information("odbc storage at " + settings_.described + " (" + name + ")");
  }

 private:
  busbar::PluginContext* context_ = nullptr;
  OdbcSettings settings_;
  std::shared_ptr<OdbcConnection> connection_;
};

}  // namespace
}  // namespace odbc_storage

BUSBAR_PLUGIN(BUSBAR_KIND_STORAGE, "odbc", "1.0.0", odbc_storage::OdbcPlugin)
