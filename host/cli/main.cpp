// busbar: the host executable. Options and config come from Poco's ServerApplication; signals
// from a SignalWaiter: SIGTERM, SIGINT and SIGQUIT stop the server, SIGHUP (systemctl reload)
// hands it over to a new process that reads the plugins and config afresh
// (handover/successor.h), SIGUSR1 reopens the log files.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include "busbar/abi.h"
#include "busbar/errors.h"
#include "cli/infra_command.h"
#include "cli/plugins_command.h"
#include "handover/deployment_check.h"
#include "handover/folder_watcher.h"
#include "handover/handover_environment.h"
#include "handover/inherited_listeners.h"
#include "handover/successor.h"
#include "handover/successor_report.h"
#include "host.h"
#include "ops/logging.h"
#include "ops/signal_waiter.h"

namespace busbar::host {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitConfig = 2;
// What a stop may take past [http] shutdown_delay_seconds and shutdown_grace_seconds.
constexpr int kStopMarginSeconds = 10;

// `message` for the terminal: the control bytes it quotes from a config file or a plugin (an
// escape sequence, a NUL, a line break) as \xNN, so that they cannot act there or fake a line.
std::string printableMessage(const std::string& message) {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  out.reserve(message.size());
  for (unsigned char c : message) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

using Poco::Util::Option;
using Poco::Util::OptionCallback;

class BusbarApplication : public Poco::Util::ServerApplication {
 protected:
  void defineOptions(Poco::Util::OptionSet& options) override {
    // Not ServerApplication's: its --daemon, --umask and --pidfile need ServerApplication::run,
    // and busbar runs in the foreground (systemd, containers, a terminal).
    Application::defineOptions(options);
    auto add = [&](const char* full, const char* shorter, const char* description,
                   const char* argument, bool repeatable,
                   void (BusbarApplication::*handler)(const std::string&, const std::string&)) {
      Option option(full, shorter, description);
      option.required(false).repeatable(repeatable);
      if (argument != nullptr) option.argument(argument);
      option.callback(OptionCallback<BusbarApplication>(this, handler));
      options.addOption(option);
    };
    add("config", "c",
        "host.conf to load (default: <prefix>/etc/busbar/host.conf; /etc/busbar/host.conf "
        "for the prefix /usr)",
        "FILE", false, &BusbarApplication::onConfig);
    add("bind", "b", "address to listen on; overrides [host] bind", "HOST:PORT", false,
        &BusbarApplication::onBind);
    add("admin-bind", "",
        "address of the admin listener (metrics resets, resync, plugins, config); overrides "
        "[admin] bind; port 0 picks a free one",
        "HOST:PORT", false, &BusbarApplication::onAdminBind);
    add("exchange", "e",
        "consume the exchange with this alias of [event_bus] exchanges; with :QUEUE from a "
        "shared durable queue; repeatable",
        "ALIAS[:QUEUE]", true, &BusbarApplication::onExchange);
    add("plugin-dir", "p", "folder of plugin .so files; overrides [host] plugin_dir", "DIR", false,
        &BusbarApplication::onPluginDir);
    add("check-config", "", "load the config and every plugin, report, and exit 0 (ok) or 2",
        nullptr, false, &BusbarApplication::onCheckConfig);
    add("json", "", "with plugins: print the listing as JSON", nullptr, false,
        &BusbarApplication::onJson);
    add("help", "h", "show this help and exit", nullptr, false, &BusbarApplication::onHelp);
    add("version", "v", "show the version and exit", nullptr, false, &BusbarApplication::onVersion);
  }

  int main(const std::vector<std::string>& args) override {
    if (help_) {
      Poco::Util::HelpFormatter formatter(options());
      formatter.setCommand(commandName());
      formatter.setUsage(
          "[OPTIONS] | watch [OPTIONS] | infra create|check|drop --config FILE | plugins "
          "[--plugin-dir DIR] [--config FILE] [--json]");
      formatter.setHeader("busbar: a plugin server for event-driven services.");
      formatter.setFooter("Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or plugin.");
      formatter.format(std::cout);
      return kExitOk;
    }
    if (version_) {
      std::cout << "busbar " << BUSBAR_VERSION << " (plugin ABI " << BUSBAR_ABI_MAJOR << "."
                << BUSBAR_ABI_MINOR << ", build " << BUSBAR_BUILD_SIGNATURE << ")\n";
      return kExitOk;
    }
    // Set when a reload started this process: where it reports (successor_report.h).
    std::unique_ptr<SuccessorReport> report;
    auto fail = [&](int code, const std::string& message) {
      std::cerr << "busbar: " << printableMessage(message) << std::endl;
      if (report) report->failed(message);
      return code;
    };
    try {
      if (!args.empty() && args[0] == "infra") return runInfra(args, settings(), logger());
      if (!args.empty() && args[0] == "plugins") {
        if (args.size() != 1) {
          throw ConfigError("usage: busbar plugins [--plugin-dir DIR] [--config FILE] [--json]");
        }
        return runPlugins(pluginDirs(), json_, BUSBAR_VERSION, std::cout, servingAddress());
      }
      const bool watching = !args.empty() && args[0] == "watch";
      if (watching && args.size() != 1) {
        throw ConfigError("usage: busbar watch [server options]; found '" + args[1] + "' after it");
      }
      if (!args.empty() && !watching) {
        throw ConfigError("unknown command '" + args[0] + "'; see busbar --help");
      }
      HandoverEnvironment handover = takeHandoverEnvironment();
      report = std::make_unique<SuccessorReport>(handover.report_fd);
      InheritedListeners inherited(handover.listeners);
      HostSettings loaded = settings();
      logging_.apply(loaded.log, loaded.config_file, loaded.server_id);
      // A stop takes the drain and the grace, then a little to stop the plugins; past that
      // something is stuck (a handler, a plugin's stop), and the process ends anyway.
      const auto stop_deadline =
          std::chrono::seconds(loaded.http.shutdown_delay_seconds +
                               loaded.http.shutdown_grace_seconds + kStopMarginSeconds);
      Host host(std::move(loaded), logger(), &logging_);
      if (handover.handedOver()) {
        host.takeOver(std::move(inherited), report.get(), handover.history);
      }
      // Watching starts before the plugins load, so that a change made while this process starts
      // is seen (the reload it asks for waits until the server serves).
      std::atomic<bool> watch_stopping{false};
      std::unique_ptr<FolderWatcher> watcher;
      if (watching && !check_config_) {
        watcher = watchDeployment(host.settings(), watch_stopping);
      }
      host.load();
      if (check_config_) {
        std::cout << config_file_ << ": ok\n";
        for (const auto& line : host.describePlugins()) std::cout << "  " << line << "\n";
        return kExitOk;
      }
      host.start([this] { signals_.markServing(); });
      Host::StopReason reason = Host::StopReason::kStopSignal;
      for (bool serving = true; serving;) {
        switch (signals_.next()) {
          case SignalWaiter::Request::kStop:
            serving = false;
            break;
          case SignalWaiter::Request::kReopenLogs:
            host.reopenLogs();
            break;
          case SignalWaiter::Request::kReload:
            if (handOver(host)) {
              reason = Host::StopReason::kHandedOver;
              serving = false;
            }
            break;
        }
      }
      watch_stopping = true;  // a check that runs is ended
      watcher.reset();
      logger().information(reason == Host::StopReason::kHandedOver ? "stopping: handed over"
                                                                   : "stopping");
      signals_.armStopDeadline(stop_deadline, host.stopProgress());
      host.stop(reason);
      return kExitOk;
    } catch (const ConfigError& error) {
      return fail(kExitConfig, error.what());
    } catch (const PluginRejected& error) {
      return fail(kExitConfig, error.what());
    } catch (const std::exception& error) {
      return fail(kExitFailure, error.what());
    }
  }

 private:
  // The handover variables of this process's environment (removed from it). A malformed one is
  // a bad start: ConfigError.
  static HandoverEnvironment takeHandoverEnvironment() {
    try {
      return HandoverEnvironment::take();
    } catch (const std::runtime_error& error) {
      throw ConfigError(error.what());
    }
  }

  // busbar watch: the plugin folders and the config file are watched; once a change settled and
  // the new set passes the checks (deployment_check.h), the server reloads as on SIGHUP.
  std::unique_ptr<FolderWatcher> watchDeployment(const HostSettings& settings,
                                                 const std::atomic<bool>& stopping) {
    std::vector<FolderWatcher::Folder> folders;
    for (const auto& dir : settings.plugin_dirs) folders.push_back({dir, true});
    const std::string config_file = settings.config_file;
    folders.push_back({Poco::Path(config_file).parent().toString(), false});
    const std::vector<std::string> plugin_dirs = settings.plugin_dirs;
    auto matters = [config_file, plugin_dirs](const std::string& path) {
      if (path == config_file) return true;
      if (path.size() < 3 || path.compare(path.size() - 3, 3, ".so") != 0) return false;
      const std::string folder = Poco::Path(path).parent().toString();
      for (const auto& dir : plugin_dirs) {
        if (Poco::Path(dir).makeDirectory().toString() == folder) return true;
      }
      return false;
    };
    const std::string program = config().getString("application.path");
    // The server's arguments without the command word (an option's value may be "watch" too).
    std::vector<std::string> server_args;
    bool dropped = false;
    for (size_t i = 1; i < argv().size(); ++i) {
      const std::string& argument = argv()[i];
      const bool value = !server_args.empty() && takesValue(server_args.back());
      if (!dropped && !value && argument == "watch") {
        dropped = true;
        continue;
      }
      server_args.push_back(argument);
    }
    const auto deadline = std::chrono::seconds(settings.reload_timeout_seconds);
    auto settled = [this, program, server_args, deadline,
                    &stopping](const std::set<std::string>& changed) {
      std::string files;
      for (const auto& path : changed) files += (files.empty() ? "" : ", ") + path;
      logger().information("watch: changed: " + files + "; checking the new set");
      const auto check = checkDeployment(program, server_args, changed, deadline, &stopping);
      if (stopping) return;
      switch (check.verdict) {
        case DeploymentCheck::Verdict::kReady:
          logger().information("watch: the new set passes --check-config; reloading");
          ::kill(::getpid(), SIGHUP);
          break;
        case DeploymentCheck::Verdict::kIncomplete:
          logger().warning("watch: waiting for the file to be complete: " + check.detail);
          break;
        case DeploymentCheck::Verdict::kRefused:
          logger().error("watch: the new set is refused, this server serves on as before: " +
                         check.detail);
          break;
      }
    };
    logger().information("watch: reloading when a .so in " +
                         [&] {
                           std::string listed;
                           for (const auto& dir : plugin_dirs)
                             listed += (listed.empty() ? "" : ", ") + dir;
                           return listed;
                         }() +
                         " or " + config_file + " changes");
    return std::make_unique<FolderWatcher>(
        folders, matters, std::chrono::milliseconds(settings.watch_settle_ms), settled);
  }

  // Whether `option` (as written on the command line) takes the next argument as its value.
  bool takesValue(const std::string& option) const {
    try {
      if (option.rfind("--", 0) == 0) {
        return option.find('=') == std::string::npos &&
               options().getOption(option.substr(2), false).takesArgument();
      }
      if (option.size() == 2 && option[0] == '-') {
        return options().getOption(option.substr(1), true).takesArgument();
      }
    } catch (const Poco::Exception&) {
      // Not an option of busbar's: a value, or a word.
    }
    return false;
  }

  // A reload: a new process of the same executable and arguments takes over once it serves.
  // Returns true when it did (this process then stops), false when this one serves on.
  bool handOver(Host& host) {
    if (::getpid() == 1) {
      logger().error(
          "reload refused: busbar runs as PID 1 (a container's first process), and a reload "
          "hands the server to a new process, which would end the container when this one "
          "exits; restart the container instead (an init such as tini or docker run --init "
          "ends with its first child just the same)");
      return false;
    }
    const std::string program = config().getString("application.path");
    const std::vector<std::string> arguments(argv().begin() + 1, argv().end());
    HandoverEnvironment handover;
    handover.listeners = host.listeningDescriptors();
    handover.history = host.reloadHistory();
    ++handover.history.succeeded;  // the new process's own, once it serves
    host.reloadBegins();
    logger().information("reload: starting a new process (" + program +
                         ") to take over once it serves");
    const auto result = Successor::run(program, arguments, handover,
                                       std::chrono::seconds(host.settings().reload_timeout_seconds),
                                       [this] { return signals_.stopRequested(); });
    if (!host.reloadEnded(result)) return false;
    // A reload asked for meanwhile (a SIGHUP, a change busbar watch saw) is the new process's
    // to do: it reads the files as they are now.
    if (signals_.takeReloadRequest()) {
      logger().information("reload: another reload was asked for meanwhile; the new process (PID " +
                           std::to_string(result.pid) + ") does it");
      ::kill(result.pid, SIGHUP);
    }
    return true;
  }

  HostSettings settings() {
    if (config_file_.empty()) {
      config_file_ = defaultConfigFile();
      if (!Poco::File(config_file_).exists()) {
        throw ConfigError("no --config given and " + config_file_ +
                          " does not exist; pass --config FILE");
      }
    }
    return loadHostSettings(config_file_, overrides_, installRelative(BUSBAR_PLUGIN_DIR_FROM_BIN));
  }

  // The folders `busbar plugins` lists: --plugin-dir, else those of the config (--config or the
  // default one, when it exists), else the bundled plugins' folder.
  std::vector<std::string> pluginDirs() {
    if (!overrides_.plugin_dir.empty()) {
      return {Poco::Path(overrides_.plugin_dir).makeAbsolute().toString()};
    }
    if (!config_file_.empty() || Poco::File(defaultConfigFile()).exists()) {
      return settings().plugin_dirs;
    }
    return {installRelative(BUSBAR_PLUGIN_DIR_FROM_BIN)};
  }

  // The public address of the server of the config (--config or the default one, when it
  // exists; --bind overrides it), to ask which plugins serve; none without a config.
  std::optional<ServingAddress> servingAddress() {
    if (config_file_.empty() && !Poco::File(defaultConfigFile()).exists()) return std::nullopt;
    const HostSettings loaded = settings();
    return ServingAddress{loaded.bind_host, loaded.bind_port};
  }

  // <prefix>/etc/busbar/host.conf, <prefix> being the folder above the executable's; for the
  // prefixes / and /usr it is /etc/busbar/host.conf, for /opt/<name> /etc/opt/<name>/busbar,
  // as GNUInstallDirs and the install rules place it.
  std::string defaultConfigFile() {
    Poco::Path bin(config().getString("application.dir"));
    std::string prefix = bin.makeDirectory().makeAbsolute().parent().toString();
    while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
    std::string etc = prefix + "/etc";
    if (prefix == "/" || prefix == "/usr") {
      etc = "/etc";
    } else if (prefix.rfind("/opt/", 0) == 0) {
      etc = "/etc" + prefix;
    }
    return etc + "/busbar/host.conf";
  }

  // A path relative to the folder of the executable, so the build and install trees both work.
  std::string installRelative(const std::string& relative) {
    Poco::Path path(config().getString("application.dir"));
    path.makeDirectory().makeAbsolute();
    path.resolve(Poco::Path(relative));
    return path.toString();
  }

  void onConfig(const std::string&, const std::string& value) { config_file_ = value; }
  void onBind(const std::string&, const std::string& value) { overrides_.bind = value; }
  void onAdminBind(const std::string&, const std::string& value) { overrides_.admin_bind = value; }
  void onExchange(const std::string&, const std::string& value) {
    overrides_.exchanges.push_back(value);
  }
  void onPluginDir(const std::string&, const std::string& value) { overrides_.plugin_dir = value; }
  void onCheckConfig(const std::string&, const std::string&) { check_config_ = true; }
  void onJson(const std::string&, const std::string&) { json_ = true; }
  void onHelp(const std::string&, const std::string&) {
    help_ = true;
    stopOptionsProcessing();
  }
  void onVersion(const std::string&, const std::string&) {
    version_ = true;
    stopOptionsProcessing();
  }

  Logging logging_;  // first: every logger writes through it
  SignalWaiter signals_{Poco::Logger::get("busbar")};
  std::string config_file_;
  CommandLineOverrides overrides_;
  bool check_config_ = false;
  bool json_ = false;
  bool help_ = false;
  bool version_ = false;
};

}  // namespace
}  // namespace busbar::host

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the mask (signal_waiter.h).
  busbar::host::blockServerSignals();
  busbar::host::BusbarApplication application;
  try {
    application.init(argc, argv);
  } catch (const Poco::Exception& error) {
    std::cerr << "busbar: " << busbar::host::printableMessage(error.displayText())
              << "; see busbar --help" << std::endl;
    return 2;
  }
  // ServerApplication::run() is protected; the public base entry point dispatches to it.
  return static_cast<Poco::Util::Application&>(application).run();
}
