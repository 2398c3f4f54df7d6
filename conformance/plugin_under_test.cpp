#include "plugin_under_test.h"

#include <stdexcept>

#include <Poco/Logger.h>
#include <Poco/Util/MapConfiguration.h>

#include "consistency/consistency_observer.h"
#include "events/inline_bus.h"
#include "host_config.h"
#include "http/http_router.h"
#include "migrator.h"
#include "ops/metrics_registry.h"
#include "plugins/service_registry.h"

namespace busbar::conformance {
namespace {

std::unique_ptr<PluginUnderTest>& theRun() {
  static std::unique_ptr<PluginUnderTest> run;
  return run;
}

// Every key under `prefix` of `config`, nested ones as "a.b", with its value.
void collectKeys(const Poco::Util::AbstractConfiguration& config, const std::string& prefix,
                 const std::string& relative, std::map<std::string, std::string>& keys) {
  Poco::Util::AbstractConfiguration::Keys children;
  config.keys(prefix, children);
  for (const auto& child : children) {
    const std::string path = prefix + "." + child;
    const std::string name = relative.empty() ? child : relative + "." + child;
    if (config.hasProperty(path)) keys[name] = config.getRawString(path, "");
    collectKeys(config, path, name, keys);
  }
}

}  // namespace

// A storage plugin dispatches no events and a conformance run serves no requests: what the host
// would do with them is not part of any contract checked here. (Members of PluginContextOfTest,
// which the header names, so outside the anonymous namespace.)
class NoEventBus : public EventBus {
 public:
  void dispatch(Event) override {
    throw std::logic_error("a conformance run has no event bus: the plugin dispatched an event");
  }
  void addMiddleware(int, EventMiddleware) override {}
};

class NoInbound : public InboundSink {
 public:
  void deliver(const Event&) override {
    throw std::logic_error("this conformance suite consumes no events: the plugin delivered one");
  }
  void reconnected() override {}
  void deliverSequenced(const Event&, const EventLogSeq&) override {
    throw std::logic_error("this conformance suite consumes no events: the plugin delivered one");
  }
};

// What the host gives a plugin, for one instance: its own registry, migrations and metrics.
class PluginContextOfTest : public PluginContext {
 public:
  PluginContextOfTest(ConfigSection section, const std::string& plugin, InstanceHost host)
      : section_(std::move(section)),
        info_(std::move(host.info)),
        logger_(Poco::Logger::get("busbar." + plugin)),
        inbound_(host.inbound != nullptr ? host.inbound : &no_inbound_),
        consistency_(host::ConsistencySettings{}, metrics_,
                     Poco::Logger::get("busbar.consistency")) {
    if (info_.server_id.empty()) info_.server_id = "conformance:" + plugin;
    info_.config_file = section_.file();
  }

  const ConfigSection& config() const override { return section_; }
  const HostInfo& host() const override { return info_; }
  Registry& registry() override { return registry_; }
  EventBus& eventBus() override { return event_bus_; }
  Subscriptions& subscriptions() override { return inline_bus_; }
  Routes& routes() override { return router_; }
  Migrations& migrations() override { return migrator_; }
  InboundSink& inbound() override { return *inbound_; }
  Poco::Logger& logger() override { return logger_; }
  MetricsRegistry& metrics() override { return metrics_; }
  ConsistencyObserver& consistency() override { return consistency_; }

  host::ServiceRegistry& serviceRegistry() { return registry_; }
  host::Migrator& migrator() { return migrator_; }

 private:
  ConfigSection section_;
  HostInfo info_;
  Poco::Logger& logger_;
  host::ServiceRegistry registry_;
  NoEventBus event_bus_;
  host::InlineBus inline_bus_;
  host::HttpRouter router_;
  host::Migrator migrator_;
  NoInbound no_inbound_;
  InboundSink* inbound_;
  host::HostMetricsRegistry metrics_;
  host::HostConsistencyObserver consistency_;
};

PluginInstance::PluginInstance(const host::LoadedPlugin& loaded, const std::string& config_file,
                               const std::string& section,
                               const std::map<std::string, std::string>& keys, InstanceHost host)
    : loaded_(loaded) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  for (const auto& [key, value] : keys) config->setString(section + "." + key, value);
  context_ = std::make_unique<PluginContextOfTest>(ConfigSection(config, config_file, section),
                                                   loaded.name, std::move(host));
  plugin_ = static_cast<Plugin*>(loaded.descriptor->create());
  try {
    context_->serviceRegistry().setPlugins(
        {{loaded.name, loaded.descriptor->kind, loaded.descriptor->version,
          loaded.descriptor->abi_minor, loaded.required}});
    context_->serviceRegistry().setProvider(loaded.name,
                                            "plugin '" + loaded.name + "' (" + loaded.path + ")");
    plugin_->init(*context_);
    plugin_->start();
    started_ = true;
  } catch (...) {
    context_->serviceRegistry().clear();
    loaded_.descriptor->destroy(plugin_);
    throw;
  }
}

PluginInstance::~PluginInstance() {
  if (started_) plugin_->stop();
  context_->serviceRegistry().clear();
  loaded_.descriptor->destroy(plugin_);
}

std::shared_ptr<Service> PluginInstance::findService(const std::string& name) const {
  return context_->registry().findService(name);
}

void PluginInstance::migrate(const std::string& module, std::vector<Migration> more) {
  for (auto& migration : more) context_->migrator().add(module, std::move(migration));
  auto storage = find<Connection>("storage");
  if (!storage) {
    throw std::logic_error("plugin '" + loaded_.name + "' provides no \"storage\" to migrate");
  }
  context_->migrator().apply(*storage, context_->logger());
}

PluginUnderTest::PluginUnderTest(RunSettings settings)
    : settings_(std::move(settings)), loader_(settings_.plugin_dirs) {
  loaded_ = loader_.load(settings_.plugin);
  section_ = loaded_.descriptor->kind == BUSBAR_KIND_STORAGE ? "storage" : loaded_.name;
  auto config = host::readIniFile(settings_.config_file);
  collectKeys(*config, section_, "", keys_);
  for (const auto& [key, value] : sectionKeys("event_bus")) {
    if (key.rfind("exchanges.", 0) == 0) exchanges_[key.substr(10)] = value;
  }
}

std::map<std::string, std::string> PluginUnderTest::sectionKeys(const std::string& name) const {
  auto config = host::readIniFile(settings_.config_file);
  std::map<std::string, std::string> keys;
  collectKeys(*config, name, "", keys);
  return keys;
}

std::unique_ptr<PluginInstance> PluginUnderTest::start(
    const std::map<std::string, std::string>& overrides, InstanceHost host) {
  std::map<std::string, std::string> keys = keys_;
  for (const auto& [key, value] : overrides) {
    if (value.empty()) {
      keys.erase(key);
    } else {
      keys[key] = value;
    }
  }
  return std::make_unique<PluginInstance>(loaded_, settings_.config_file, section_, keys,
                                          std::move(host));
}

PluginUnderTest& pluginUnderTest() {
  if (!theRun()) throw std::logic_error("no plugin under test: main() sets it before the tests");
  return *theRun();
}

void setPluginUnderTest(std::unique_ptr<PluginUnderTest> plugin) { theRun() = std::move(plugin); }

}  // namespace busbar::conformance
