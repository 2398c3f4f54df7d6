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
  PluginRegistryView report(registry_, "report");
  EXPECT_NE(report.require<Repository>("users.repository", "module 'report'"), nullptr);
}

TEST_F(ServiceRegistryTest, AServiceTheStoragePluginLacksNamesItWithItsSdk) {
  PluginRegistryView report(registry_, "report");
  EXPECT_EQ(refusalOf([&] { report.requireService("event_log_storage", "module 'report'"); }),
            "module 'report' needs the service 'event_log_storage', which the storage plugin "
            "'old_storage' (version 2.1.0, built against SDK 1.2; provides storage) does not "
            "provide. Fix: upgrade old_storage to a version that provides it (this host's SDK is "
            "1." BUSBAR_STRINGIFY(BUSBAR_ABI_MINOR) "), or remove report from [host] plugins");
}

TEST_F(ServiceRegistryTest, AServiceARequiredModuleLacksNamesThatModule) {
  PluginRegistryView report(registry_, "report");
  const std::string refusal =
      refusalOf([&] { report.require<Repository>("users.history", "module 'report'"); });
  EXPECT_EQ(refusal.rfind("module 'report' needs the service 'users.history', which the module "
                          "plugin 'users' (version 1.0.0, built against SDK 1.3; provides "
                          "users.cache, users.repository) does not provide. Fix: upgrade users ",
                          0),
            0u)
      << refusal;
}

// The host asks for the transport itself: the refusal names the transport plugin and no plugin
// as the one to remove.
TEST_F(ServiceRegistryTest, WhatTheHostAsksForNamesTheProviderOnly) {
  EXPECT_EQ(refusalOf([&] { registry_.requireService("transport", "[event_bus] transport"); }),
            "[event_bus] transport needs the service 'transport', which the transport plugin "
            "'amqp' (version 1.0.0, built against SDK 1.4; provides nothing) does not provide. "
            "Fix: upgrade amqp to a version that provides it (this host's SDK is "
            "1." BUSBAR_STRINGIFY(BUSBAR_ABI_MINOR) ")");
}

// Whoever initialized last, a later call names only the plugin that asks.
TEST_F(ServiceRegistryTest, TheOneAskingIsTheViewsPluginNotTheLastInitialized) {
  registry_.setProvider("report", "plugin 'report' (report.so)");
  const std::string refusal =
      refusalOf([&] { registry_.requireService("users.history", "a request"); });
  EXPECT_EQ(refusal.rfind("a request needs the service 'users.history', which no loaded plugin "
                          "provides",
                          0),
            0u)
      << refusal;
  EXPECT_EQ(refusal.find("remove"), std::string::npos) << refusal;
}

TEST_F(ServiceRegistryTest, AServiceNoPluginWouldProvideListsTheLoadedOnes) {
  PluginRegistryView users(registry_, "users");
  EXPECT_EQ(refusalOf([&] { users.requireService("mailer", "module 'users'"); }),
            "module 'users' needs the service 'mailer', which no loaded plugin provides (loaded: "
            "old_storage amqp users report). Fix: add the plugin that provides it to [host] "
            "plugins, or remove users from [host] plugins");
  EXPECT_NE(refusalOf([&] {
              users.requireService("users.cahce", "module 'users'");
            }).find("; did you mean 'users.cache'?"),
            std::string::npos);
}

TEST(ServiceRegistryWithoutStorageTest, AStorageServiceSaysThatNoStoragePluginIsLoaded) {
  ServiceRegistry registry;
  registry.setPlugins({{"users", BUSBAR_KIND_MODULE, "1.0.0", 4, {}}});
  PluginRegistryView users(registry, "users");
  EXPECT_EQ(refusalOf([&] { users.requireService("storage", "module 'users'"); }),
            "module 'users' needs the service 'storage', which a storage plugin provides, and "
            "none is loaded. Fix: name one in [storage] driver and [host] plugins, or remove "
            "users from [host] plugins");
}

TEST_F(ServiceRegistryTest, AServiceOfAnotherTypeIsRefusedNamingTheService) {
  class Other : public Service {};
  PluginRegistryView report(registry_, "report");
  const std::string refusal =
      refusalOf([&] { report.require<Other>("users.repository", "module 'report'"); });
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
