// The sqlite storage plugin: the embedded default. Provides "storage" over one database file,
// which it creates with its folder.
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/File.h>
#include <Poco/Path.h>

#include "busbar/plugin.h"
#include "poco_data_connection.h"
#include "sqlite_dialect.h"

namespace busbar::sqlite {
namespace {

class SqlitePlugin : public Plugin {
 public:
  void init(PluginContext& context) override {
    const ConfigSection& config = context.config();
    config.rejectUnknownKeys({"driver", "sqlite.path", "pool.min", "pool.max"});
    path_ = config.getPath("sqlite.path", "busbar.db");
    pool_min_ = static_cast<int>(config.getInt("pool.min", 1, 1, 1024));
    pool_max_ = static_cast<int>(config.getInt("pool.max", 16, 1, 1024));
    if (pool_min_ > pool_max_) config.fail("pool.min", "must not exceed pool.max", std::to_string(pool_min_));
    context_ = &context;
    Poco::Data::SQLite::Connector::registerConnector();
    sql::PoolSettings pool{"sqlite", path_, pool_min_, pool_max_, 60};
    connection_ = std::make_shared<sql::PocoDataConnection>("sqlite", std::make_unique<SqliteDialect>(), pool);
    context.registry().provide("storage", connection_);
  }

  void start() override {
    Poco::File(Poco::Path(path_).parent()).createDirectories();
    // WAL lets readers go on while one writer commits; it is a property of the file.
    connection_->execute("PRAGMA journal_mode = WAL", {});
    context_->logger().information("sqlite database at " + path_);
  }

 private:
  PluginContext* context_ = nullptr;
  std::string path_;
  int pool_min_ = 1;
  int pool_max_ = 16;
  std::shared_ptr<sql::PocoDataConnection> connection_;
};

}  // namespace
}  // namespace busbar::sqlite

BUSBAR_PLUGIN(BUSBAR_KIND_STORAGE, "sqlite", "1.0.0", busbar::sqlite::SqlitePlugin)
