// Plugin: the C++ side of a plugin, and the macro that exports its descriptor.
//
// Lifecycle, driven by the host in dependency order (storage, transport, then modules in the
// order of their requires):
//   init(context)  read the config section, provide services, register routes, subscribers and
//                  migrations. No threads, no network yet.
//   start()        open connections, start threads.
//   stop()         called in reverse order; undo start. Must not throw.
// Objects are destroyed in reverse order too; the shared object is never unloaded.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <Poco/Logger.h>

#include "busbar/abi.h"
#include "busbar/config.h"
#include "busbar/consistency.h"
#include "busbar/event_bus.h"
#include "busbar/export.h"
#include "busbar/http.h"
#include "busbar/metrics.h"
#include "busbar/migrations.h"
#include "busbar/registry.h"
#include "busbar/transport.h"

namespace busbar {

// An exchange this server consumes, from --exchange ALIAS[:QUEUE].
struct ConsumedExchange {
  std::string alias;     // as in [event_bus] exchanges.<alias>
  std::string exchange;  // the broker's name for it
  std::string queue;     // empty: a server-named exclusive queue (every server hears everything)
};

// What the host knows that plugins may need. Immutable after start.
struct HostInfo {
  std::string server_id;                         // unique per server; events carry it as origin
  std::string config_file;                       // absolute path of host.conf
  std::map<std::string, std::string> exchanges;  // alias -> broker exchange name
  std::vector<ConsumedExchange> consumed;        // from --exchange
  bool async_pass_through = true;
};

// Everything a plugin gets from the host. Valid for the plugin's whole life.
class BUSBAR_API PluginContext {
 public:
  virtual ~PluginContext() = default;
  virtual const ConfigSection& config() const = 0;  // the plugin's section of host.conf
  virtual const HostInfo& host() const = 0;
  virtual Registry& registry() = 0;
  virtual EventBus& eventBus() = 0;
  virtual Subscriptions& subscriptions() = 0;
  virtual Routes& routes() = 0;
  virtual Migrations& migrations() = 0;
  virtual InboundSink& inbound() = 0;  // for transports: where consumed events go
  virtual Poco::Logger& logger() = 0;  // named busbar.<plugin>
  // Since SDK 1.1 (a plugin calling it needs a host of ABI 1.1 or later): where the plugin
  // creates the metrics the host exports at GET /metrics (metrics.h).
  virtual MetricsRegistry& metrics() = 0;
  // Since SDK 1.2 (a plugin calling it needs a host of ABI 1.2 or later): where a module that
  // serves reads from a cache of a table has it checked against the database (consistency.h).
  virtual ConsistencyObserver& consistency() = 0;
};

class BUSBAR_API Plugin {
 public:
  virtual ~Plugin() = default;
  // On success the plugin is configured. On bad config throws ConfigError (host exits 2).
  virtual void init(PluginContext& context) = 0;
  // On success the plugin is serving. Throwing stops the host.
  virtual void start() {}
  // Releases what start took. Must not throw.
  virtual void stop() noexcept {}
};

}  // namespace busbar

// Exports the descriptor of a plugin. Use once per plugin, in one source file:
//   BUSBAR_PLUGIN(BUSBAR_KIND_MODULE, "audit", "1.0.0", AuditPlugin, "users")
// The trailing arguments are the names of plugins this one requires (none is fine); they are
// started before it. Uses __VA_OPT__, which GCC and Clang accept in C++17 mode (a warning only
// under -pedantic).
#define BUSBAR_PLUGIN(KIND, NAME, VERSION, CLASS, ...)                               \
  extern "C" BUSBAR_API const busbar_plugin_descriptor* BUSBAR_ENTRY_POINT(void) {   \
    static const char* const requires_list[] = {__VA_ARGS__ __VA_OPT__(, ) nullptr}; \
    static const busbar_plugin_descriptor descriptor = {                             \
        BUSBAR_DESCRIPTOR_MAGIC,                                                     \
        static_cast<uint32_t>(sizeof(busbar_plugin_descriptor)),                     \
        BUSBAR_ABI_MAJOR,                                                            \
        BUSBAR_ABI_MINOR,                                                            \
        static_cast<uint32_t>(KIND),                                                 \
        NAME,                                                                        \
        VERSION,                                                                     \
        BUSBAR_BUILD_SIGNATURE,                                                      \
        requires_list,                                                               \
        []() -> void* { return static_cast<::busbar::Plugin*>(new CLASS()); },       \
        [](void* plugin) { delete static_cast<::busbar::Plugin*>(plugin); },         \
        {}};                                                                         \
    return &descriptor;                                                              \
  }
