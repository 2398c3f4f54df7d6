// The sqlite storage plugin: the embedded default. Provides "storage" over one database file,
// which it creates with its folder at start.
#include "busbar/event_log_storage.h"
#include "busbar/plugin.h"
#include "pool_metrics.h"
#include "sqlite_event_log.h"
#include "sqlite_open_failure.h"
#include "sqlite_storage.h"

namespace busbar::sqlite {
namespace {

// Reads [storage] in init and provides the Connection; opens the file in start. Used by the
// host's thread only.
class SqlitePlugin : public Plugin {
 public:
  void init(PluginContext& context) override {
    settings_ = readSqliteSettings(context.config());
    context_ = &context;
    connection_ = makeSqliteConnection(settings_);
    context.registry().provide("storage", connection_);
    context.registry().provide(kEventLogStorageService,
                               std::make_shared<SqliteEventLog>(connection_));
    sql::exportPoolMetrics(context.metrics(), *connection_);
  }

  void start() override {
    checkSqlitePath(settings_.path, context_->config().file());
    try {
      openSqliteDatabase(*connection_, settings_);
    } catch (const StorageError& failure) {
      throwSqliteOpenFailure(settings_.path, context_->config().file(), failure.what());
    }
    context_->logger().information("sqlite database at " + settings_.path);
  }

 private:
  PluginContext* context_ = nullptr;
  SqliteSettings settings_;
  std::shared_ptr<sql::PocoDataConnection> connection_;
};

}  // namespace
}  // namespace busbar::sqlite

BUSBAR_PLUGIN(BUSBAR_KIND_STORAGE, "sqlite", "1.0.0", busbar::sqlite::SqlitePlugin)
