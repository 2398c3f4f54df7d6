// PluginUnderTest: the plugin a conformance run proves, found by name in the plugin folders and
// checked (descriptor, ABI, build signature) exactly as the host finds and checks it, before any
// of its code runs; and instances of it, each configured, initialized and started as the host
// would, with a context of its own (registry, migrations, metrics).
//
// Used from the test thread; an instance's services are used from any thread, as in a server.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "busbar/plugin.h"
#include "plugins/plugin_loader.h"

namespace busbar::conformance {

// What the command line names: the suite, the plugin, its config file and where to look for it.
struct RunSettings {
  std::string suite;                     // storage, event-log or transport
  std::string plugin;                    // the name in its descriptor, as host.conf names it
  std::string config_file;               // absolute
  std::vector<std::string> plugin_dirs;  // searched in order
};

class PluginContextOfTest;

// What the host tells one instance: its HostInfo (server_id, exchanges, what it consumes) and
// where a transport delivers what it consumes. Without `inbound` a delivery fails the test.
struct InstanceHost {
  HostInfo info;
  InboundSink* inbound = nullptr;  // outlives the instance
};

// One instance of the plugin: init() and start() done; stop() and its destruction when it goes.
class PluginInstance {
 public:
  PluginInstance(const host::LoadedPlugin& loaded, const std::string& config_file,
                 const std::string& section, const std::map<std::string, std::string>& keys,
                 InstanceHost host);
  ~PluginInstance();

  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  // The service `name` the instance provided as a T, or nullptr.
  template <typename T>
  std::shared_ptr<T> find(const std::string& name) const {
    return std::dynamic_pointer_cast<T>(findService(name));
  }
  std::shared_ptr<Service> findService(const std::string& name) const;

  // Applies the migrations the instance registered, and `more` under `module`, as the host does
  // before modules start. On failure throws what the migrator threw.
  void migrate(const std::string& module = "", std::vector<Migration> more = {});

 private:
  const host::LoadedPlugin& loaded_;
  std::unique_ptr<PluginContextOfTest> context_;
  Plugin* plugin_ = nullptr;
  bool started_ = false;
};

class PluginUnderTest {
 public:
  // Finds and checks the plugin. On a refusal throws host::PluginRejected with the host's
  // message; on a config file that cannot be read throws ConfigError.
  explicit PluginUnderTest(RunSettings settings);

  const RunSettings& settings() const { return settings_; }
  const host::LoadedPlugin& loaded() const { return loaded_; }

  // The keys of the plugin's section of the config file: [storage] for a storage plugin, else
  // the section named after the plugin.
  const std::map<std::string, std::string>& configKeys() const { return keys_; }

  // The keys of section `name` of the config file (nested ones as "a.b"), e.g. [conformance].
  std::map<std::string, std::string> sectionKeys(const std::string& name) const;

  // [event_bus] exchanges.<alias> of the config file: alias -> broker exchange name.
  const std::map<std::string, std::string>& exchanges() const { return exchanges_; }

  // A new instance, configured with configKeys() and `overrides` on top (an empty value removes a
  // key), initialized and started. `host` is what the host tells it (default: server_id
  // "conformance:<plugin>", nothing consumed, no deliveries expected). On failure throws what
  // the plugin threw.
  std::unique_ptr<PluginInstance> start(const std::map<std::string, std::string>& overrides = {},
                                        InstanceHost host = {});

 private:
  RunSettings settings_;
  host::PluginLoader loader_;
  host::LoadedPlugin loaded_;
  std::string section_;
  std::map<std::string, std::string> keys_;
  std::map<std::string, std::string> exchanges_;
};

// The run's plugin, set by main() before the tests run.
PluginUnderTest& pluginUnderTest();
void setPluginUnderTest(std::unique_ptr<PluginUnderTest> plugin);

}  // namespace busbar::conformance
