// The postgresql storage plugin: provides "storage" and the event log's storage over a PostgreSQL
// server.
#include "busbar/event_log_storage.h"
#include "busbar/plugin.h"
#include "connect_failure.h"
#include "pool_metrics.h"
#include "postgresql_event_log.h"
#include "postgresql_storage.h"

namespace busbar::postgresql {
namespace {

// Reads [storage] in init and provides the Connection; opens the first sessions
// in start. Used by the host's thread only.
class PostgresqlPlugin : public Plugin {
 public:
  void init(PluginContext& context) override {
    settings_ = readPostgresqlSettings(context.config());
    context_ = &context;
    connection_ = makePostgresqlConnection(settings_);
    context.registry().provide("storage", connection_);
    context.registry().provide(kEventLogStorageService,
                               std::make_shared<PostgresqlEventLog>(connection_));
    sql::exportPoolMetrics(context.metrics(), *connection_);
  }

  void start() override {
    try {
      connection_->warmUp();
    } catch (const StorageUnavailable& failure) {
      sql::throwConnectFailure("postgresql", settings_.server, context_->config().file(), failure);
    }
    context_->logger().information(
        "postgresql storage at " + settings_.server.describe() + " (sslmode " +
        (settings_.tls.mode.empty() ? std::string("libpq's default") : settings_.tls.mode) + ")");
  }

 private:
  PluginContext* context_ = nullptr;
  PostgresqlSettings settings_;
  std::shared_ptr<sql::PocoDataConnection> connection_;
};

}  // namespace
}  // namespace busbar::postgresql

BUSBAR_PLUGIN(BUSBAR_KIND_STORAGE, "postgresql", "1.0.0", busbar::postgresql::PostgresqlPlugin)
