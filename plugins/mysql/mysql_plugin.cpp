// The mysql storage plugin: provides "storage" and the event log's storage over a MySQL or MariaDB
// server.
#include "busbar/event_log_storage.h"
#include "busbar/plugin.h"
#include "connect_failure.h"
#include "mysql_event_log.h"
#include "mysql_storage.h"
#include "pool_metrics.h"

namespace busbar::mysql {
namespace {

// Reads [storage] and registers the connector (mysql_library_init) in init, before the host
// starts any thread; opens the first sessions in start. Used by the host's thread only.
class MysqlPlugin : public Plugin {
 public:
  void init(PluginContext& context) override {
    settings_ = readMysqlSettings(context.config());
    context_ = &context;
    connection_ = makeMysqlConnection(settings_);
    context.registry().provide("storage", connection_);
    context.registry().provide(kEventLogStorageService,
                               std::make_shared<MysqlEventLog>(connection_));
    sql::exportPoolMetrics(context.metrics(), *connection_);
  }

  void start() override {
    try {
      connection_->warmUp();
    } catch (const StorageUnavailable& failure) {
      sql::throwConnectFailure("mysql", settings_.server, context_->config().file(), failure);
    }
    context_->logger().information("mysql storage at " + settings_.server.describe() +
                                   " (ssl_mode " + tlsModeName(settings_.tls.mode) + ")");
    if (settings_.tls.mode == MysqlTlsMode::kRequired ||
        settings_.tls.mode == MysqlTlsMode::kVerifyCa) {
      context_->logger().warning(
          std::string("[storage] ssl_mode = ") + tlsModeName(settings_.tls.mode) +
          " does not check that the server's certificate names " + settings_.server.host +
          ": a machine in between can answer in the server's place and see the login (never the "
          "password itself). Fix: ssl_mode = verify_identity (docs/security.md).");
    }
  }

 private:
  PluginContext* context_ = nullptr;
  MysqlSettings settings_;
  std::shared_ptr<sql::PocoDataConnection> connection_;
};

}  // namespace
}  // namespace busbar::mysql

BUSBAR_PLUGIN(BUSBAR_KIND_STORAGE, "mysql", "1.0.0", busbar::mysql::MysqlPlugin)
