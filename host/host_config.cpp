#include "host_config.h"

#include <fstream>
#include <sstream>

#include <Poco/Environment.h>
#include <Poco/File.h>
#include <Poco/NumberParser.h>
#include <Poco/Path.h>
#include <Poco/String.h>
#include <Poco/Util/IniFileConfiguration.h>

#include "config_files.h"

namespace busbar::host {
namespace {

const std::set<std::string> kHostSections = {"host",  "event_bus", "event_log",   "http", "storage",
                                             "admin", "log",       "consistency", "token"};

bool isAlias(const std::string& text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

std::string stripInlineComment(const std::string& line) {
  auto first = line.find_first_not_of(" \t");
  if (first != std::string::npos && (line[first] == '#' || line[first] == ';')) return "";
  for (size_t i = 1; i < line.size(); ++i) {
    if ((line[i] == ';' || line[i] == '#') && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(0, i);
    }
  }
  return line;
}

// "250ms", "2s" or "2" (seconds), within [min, max].
std::chrono::milliseconds getDuration(const ConfigSection& section, const std::string& key,
                                      std::chrono::milliseconds fallback,
                                      std::chrono::milliseconds min,
                                      std::chrono::milliseconds max) {
  std::string text = section.getString(key);
  if (text.empty()) return fallback;
  const std::string expected = "must be a duration from " + std::to_string(min.count()) + "ms to " +
                               std::to_string(max.count() / 1000) + "s, written like 250ms or 2s";
  int64_t scale = 1000;
  std::string number = text;
  if (text.size() > 2 && text.compare(text.size() - 2, 2, "ms") == 0) {
    scale = 1;
    number = text.substr(0, text.size() - 2);
  } else if (text.size() > 1 && text.back() == 's') {
    number = text.substr(0, text.size() - 1);
  }
  Poco::Int64 value = 0;
  if (!Poco::NumberParser::tryParse64(Poco::trim(number), value) || value < 0 ||
      value > max.count() / scale + 1 || std::chrono::milliseconds(value * scale) < min ||
      std::chrono::milliseconds(value * scale) > max) {
    section.fail(key, expected, "'" + text + "'");
  }
  return std::chrono::milliseconds(value * scale);
}

EventLogSettings readEventLog(const ConfigSection& section, const ConfigSection& event_bus) {
  section.rejectUnknownKeys(
      {"enabled", "retention_events", "retention_seconds", "relay_delay", "prune_interval"});
  EventLogSettings settings;
  settings.enabled = section.getBool("enabled", settings.enabled);
  settings.requested = settings.enabled && section.has("enabled");
  settings.retention_events = static_cast<uint64_t>(section.getInt(
      "retention_events", static_cast<int64_t>(settings.retention_events), 1000, 1LL << 40));
  settings.retention_seconds =
      section.getInt("retention_seconds", settings.retention_seconds, 60, 10LL * 365 * 86400);
  settings.relay_delay =
      getDuration(section, "relay_delay", settings.relay_delay, std::chrono::milliseconds(100),
                  std::chrono::milliseconds(3600 * 1000));
  settings.prune_interval =
      getDuration(section, "prune_interval", settings.prune_interval,
                  std::chrono::milliseconds(1000), std::chrono::milliseconds(24 * 3600 * 1000));
  settings.catch_up_interval =
      getDuration(event_bus, "catch_up_interval", settings.catch_up_interval,
                  std::chrono::milliseconds(10), std::chrono::milliseconds(3600 * 1000));
  return settings;
}

EventBusSettings readEventBus(const ConfigSection& section) {
  section.rejectUnknownKeys({"transport", "async_pass_through", "catch_up_interval"},
                            {"exchanges", "router"});
  EventBusSettings settings;
  settings.transport = section.getString("transport", "local");
  settings.async_pass_through = section.getBool("async_pass_through", true);
  for (const auto& alias : section.subkeys("exchanges")) {
    std::string name = section.getString("exchanges." + alias);
    if (!isAlias(alias)) {
      section.fail("exchanges." + alias, "must name an alias of [A-Za-z0-9_.-]", "'" + alias + "'");
    }
    if (name.empty()) {
      section.fail("exchanges." + alias, "must give the broker's exchange name", "nothing");
    }
    settings.exchanges[alias] = name;
  }
  for (const auto& key : section.allKeys()) {
    if (key.rfind("router.", 0) == 0 && key.find('.', 7) != std::string::npos) {
      section.fail(key,
                   "names an event type with a '.', which INI keys cannot hold; use a type "
                   "without dots",
                   "'" + key.substr(7) + "'");
    }
  }
  for (const auto& type : section.subkeys("router")) {
    auto aliases = section.getList("router." + type);
    for (const auto& alias : aliases) {
      if (settings.exchanges.count(alias) == 0) {
        section.fail("router." + type, "must list aliases defined as exchanges.<alias>",
                     "'" + alias + "'");
      }
    }
    settings.router[type] = aliases;
  }
  return settings;
}

// tls, tls_cert_file and tls_key_file of a listener's section; the files must be readable and
// the key private (OpenSSL loads them when the listener is made: tls_context.h).
ListenerTlsSettings readListenerTls(const ConfigSection& section) {
  ListenerTlsSettings tls;
  tls.enabled = section.getBool("tls", false);
  tls.cert_file = section.getPath("tls_cert_file", "");
  tls.key_file = section.getPath("tls_key_file", "");
  if (!tls.enabled) {
    for (const char* key : {"tls_cert_file", "tls_key_file"}) {
      if (section.has(key)) {
        section.fail(key, "takes effect with tls = true only: set it, or remove this key",
                     "tls off");
      }
    }
    return tls;
  }
  for (const char* key : {"tls_cert_file", "tls_key_file"}) {
    if (!section.has(key)) {
      section.fail(key,
                   "is required with tls = true: the PEM file of the listener's " +
                       std::string(key == std::string("tls_cert_file")
                                       ? "certificate (then its intermediates)"
                                       : "private key"),
                   "nothing");
    }
  }
  plugins::requireReadableFile(section, "tls_cert_file", tls.cert_file,
                               plugins::FileSecrecy::kPublic);
  plugins::requireReadableFile(section, "tls_key_file", tls.key_file,
                               plugins::FileSecrecy::kPrivateKey);
  return tls;
}

// A listener section's keys, with those of its TLS.
std::set<std::string> withTlsKeys(std::set<std::string> keys) {
  keys.insert({"tls", "tls_cert_file", "tls_key_file"});
  return keys;
}

HttpSettings readHttp(const ConfigSection& section) {
  // Keys of the thread-per-connection server, named so that an old config says what to change.
  if (section.has("threads")) {
    section.fail("threads",
                 "is no longer used: connections wait on event loops, and handlers that may "
                 "block run on [http] workers; rename it to workers",
                 "it");
  }
  section.rejectUnknownKeys(
      withTlsKeys({"max_body", "max_header_bytes", "max_headers", "workers", "max_connections",
                   "keep_alive_seconds", "header_timeout_seconds", "body_timeout_seconds",
                   "write_timeout_seconds", "shutdown_grace_seconds", "shutdown_delay_seconds",
                   "request_timeout_seconds", "max_queued", "auth", "open_reads", "loops"}));
  HttpSettings settings;
  auto integer = [&section](const char* key, auto fallback, int64_t min, int64_t max) {
    return static_cast<decltype(fallback)>(
        section.getInt(key, static_cast<int64_t>(fallback), min, max));
  };
  settings.max_body = integer("max_body", settings.max_body, 1, 1LL << 30);
  settings.max_header_bytes = integer("max_header_bytes", settings.max_header_bytes, 256, 1 << 20);
  settings.max_headers = integer("max_headers", settings.max_headers, 1, 10000);
  settings.workers = integer("workers", settings.workers, 1, 4096);
  settings.loops = integer("loops", settings.loops, 0, 64);
  settings.max_connections = integer("max_connections", settings.max_connections, 1, 1000000);
  settings.keep_alive_seconds = integer("keep_alive_seconds", settings.keep_alive_seconds, 1, 3600);
  settings.header_timeout_seconds =
      integer("header_timeout_seconds", settings.header_timeout_seconds, 1, 3600);
  settings.body_timeout_seconds =
      integer("body_timeout_seconds", settings.body_timeout_seconds, 1, 3600);
  settings.write_timeout_seconds =
      integer("write_timeout_seconds", settings.write_timeout_seconds, 1, 3600);
  settings.request_timeout_seconds =
      integer("request_timeout_seconds", settings.request_timeout_seconds, 1, 3600);
  settings.max_queued = integer("max_queued", settings.max_queued, 1, 1000000);
  settings.shutdown_grace_seconds =
      integer("shutdown_grace_seconds", settings.shutdown_grace_seconds, 0, 3600);
  settings.shutdown_delay_seconds =
      integer("shutdown_delay_seconds", settings.shutdown_delay_seconds, 0, 3600);
  settings.tls = readListenerTls(section);
  return settings;
}

// "100M", "10K", "1G", "daily", "weekly", "monthly" or "none", as Poco::FileChannel's rotation.
std::string readRotation(const ConfigSection& section) {
  const std::string text = Poco::toLower(section.getString("rotation", "100M"));
  if (text == "none") return "never";
  if (text == "daily" || text == "weekly" || text == "monthly") return text;
  const std::string expected =
      "must be a size like 100M (K, M or G), daily, weekly, monthly or none";
  if (text.size() < 2) section.fail("rotation", expected, "'" + text + "'");
  const char unit = text.back();
  unsigned size = 0;
  if ((unit != 'k' && unit != 'm' && unit != 'g') ||
      !Poco::NumberParser::tryParseUnsigned(text.substr(0, text.size() - 1), size) || size == 0 ||
      size > 1024 * 1024) {
    section.fail("rotation", expected, "'" + section.getString("rotation") + "'");
  }
  if (unit == 'g') return std::to_string(size * 1024) + " M";
  return std::to_string(size) + (unit == 'k' ? " K" : " M");
}

LogSettings readLog(const ConfigSection& section) {
  section.rejectUnknownKeys(
      {"level", "format", "file", "rotation", "keep", "access", "access_file"});
  static const std::vector<std::string> kLevels = {"fatal",  "critical",    "error", "warning",
                                                   "notice", "information", "debug", "trace"};
  LogSettings settings;
  settings.level_name = section.getChoice("level", settings.level_name, kLevels);
  for (size_t i = 0; i < kLevels.size(); ++i) {
    if (kLevels[i] == settings.level_name) settings.level = static_cast<int>(i) + 1;
  }
  settings.format = section.getChoice("format", "text", {"text", "json"}) == "json"
                        ? LogFormat::kJson
                        : LogFormat::kText;
  settings.file = section.getPath("file", "");
  settings.rotation = readRotation(section);
  settings.keep = static_cast<int>(section.getInt("keep", settings.keep, 1, 10000));
  settings.access = section.getBool("access", settings.access);
  settings.access_file = section.getPath("access_file", "");
  if (!settings.access_file.empty() && !settings.access) {
    section.fail("access_file", "needs access = true, or remove it", "access = false");
  }
  if (!settings.access_file.empty() && settings.access_file == settings.file) {
    section.fail("access_file", "must differ from file (leave it out to log both together)",
                 "'" + settings.access_file + "'");
  }
  return settings;
}

AdminSettings readAdmin(const ConfigSection& section, const std::string& override_bind) {
  section.rejectUnknownKeys(withTlsKeys({"bind", "auth"}));
  AdminSettings settings;
  settings.tls = readListenerTls(section);
  std::string bind = override_bind.empty() ? section.getString("bind") : override_bind;
  if (bind.empty()) return settings;
  auto colon = bind.rfind(':');
  unsigned port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !Poco::NumberParser::tryParseUnsigned(bind.substr(colon + 1), port) || port > 65535) {
    const std::string expected =
        "must be HOST:PORT with a port from 0 (any free one) to 65535, e.g. 127.0.0.1:9000";
    if (!override_bind.empty()) {
      throw ConfigError("--admin-bind " + expected + "; found '" + bind + "'");
    }
    section.fail("bind", expected, "'" + bind + "'");
  }
  settings.bind_host = bind.substr(0, colon);
  settings.bind_port = static_cast<uint16_t>(port);
  return settings;
}

ConsistencySettings readConsistency(const ConfigSection& section) {
  section.rejectUnknownKeys({"enabled", "rows_per_second", "full_pass", "bound"});
  ConsistencySettings settings;
  settings.enabled = section.getBool("enabled", settings.enabled);
  settings.rows_per_second = static_cast<double>(section.getInt(
      "rows_per_second", static_cast<int64_t>(settings.rows_per_second), 1, 10000000));
  settings.full_pass = std::chrono::duration_cast<std::chrono::seconds>(
      getDuration(section, "full_pass", settings.full_pass, std::chrono::seconds(1),
                  std::chrono::hours(24 * 30)));
  settings.bound = getDuration(section, "bound", settings.bound, std::chrono::milliseconds(100),
                               std::chrono::hours(1));
  return settings;
}

std::vector<ConsumedExchange> resolveConsumed(const std::vector<std::string>& specs,
                                              const EventBusSettings& bus,
                                              const std::string& file) {
  std::vector<ConsumedExchange> consumed;
  for (const auto& spec : specs) {
    ConsumedExchange entry;
    auto colon = spec.find(':');
    entry.alias = spec.substr(0, colon);
    if (colon != std::string::npos) entry.queue = spec.substr(colon + 1);
    auto found = bus.exchanges.find(entry.alias);
    if (found == bus.exchanges.end()) {
      std::string known;
      for (const auto& [alias, name] : bus.exchanges) known += (known.empty() ? "" : ", ") + alias;
      throw ConfigError("--exchange " + spec + ": '" + entry.alias +
                        "' is not an exchange alias of " + file + " [event_bus]; known aliases: " +
                        (known.empty() ? "none (add exchanges.<alias> = <name>)" : known));
    }
    if (colon != std::string::npos && !isAlias(entry.queue)) {
      throw ConfigError("--exchange " + spec +
                        ": the queue name after ':' must be 1-64 characters of [A-Za-z0-9_.-]");
    }
    entry.exchange = found->second;
    consumed.push_back(entry);
  }
  return consumed;
}

}  // namespace

Poco::AutoPtr<Poco::Util::AbstractConfiguration> readIniFile(const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    throw ConfigError(file + ": cannot read the config file (" +
                      (Poco::File(file).exists() ? "permission denied" : "it does not exist") +
                      "); pass an existing file with --config");
  }
  std::stringstream cleaned;
  std::string line;
  while (std::getline(in, line)) cleaned << stripInlineComment(line) << '\n';
  try {
    return new Poco::Util::IniFileConfiguration(cleaned);
  } catch (const Poco::Exception& error) {
    throw ConfigError(file + ": not a valid INI file: " + error.displayText());
  }
}

LogSettings loadLogSettings(const std::string& file) {
  const std::string absolute = Poco::Path(file).makeAbsolute().toString();
  return readLog(sectionOf(readIniFile(absolute), absolute, "log"));
}

ConfigSection sectionOf(const Poco::AutoPtr<Poco::Util::AbstractConfiguration>& config,
                        const std::string& file, const std::string& name) {
  return ConfigSection(config, file, name);
}

int lineOfKey(const std::string& file, const std::string& section, const std::string& key) {
  std::ifstream in(file);
  std::string current;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const std::string text = Poco::trim(line);
    if (text.size() > 1 && text.front() == '[' && text.back() == ']') {
      current = Poco::trim(text.substr(1, text.size() - 2));
      continue;
    }
    const auto equals = text.find('=');
    if (current == section && equals != std::string::npos &&
        Poco::trim(text.substr(0, equals)) == key) {
      return number;
    }
  }
  return 0;
}

void rejectUnknownSections(const Poco::AutoPtr<Poco::Util::AbstractConfiguration>& config,
                           const std::string& file, const std::set<std::string>& owned) {
  Poco::Util::AbstractConfiguration::Keys sections;
  config->keys(sections);
  for (const auto& section : sections) {
    if (kHostSections.count(section) != 0 || owned.count(section) != 0) continue;
    std::vector<std::string> names(kHostSections.begin(), kHostSections.end());
    names.insert(names.end(), owned.begin(), owned.end());
    std::string allowed;
    for (const auto& name : names) allowed += (allowed.empty() ? "" : ", ") + name;
    throw ConfigError(file + ": unknown section [" + section + "]." + didYouMean(section, names) +
                      " The sections are: " + allowed +
                      " (a plugin's section needs the plugin in [host] plugins).");
  }
}

std::pair<std::string, uint16_t> parseHostPort(const std::string& text, const std::string& what) {
  auto colon = text.rfind(':');
  unsigned port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !Poco::NumberParser::tryParseUnsigned(text.substr(colon + 1), port) || port == 0 ||
      port > 65535) {
    throw ConfigError(what + " must be HOST:PORT with a port from 1 to 65535; found '" + text +
                      "'");
  }
  return {text.substr(0, colon), static_cast<uint16_t>(port)};
}

HostSettings loadHostSettings(const std::string& file, const CommandLineOverrides& overrides,
                              const std::string& default_plugin_dir) {
  HostSettings settings;
  settings.config_file = Poco::Path(file).makeAbsolute().toString();
  auto config = readIniFile(settings.config_file);

  ConfigSection host = sectionOf(config, settings.config_file, "host");
  host.rejectUnknownKeys(
      {"bind", "server_id", "plugins", "plugin_dir", "reload_timeout_seconds", "watch_settle_ms"});
  std::string bind =
      overrides.bind.empty() ? host.getString("bind", "127.0.0.1:8000") : overrides.bind;
  auto [bind_host, bind_port] = parseHostPort(
      bind, overrides.bind.empty() ? settings.config_file + ": [host] bind" : "--bind");
  settings.bind_host = bind_host;
  settings.bind_port = bind_port;
  settings.server_id = host.getString(
      "server_id", Poco::Environment::nodeName() + ":" + std::to_string(settings.bind_port));
  bool printable = !settings.server_id.empty() && settings.server_id.size() <= 255;
  for (unsigned char c : settings.server_id) printable = printable && c >= 0x20 && c != 0x7F;
  if (!printable) {
    host.fail("server_id", "must be 1-255 bytes without control characters (events carry it)",
              "'" + settings.server_id + "'");
  }
  settings.reload_timeout_seconds = static_cast<int>(
      host.getInt("reload_timeout_seconds", settings.reload_timeout_seconds, 1, 3600));
  settings.watch_settle_ms =
      static_cast<int>(host.getInt("watch_settle_ms", settings.watch_settle_ms, 50, 600000));
  settings.plugins = host.getList("plugins");
  if (settings.plugins.empty()) {
    host.fail("plugins", "must list the plugins to load, e.g. local, sqlite, users", "nothing");
  }
  if (!overrides.plugin_dir.empty()) {
    settings.plugin_dirs.push_back(Poco::Path(overrides.plugin_dir).makeAbsolute().toString());
  } else if (host.has("plugin_dir")) {
    for (const auto& dir : host.getList("plugin_dir")) {
      Poco::Path path(dir);
      settings.plugin_dirs.push_back(
          path.isAbsolute()
              ? dir
              : Poco::Path(Poco::Path(settings.config_file).parent(), path).toString());
    }
  } else {
    settings.plugin_dirs.push_back(default_plugin_dir);
  }

  settings.event_bus = readEventBus(sectionOf(config, settings.config_file, "event_bus"));
  settings.event_log = readEventLog(sectionOf(config, settings.config_file, "event_log"),
                                    sectionOf(config, settings.config_file, "event_bus"));
  settings.http = readHttp(sectionOf(config, settings.config_file, "http"));
  settings.admin =
      readAdmin(sectionOf(config, settings.config_file, "admin"), overrides.admin_bind);
  settings.auth = readAuthSettings(config, settings.config_file);
  settings.log = readLog(sectionOf(config, settings.config_file, "log"));
  settings.consistency = readConsistency(sectionOf(config, settings.config_file, "consistency"));
  if (settings.admin.bind_port != 0 && settings.admin.bind_port == settings.bind_port) {
    throw ConfigError(settings.config_file + ": [admin] bind and [host] bind both use port " +
                      std::to_string(settings.bind_port) +
                      "; the admin listener needs a port of its own (set [admin] bind or "
                      "--admin-bind)");
  }
  settings.storage_driver = sectionOf(config, settings.config_file, "storage").getString("driver");
  settings.consumed =
      resolveConsumed(overrides.exchanges, settings.event_bus, settings.config_file);
  return settings;
}

}  // namespace busbar::host
