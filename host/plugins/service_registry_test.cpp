#include "plugins/service_registry.h"

#include <gtest/gtest.h>

#include "busbar/abi.h"

namespace busbar::host {
namespace {

class Repository : public Service {};

// The message of the ConfigError that `call` throws, "" when it throws none.
template <typename Call>
std::string refusalOf(Call call) {
  try {
    call();
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

class ServiceRegistryTest : public ::testing::Test {
 protected:
  ServiceRegistryTest() {
    registry_.setPlugins({{"old_storage", BUSBAR_KIND_STORAGE, "2.1.0", 2, {}},
                          {"amqp", BUSBAR_KIND_TRANSPORT, "1.0.0", 4, {}},
                          {"users", BUSBAR_KIND_MODULE, "1.0.0", 3, {}},
                          {"report", BUSBAR_KIND_MODULE, "0.9.0", 4, {"users"}}});
    registry_.setProvider("old_storage", "plugin 'old_storage' (old_storage.so)");
    registry_.provide("storage", std::make_shared<Repository>());
    registry_.setProvider("users", "plugin 'users' (users.so)");
    registry_.provide("users.repository", std::make_shared<Repository>());
    registry_.provide("users.cache", std::make_shared<Repository>());
  }

  ServiceRegistry registry_;
};

TEST_F(ServiceRegistryTest, RequireFindsAProvidedService) {
  registry_.setProvider("report", "plugin 'report' (report.so)");
  EXPECT_NE(registry_.require<Repository>("users.repository", "module 'report'"), nullptr);
}

TEST_F(ServiceRegistryTest, AServiceTheStoragePluginLacksNamesItWithItsSdk) {
  registry_.setProvider("report", "plugin 'report' (report.so)");
  EXPECT_EQ(refusalOf([&] { registry_.requireService("event_log_storage", "module 'report'"); }),
            "module 'report' needs the service 'event_log_storage', which the storage plugin "
            "'old_storage' (version 2.1.0, built against SDK 1.2; provides storage) does not "
            "provide. Fix: upgrade old_storage to a version that provides it (this host's SDK is "
            "1." BUSBAR_STRINGIFY(BUSBAR_ABI_MINOR) "), or remove the plugin that needs it from "
            "[host] plugins");
}

TEST_F(ServiceRegistryTest, AServiceARequiredModuleLacksNamesThatModule) {
  registry_.setProvider("report", "plugin 'report' (report.so)");
  const std::string refusal =
      refusalOf([&] { registry_.require<Repository>("users.history", "module 'report'"); });
  EXPECT_EQ(refusal.rfind("module 'report' needs the service 'users.history', which the module "
                          "plugin 'users' (version 1.0.0, built against SDK 1.3; provides "
                          "users.cache, users.repository) does not provide. Fix: upgrade users ",
                          0),
            0u)
      << refusal;
}

TEST_F(ServiceRegistryTest, AServiceNoPluginWouldProvideListsTheLoadedOnes) {
  registry_.setProvider("users", "plugin 'users' (users.so)");
  EXPECT_EQ(refusalOf([&] { registry_.requireService("mailer", "module 'users'"); }),
            "module 'users' needs the service 'mailer', which no loaded plugin provides (loaded: "
            "old_storage amqp users report). Fix: add the plugin that provides it to [host] "
            "plugins, or remove the one that needs it");
}

TEST_F(ServiceRegistryTest, AServiceOfAnotherTypeIsRefusedNamingTheService) {
  class Other : public Service {};
  registry_.setProvider("report", "plugin 'report' (report.so)");
  const std::string refusal =
      refusalOf([&] { registry_.require<Other>("users.repository", "module 'report'"); });
  EXPECT_NE(refusal.find("module 'report' needs the service 'users.repository' as a type"),
            std::string::npos)
      << refusal;
}

TEST_F(ServiceRegistryTest, ASecondProviderIsRefusedNamingBoth) {
  registry_.setProvider("report", "plugin 'report' (report.so)");
  EXPECT_EQ(refusalOf([&] { registry_.provide("users.cache", std::make_shared<Repository>()); }),
            "the service 'users.cache' is provided twice: by plugin 'users' (users.so) and by "
            "plugin 'report' (report.so); load only one of them");
}

}  // namespace
}  // namespace busbar::host
