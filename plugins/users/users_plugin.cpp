// The users module: routes, repositories and subscribers of the users domain.
//
// [users] repository = composed (memory reads, database writes; the headline feature) or
// persistent (every read goes to the database). refresh = incremental or reload.
#include <memory>

#include "application/user_service.h"
#include "busbar/plugin.h"
#include "infrastructure/bus_user_event_publisher.h"
#include "infrastructure/checked_user_cache.h"
#include "infrastructure/composed_user_repository.h"
#include "infrastructure/dbal_user_repository.h"
#include "infrastructure/in_memory_user_repository.h"
#include "infrastructure/user_event_codec.h"
#include "infrastructure/user_routes.h"

namespace busbar::users {
namespace {

class UsersPlugin : public Plugin {
 public:
  void init(PluginContext& context) override {
    const ConfigSection& config = context.config();
    config.rejectUnknownKeys({"repository", "refresh"});
    bool composed =
        config.getChoice("repository", "composed", {"composed", "persistent"}) == "composed";
    RefreshMode mode =
        config.getChoice("refresh", "incremental", {"incremental", "reload"}) == "reload"
            ? RefreshMode::kReload
            : RefreshMode::kIncremental;

    auto connection = context.registry().require<Connection>("storage", "the users module");
    for (auto& migration : DbalUserRepository::migrations()) {
      context.migrations().add("users", std::move(migration));
    }
    publisher_ = std::make_unique<BusUserEventPublisher>(context.eventBus());
    persistent_ = std::make_unique<DbalUserRepository>(connection, *publisher_);
    UserRepository* repository = persistent_.get();
    if (composed) {
      memory_ = std::make_unique<InMemoryUserRepository>();
      composed_ = std::make_unique<ComposedUserRepository>(*persistent_, *memory_, mode);
      repository = composed_.get();
      subscribe(context);
      context.metrics().gaugeReader(
          "busbar_cache_rows", "Rows a module holds in its in-memory cache, by module",
          {{"module", "users"}}, [this] { return static_cast<double>(memory_->size()); });
      context.consistency().watch(std::make_shared<CheckedUserCache>(*persistent_, *memory_));
    }
    service_ = std::make_unique<UserService>(*repository);
    registerUserRoutes(context.routes(), *service_, /*reads_from_memory=*/composed);
  }

 private:
  void subscribe(PluginContext& context) {
    Poco::Logger& logger = context.logger();
    auto apply = [this](const Event& event) { composed_->onChange(fromEvent(event)); };
    for (const char* type : {kUserWasCreated, kUserWasUpdated, kUserWasDeleted}) {
      context.subscriptions().subscribe(type, 0, apply);
    }
    auto reload = [this, &logger](const char* why) {
      Poco::Timestamp started;
      composed_->reload();
      logger.information(std::string(why) + ": loaded " + std::to_string(memory_->size()) +
                         " users in " + std::to_string(started.elapsed() / 1000) + " ms");
    };
    context.subscriptions().onLifecycle(Lifecycle::kPreload, 0, [reload] { reload("preload"); });
    context.subscriptions().onLifecycle(Lifecycle::kReconnected, 0,
                                        [reload] { reload("resynchronized"); });
  }

  std::unique_ptr<BusUserEventPublisher> publisher_;
  std::unique_ptr<DbalUserRepository> persistent_;
  std::unique_ptr<InMemoryUserRepository> memory_;
  std::unique_ptr<ComposedUserRepository> composed_;
  std::unique_ptr<UserService> service_;
};

}  // namespace
}  // namespace busbar::users

BUSBAR_PLUGIN(BUSBAR_KIND_MODULE, "users", "1.0.0", busbar::users::UsersPlugin)
