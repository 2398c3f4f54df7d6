#include "host.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <set>
#include <thread>

#include <Poco/Timestamp.h>

#include "events/principal_free_event_log.h"
#include "http/http_load_metrics.h"
#include "token_secrets.h"

namespace busbar::host {

// What one plugin sees of the host.
class Host::Context : public PluginContext {
 public:
  Context(Host& host, ConfigSection section, const std::string& plugin)
      : host_(host),
        section_(std::move(section)),
        logger_(Poco::Logger::get("busbar." + plugin)),
        registry_(host.registry_, plugin) {}

  const ConfigSection& config() const override { return section_; }
  const HostInfo& host() const override { return host_.info_; }
  Registry& registry() override { return registry_; }
  EventBus& eventBus() override { return host_.event_bus_; }
  Subscriptions& subscriptions() override { return host_.inline_bus_; }
  Routes& routes() override { return host_.router_; }
  Migrations& migrations() override { return host_.migrator_; }
  InboundSink& inbound() override { return host_.inbound_; }
  Poco::Logger& logger() override { return logger_; }
  MetricsRegistry& metrics() override { return host_.metrics_; }
  ConsistencyObserver& consistency() override { return host_.consistency_; }

 private:
  Host& host_;
  ConfigSection section_;
  Poco::Logger& logger_;
  PluginRegistryView registry_;
};

namespace {

HostInfo makeInfo(const HostSettings& settings) {
  HostInfo info;
  info.server_id = settings.server_id;
  info.config_file = settings.config_file;
  info.exchanges = settings.event_bus.exchanges;
  info.consumed = settings.consumed;
  info.async_pass_through = settings.event_bus.async_pass_through;
  return info;
}

}  // namespace

Host::Host(HostSettings settings, Poco::Logger& logger, Logging* logging)
    : settings_(std::move(settings)),
      logger_(logger),
      logging_(logging),
      consistency_(settings_.consistency, metrics_, Poco::Logger::get("busbar.consistency")),
      config_(readIniFile(settings_.config_file)),
      info_(makeInfo(settings_)),
      inbound_(settings_.server_id, settings_.event_bus.async_pass_through, inline_bus_),
      event_bus_(settings_.server_id, settings_.event_bus.async_pass_through,
                 EventRouter(settings_.event_bus.router, settings_.event_bus.exchanges),
                 inline_bus_, Poco::Logger::get("busbar.event_bus")),
      event_metrics_(event_bus_, inbound_, inline_bus_),
      liveness_(notifier_, std::chrono::seconds(5), Poco::Logger::get("busbar.liveness")) {
  // The certificates are loaded here, so that --check-config refuses a bad one too.
  if (settings_.http.tls.enabled) {
    public_tls_ =
        std::make_unique<TlsServerContext>(settings_.http.tls, "http", settings_.config_file);
  }
  if (settings_.admin.tls.enabled) {
    admin_tls_ =
        std::make_unique<TlsServerContext>(settings_.admin.tls, "admin", settings_.config_file);
  }
  const AuthSettings& auth = settings_.auth;
  if (!auth.public_listener && !auth.admin_listener) return;
  tokens_ = loadBearerTokens(auth, settings_.config_file);
  const bool admin_granted = std::any_of(auth.tokens.begin(), auth.tokens.end(), [](auto& token) {
    return std::find(token.scopes.begin(), token.scopes.end(), kScopeAdmin) != token.scopes.end();
  });
  if (auth.admin_listener && !admin_granted) {
    logger_.warning(
        "[admin] auth = bearer, and no [token.<name>] holds scope admin: the admin listener's "
        "/admin routes answer 403 to every caller until one does");
  }
  const auto policy = [&](bool checked) {
    return checked ? std::make_unique<AccessPolicy>(tokens_.get(), auth.open_reads) : nullptr;
  };
  public_access_ = policy(auth.public_listener);
  admin_access_ = policy(auth.admin_listener);
}

Host::~Host() {
  stop();
  event_bus_.setTransport(nullptr);  // the transport goes with its plugin, in reverse order
  event_bus_.setEventLog(nullptr, nullptr, nullptr);
  inbound_.setEventLog(nullptr, nullptr, nullptr);
  event_log_.reset();  // holds the storage plugin's Connection
  registry_.clear();
  for (auto it = instances_.rbegin(); it != instances_.rend(); ++it) {
    if (it->plugin != nullptr) it->loaded.descriptor->destroy(it->plugin);
    it->plugin = nullptr;
  }
}

std::vector<LoadedPlugin> Host::orderPlugins(const std::vector<LoadedPlugin>& loaded) const {
  const std::string& file = settings_.config_file;
  auto find = [&](const std::string& name) -> const LoadedPlugin* {
    for (const auto& plugin : loaded) {
      if (plugin.name == name) return &plugin;
    }
    return nullptr;
  };

  std::string storage = settings_.storage_driver;
  if (storage.empty()) {
    for (const auto& plugin : loaded) {
      if (plugin.descriptor->kind == BUSBAR_KIND_STORAGE) storage = plugin.name;
    }
  }
  const std::string& transport = settings_.event_bus.transport;
  auto requireRole = [&](const std::string& name, uint32_t kind, const std::string& key) {
    const LoadedPlugin* plugin = find(name);
    if (plugin == nullptr) {
      throw ConfigError(file + ": " + key + " = " + name + ", but '" + name +
                        "' is not in [host] plugins; add it there");
    }
    if (plugin->descriptor->kind != kind) {
      throw ConfigError(file + ": " + key + " = " + name + " must name a " + kindName(kind) +
                        " plugin, but " + plugin->path + " is a " +
                        kindName(plugin->descriptor->kind) + " plugin");
    }
    return *plugin;
  };

  std::vector<LoadedPlugin> ordered;
  if (!storage.empty())
    ordered.push_back(requireRole(storage, BUSBAR_KIND_STORAGE, "[storage] driver"));
  ordered.push_back(requireRole(transport, BUSBAR_KIND_TRANSPORT, "[event_bus] transport"));

  for (const auto& plugin : loaded) {
    uint32_t kind = plugin.descriptor->kind;
    if (kind == BUSBAR_KIND_STORAGE && plugin.name != storage) {
      throw ConfigError(file + ": storage plugin '" + plugin.name + "' is in [host] plugins but " +
                        "[storage] driver = " + storage + "; load only the storage in use");
    }
    if (kind == BUSBAR_KIND_TRANSPORT && plugin.name != transport) {
      throw ConfigError(file + ": transport plugin '" + plugin.name +
                        "' is in [host] plugins but [event_bus] transport = " + transport +
                        "; load only the transport in use");
    }
  }

  // Modules after what they require (depth-first), in config order otherwise.
  std::set<std::string> placed;
  for (const auto& plugin : ordered) placed.insert(plugin.name);
  std::vector<std::string> path;
  std::function<void(const LoadedPlugin&)> place = [&](const LoadedPlugin& plugin) {
    if (placed.count(plugin.name) != 0) return;
    if (std::find(path.begin(), path.end(), plugin.name) != path.end()) {
      std::string cycle;
      for (const auto& name : path) cycle += name + " -> ";
      throw ConfigError(file + ": plugins require each other in a cycle: " + cycle + plugin.name +
                        "; fix: remove one of them from [host] plugins");
    }
    path.push_back(plugin.name);
    for (const auto& required : plugin.required) {
      const LoadedPlugin* dependency = find(required);
      if (dependency == nullptr) {
        throw ConfigError(file + ": plugin '" + plugin.name + "' requires plugin '" + required +
                          "', which is not in [host] plugins; add it there");
      }
      place(*dependency);
    }
    path.pop_back();
    placed.insert(plugin.name);
    ordered.push_back(plugin);
  };
  for (const auto& plugin : loaded) place(plugin);
  return ordered;
}

void Host::load() {
  registerMetrics();
  PluginLoader loader(settings_.plugin_dirs);
  std::vector<LoadedPlugin> loaded;
  for (const auto& name : settings_.plugins) {
    try {
      loaded.push_back(loader.load(name));
    } catch (const PluginRejected& refused) {
      // Where the name was written, so that the operator edits the right line.
      const int line = lineOfKey(settings_.config_file, "host", "plugins");
      throw PluginRejected(settings_.config_file + (line > 0 ? ":" + std::to_string(line) : "") +
                           ": [host] plugins: " + refused.what());
    }
  }
  auto ordered = orderPlugins(loaded);

  std::set<std::string> sections;
  for (const auto& plugin : ordered) {
    if (plugin.descriptor->kind != BUSBAR_KIND_STORAGE) sections.insert(plugin.name);
  }
  rejectUnknownSections(config_, settings_.config_file, sections);

  std::vector<RegisteredPlugin> registered;
  for (const auto& plugin : ordered) {
    registered.push_back({plugin.name, plugin.descriptor->kind, plugin.descriptor->version,
                          plugin.descriptor->abi_minor, plugin.required});
  }
  registry_.setPlugins(std::move(registered));
  for (const auto& plugin : ordered) {
    const bool storage = plugin.descriptor->kind == BUSBAR_KIND_STORAGE;
    Instance instance;
    instance.loaded = plugin;
    instance.context = std::make_unique<Context>(
        *this, sectionOf(config_, settings_.config_file, storage ? "storage" : plugin.name),
        plugin.name);
    instance.plugin = static_cast<Plugin*>(plugin.descriptor->create());
    instances_.push_back(std::move(instance));
    registry_.setProvider(plugin.name, "plugin '" + plugin.name + "' (" + plugin.path + ")");
    instances_.back().plugin->init(*instances_.back().context);
    if (storage) wrapStorage(plugin.name);
  }
  if (!event_log_) wrapStorage("");  // no storage plugin: the follower still resynchronizes
  auto transport = registry_.require<Transport>(
      "transport", "[event_bus] transport = " + settings_.event_bus.transport);
  transport_health_ = dynamic_cast<TransportHealth*>(transport.get());
  event_bus_.setTransport(transport);
  event_metrics_.setEventLog(event_log_.get());
  registerInfoMetrics();
  exportHttpLoadMetrics(metrics_, http_, "public");
  exportHttpLoadMetrics(metrics_, admin_http_, "admin");
  addReadinessChecks();
  registerOpsRoutes();
  // A loop per inherited socket at least (HttpServer::bind()).
  public_metrics_ = &http_metrics_.addListener(
      "public", router_, std::max(httpLoopCount(settings_.http.loops), inherited_.count("public")));
  admin_metrics_ = &http_metrics_.addListener(
      "admin", admin_router_, std::max(httpLoopCount(1), inherited_.count("admin")));
}

void Host::wrapStorage(const std::string& storage_plugin) {
  auto storage = registry_.find<Connection>("storage");
  storage_plugin_ = storage;
  std::shared_ptr<EventLogStorage2> log;
  if (storage && settings_.event_log.enabled) {
    log = withPrincipals(registry_.find<EventLogStorage>(kEventLogStorageService));
    if (!log) refuseOrWarnWithoutEventLog(storage_plugin);
  }
  event_log_ = std::make_unique<EventLogRuntime>(settings_, storage, std::move(log), event_bus_,
                                                 inbound_, inline_bus_, migrator_,
                                                 Poco::Logger::get("busbar.event_log"));
  // Modules get the outbox: events they dispatch inside a transaction commit with it.
  if (storage) registry_.replace("storage", event_log_->outbox());
}

void Host::refuseOrWarnWithoutEventLog(const std::string& storage_plugin) {
  const std::string missing = "storage plugin '" + storage_plugin +
                              "' does not provide the event log's storage (the " + "service '" +
                              kEventLogStorageService + "' of busbar/event_log_storage.h, SDK 1.3)";
  if (settings_.event_log.requested) {
    throw ConfigError(settings_.config_file + ": [event_log] enabled = true, but " + missing +
                      "; use a storage plugin that provides it (sqlite, mysql and postgresql " +
                      "do), or set enabled = false to run without the event log");
  }
  logger_.warning(missing + ", so the event log is off: a server cut off from the broker " +
                  "misses the events sent meanwhile until a resynchronization, and a commit " +
                  "whose outcome a broken connection hid is not settled (set [event_log] " +
                  "enabled = false to say that this is meant)");
}

void Host::start(const std::function<void()>& serving) {
  bindListeners();
  auto storage = registry_.find<Connection>("storage");
  bool migrated = storage == nullptr;
  for (auto& instance : instances_) {
    // Migrations need the storage open and must precede every module.
    if (!migrated && instance.loaded.descriptor->kind == BUSBAR_KIND_MODULE) {
      migrator_.apply(*storage, logger_);
      migrated = true;
    }
    instance.plugin->start();
    instance.started = true;
    logger_.information("started " + kindName(instance.loaded.descriptor->kind) + " " +
                        instance.loaded.name + " " + instance.loaded.descriptor->version);
  }
  if (!migrated) migrator_.apply(*storage, logger_);
  if (settings_.consumed.empty() && settings_.event_bus.transport != "local") {
    logger_.warning(
        "this server consumes no exchange: caches here will not hear other servers' "
        "changes; pass --exchange ALIAS (one of [event_bus] exchanges)");
  }
  storage_probe_ = std::make_unique<StorageProbe>(storage_plugin_, std::chrono::seconds(1),
                                                  std::chrono::seconds(10),
                                                  Poco::Logger::get("busbar.storage_probe"));
  storage_probe_->start();
  // The admin listener answers during the preload (GET /readyz says what is left), unless this
  // process takes over at a reload: the previous one answers on the same socket until this one
  // serves, and a probe must not meet a process that is still preloading.
  const bool taking_over = successor_report_ != nullptr && successor_report_->active();
  auto startAdmin = [this] {
    admin_http_->start(settings_.admin.bind_host, settings_.admin.bind_port);
    logger_.information("busbar " + settings_.server_id + " admin listening on " +
                        settings_.admin.bind_host + ":" + std::to_string(admin_http_->port()) +
                        (admin_tls_ ? " (HTTPS)" : ""));
  };
  if (!taking_over) startAdmin();

  event_log_->preload();
  inline_bus_.open();
  inline_bus_.fire(Lifecycle::kStart);
  event_log_->start();
  // A server that is not ready is known not to serve fresh rows (and load balancers send it
  // nothing): the observer counts what a serving server serves. A resynchronization reloads the
  // caches: what the observer saw before it says nothing of them after.
  consistency_.start(
      [this] {
        for (const auto& check : readiness_.evaluate()) {
          if (!check.problem.empty()) return "not ready (" + check.name + "): " + check.problem;
        }
        return std::string();
      },
      [this] { return event_log_->resyncs(); });
  // Ready before the public listener serves: the clients that connected while it was bound but
  // not serving are answered the moment it starts, and their first GET /readyz must say ready.
  readiness_.markPreloaded();
  if (serving) serving();
  http_->start(settings_.bind_host, settings_.bind_port);
  if (taking_over) {
    startAdmin();
    // The process before this one tells systemd, once it heard this, that this one is the main.
    {
      std::lock_guard<std::mutex> lock(reloads_mutex_);
      reloads_.last_unix_seconds = Poco::Timestamp().epochTime();
    }
    logger_.information("took over at a reload; serving plugins " + pluginVersions());
    if (!successor_report_->ready()) {
      logger_.warning("the process that started this one at a reload is gone; this one serves on");
    }
  } else {
    notifier_.notify("READY=1\nSTATUS=serving on " + settings_.bind_host + ":" +
                     std::to_string(settings_.bind_port) + ", admin on " +
                     settings_.admin.bind_host + ":" + std::to_string(admin_http_->port()));
  }
  // The watchdog's pings follow READY=1.
  liveness_.watch(
      "public", [this] { http_->pingLoops(); }, [this] { return http_->longestSilence(); });
  liveness_.watch(
      "admin", [this] { admin_http_->pingLoops(); },
      [this] { return admin_http_->longestSilence(); });
  liveness_.start();
  logger_.information("busbar " + settings_.server_id + " listening on " + settings_.bind_host +
                      ":" + std::to_string(settings_.bind_port) + (public_tls_ ? " (HTTPS)" : "") +
                      ", " + std::to_string(http_->loopCount()) + " event loops");
}

void Host::bindListeners() {
  // Both addresses are taken before any plugin starts, so that a taken port stops the start at
  // once, before migrations and the preload. The admin listener has one loop and a few workers:
  // operators, not clients.
  HttpSettings admin = settings_.http;
  admin.workers = 2;
  admin.max_connections = 64;
  HttpListenerOptions admin_options;
  admin_options.name = "admin";
  admin_options.loops = 1;
  admin_options.metrics = admin_metrics_;
  admin_options.access_log = logging_ != nullptr ? &logging_->accessLog() : nullptr;
  admin_options.access = admin_access_.get();
  admin_options.tls = admin_tls_.get();
  admin_http_ = std::make_unique<HttpServer>(admin_router_, admin,
                                             Poco::Logger::get("busbar.admin"), admin_options);
  HttpListenerOptions options;
  options.loops = settings_.http.loops;
  options.metrics = public_metrics_;
  options.access_log = admin_options.access_log;
  options.access = public_access_.get();
  options.tls = public_tls_.get();
  http_ = std::make_unique<HttpServer>(router_, settings_.http, logger_, options);
  auto bindOrExplain = [this](HttpServer& server, const std::string& name, const std::string& host,
                              uint16_t port, const std::string& option, const std::string& key) {
    try {
      server.bind(host, port, inherited_.take(name, host, port));
    } catch (const std::runtime_error& error) {
      throw std::runtime_error(
          std::string(error.what()) + ". Fix: stop the process that has it (ss -ltnp 'sport = :" +
          std::to_string(port) + "' names it), or choose another address with " + option + " or " +
          key + " in " + settings_.config_file);
    }
  };
  bindOrExplain(*http_, "public", settings_.bind_host, settings_.bind_port, "--bind",
                "[host] bind");
  bindOrExplain(*admin_http_, "admin", settings_.admin.bind_host, settings_.admin.bind_port,
                "--admin-bind", "[admin] bind");
  for (const auto& left : inherited_.untaken()) {
    logger_.warning("the " + left +
                    " listener's address changed in the config: this process binds the new one "
                    "and closes its copies of the old sockets, which the previous process serves "
                    "until it stops");
  }
  inherited_ = InheritedListeners();
}

void Host::reopenLogs() {
  if (logging_ == nullptr) return;
  try {
    logging_->apply(settings_.log, settings_.config_file, settings_.server_id);
    logger_.information("reopened the log files");
  } catch (const std::exception& error) {
    logger_.error(std::string("cannot reopen the log files: ") + error.what());
  }
}

void Host::stop(StopReason reason) noexcept {
  if (stopped_) return;
  stopped_ = true;
  const bool served = http_ != nullptr && http_->serving();
  Poco::Timestamp started;
  HttpServer::StopReport drained;
  // A stop signal: not ready from now on, before any connection closes, so that load balancers
  // stop sending. Handed over: the address stays ready (the new process serves it), and a probe
  // answered on one of this process's last connections must not say otherwise.
  if (reason == StopReason::kStopSignal) readiness_.markDraining();
  const auto idle = reason == StopReason::kHandedOver
                        ? HttpServer::IdleConnections::kCloseAfterNextAnswer
                        : HttpServer::IdleConnections::kClose;
  if (served && reason == StopReason::kStopSignal) {
    notifier_.notify("STOPPING=1\nSTATUS=draining");
    const int delay = settings_.http.shutdown_delay_seconds;
    if (delay > 0) {
      stop_progress_->enter("the drain delay ([http] shutdown_delay_seconds)");
      logger_.information("draining: GET /readyz answers 503 for " + std::to_string(delay) +
                          " s ([http] shutdown_delay_seconds) before the listeners close");
      std::this_thread::sleep_for(std::chrono::seconds(delay));
    }
  }
  stop_progress_->enter("the liveness monitor's stop");
  liveness_.stop();
  // The server object stays until the host goes: the consistency observer's readiness check and
  // the admin listener's metrics read its load() from their threads.
  // Both listeners drain at once, within one grace period: each gets all of it, and the stop's
  // deadline (the grace period and a margin) holds with idle connections on both.
  const auto grace_end = std::chrono::steady_clock::now() +
                         std::chrono::seconds(settings_.http.shutdown_grace_seconds);
  std::future<void> admin_drained;
  if (admin_http_) {
    admin_drained = std::async(std::launch::async, [this, idle, grace_end] {
      admin_http_->stop(idle, nullptr, grace_end);
    });
  }
  if (http_) drained = http_->stop(idle, stop_progress_.get(), grace_end);
  // Its routes read the plugins' metrics: it goes before they stop.
  if (admin_http_) {
    stop_progress_->enter("the end of the requests on the admin listener");
    try {
      admin_drained.get();
    } catch (const std::exception& error) {
      logger_.error(std::string("the admin listener's stop failed: ") + error.what());
    }
    admin_http_.reset();
  }
  if (served) {
    stop_progress_->enter("the modules' stop handlers");
    try {
      inline_bus_.fire(Lifecycle::kStop);
    } catch (const std::exception& error) {
      logger_.error(std::string("a stop handler failed: ") + error.what());
    }
  }
  stop_progress_->enter("the consistency observer's stop");
  consistency_.stop();
  stop_progress_->enter("the storage probe's stop");
  if (storage_probe_) storage_probe_->stop();
  stop_progress_->enter("the event log's stop (its numbering, relay and follower threads)");
  if (event_log_) event_log_->stop();
  inline_bus_.open();  // a transport waiting for preload to end must not block its shutdown
  for (auto it = instances_.rbegin(); it != instances_.rend(); ++it) {
    if (!it->started) continue;
    // The transport has settled what it published: mark it while the storage is open.
    if (it->loaded.descriptor->kind == BUSBAR_KIND_STORAGE && event_log_) {
      stop_progress_->enter("the event log's last mark of what the transport settled");
      event_log_->finish();
    }
    stop_progress_->enter("the stop of plugin " + it->loaded.name + " (" + it->loaded.path + ")");
    it->plugin->stop();
    it->started = false;
  }
  stop_progress_->enter("the plugins' unloading and the process's exit");
  if (!served) return;
  // The last line: a clean stop, told apart from a hang or a crash.
  logger_.information(
      "busbar " + settings_.server_id +
      (reason == StopReason::kHandedOver ? " (handed over at a reload)" : "") +
      " stopped cleanly in " + std::to_string(started.elapsed() / 1000) +
      " ms: " + std::to_string(drained.answered) + " answers sent while draining " +
      std::to_string(drained.open_at_stop) + " open connections (" +
      std::to_string(drained.cut_at_deadline) + " cut at the grace period), " +
      std::to_string(event_bus_.dispatched()) + " events dispatched since start" +
      (event_log_ && event_log_->enabled()
           ? ", event log applied up to seq " + std::to_string(event_log_->appliedSeq())
           : std::string()));
}

std::vector<std::string> Host::describePlugins() const {
  std::vector<std::string> lines;
  for (const auto& instance : instances_) {
    const auto* descriptor = instance.loaded.descriptor;
    lines.push_back(instance.loaded.name + " (" + kindName(descriptor->kind) + " " +
                    descriptor->version + ", ABI " + std::to_string(descriptor->abi_major) + "." +
                    std::to_string(descriptor->abi_minor) + ") from " + instance.loaded.path);
  }
  return lines;
}

}  // namespace busbar::host
