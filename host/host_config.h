// HostConfig: host.conf read, checked and turned into settings, with command-line overrides.
//
// Only the host's own sections ([host], [event_bus], [event_log], [http], [admin], [log],
// [consistency], [token.<name>]) are
// interpreted here;
// every other section belongs to a plugin, which checks it in its init(). Immutable once loaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Util/AbstractConfiguration.h>

#include "auth_settings.h"
#include "busbar/config.h"
#include "busbar/plugin.h"

namespace busbar::host {

struct CommandLineOverrides {
  std::string bind;                    // --bind HOST:PORT
  std::vector<std::string> exchanges;  // --exchange ALIAS[:QUEUE], repeatable
  std::string plugin_dir;              // --plugin-dir DIR
  std::string admin_bind;              // --admin-bind HOST:PORT
};

struct EventBusSettings {
  std::string transport;                                   // a transport plugin's name
  std::map<std::string, std::string> exchanges;            // alias -> broker name
  std::map<std::string, std::vector<std::string>> router;  // type, _all, _others -> aliases
  bool async_pass_through = true;
};

// [event_log] and [event_bus] catch_up_interval: the event log (host/events/event_log.h).
struct EventLogSettings {
  bool enabled = true;
  bool requested = false;  // `enabled = true` is written: a storage plugin without the log fails
  std::chrono::milliseconds catch_up_interval{1000};
  uint64_t retention_events = 1000000;
  int64_t retention_seconds = 7 * 24 * 3600;
  std::chrono::milliseconds relay_delay{10000};
  std::chrono::milliseconds prune_interval{60000};  // how often the relay lease holder prunes
};

// [http]: the server's limits and deadlines. Deadlines are whole: a head, a body or a response
// write that takes longer in total ends the connection, however it trickles.
// A listener's TLS (tls, tls_cert_file and tls_key_file of [http] or [admin]): HTTPS with this
// certificate chain and key, read again by each process (a reload picks up renewed files).
struct ListenerTlsSettings {
  bool enabled = false;
  std::string cert_file;  // PEM: the listener's certificate, then the intermediates it needs
  std::string key_file;   // PEM: its private key, readable by its owner only
};

struct HttpSettings {
  size_t max_body = 1024 * 1024;
  size_t max_header_bytes = 16384;  // request line and header fields together
  int max_headers = 100;
  int workers = 64;  // threads for handlers that may block
  // Event loops of the public listener; 0: one per core the process can keep busy
  // (usable_cores.h: its CPU affinity, lowered by its cgroup's CPU quota).
  size_t loops = 0;
  int max_connections = 10000;
  int keep_alive_seconds = 15;      // idle between requests
  int header_timeout_seconds = 10;  // from a request's first byte to the end of its head
  int body_timeout_seconds = 30;    // from the end of the head to the end of the body
  int write_timeout_seconds = 30;   // for the client to take a response
  // From a blocking request's end to its answer, waiting for a worker included: one that has not
  // started by then gets 503, one still running 504 (its handler goes on in the background).
  int request_timeout_seconds = 15;
  // Blocking requests waiting for a worker; past it a new one gets 503 at once.
  int max_queued = 256;
  int shutdown_grace_seconds = 10;
  // From SIGTERM to closing the listeners: /readyz answers 503 meanwhile, so that load balancers
  // take the server out before it stops accepting.
  int shutdown_delay_seconds = 0;
  // The public listener's; the Host makes it a TlsServerContext for the listener.
  ListenerTlsSettings tls;
};

// [admin]: the listener of the operators' routes (metrics resets, resync, plugins, config).
struct AdminSettings {
  std::string bind_host = "127.0.0.1";
  uint16_t bind_port = 0;  // 0: a port the kernel picks, logged at start
  ListenerTlsSettings tls;
};

// [consistency]: the observer that checks modules' caches against the database
// (consistency/consistency_observer.h).
struct ConsistencySettings {
  bool enabled = true;
  double rows_per_second = 1000;          // the least pace
  std::chrono::seconds full_pass{600};    // every row compared at least this often
  std::chrono::milliseconds bound{3000};  // how long a change may take to reach every cache
};

enum class LogFormat { kText, kJson };

// [log]: where the log goes and how it reads. Reloaded on SIGHUP (busbar reload).
struct LogSettings {
  int level = 6;  // a Poco::Message::Priority; 6 = information
  std::string level_name = "information";
  LogFormat format = LogFormat::kText;
  std::string file;                // absolute; empty: standard error
  std::string rotation = "100 M";  // Poco::FileChannel's rotation property; "never"
  int keep = 10;                   // rotated files kept
  bool access = false;             // the access log: one line per answered request
  std::string access_file;         // absolute; empty: where the log goes
};

struct HostSettings {
  std::string config_file;  // absolute
  std::string bind_host = "127.0.0.1";
  uint16_t bind_port = 8000;
  std::string server_id;
  std::vector<std::string> plugins;
  std::vector<std::string> plugin_dirs;
  // How long a reload waits for the new process to serve (its migrations and preload included)
  // before it ends it and serves on.
  int reload_timeout_seconds = 120;
  // busbar watch: how long the watched files must stay unchanged before they are checked, so
  // that a copy written in pieces, a package's install of several files or an editor's save end
  // in one reload.
  int watch_settle_ms = 1000;
  std::string storage_driver;  // a storage plugin's name; empty = no storage
  EventBusSettings event_bus;
  EventLogSettings event_log;
  std::vector<ConsumedExchange> consumed;
  HttpSettings http;
  AdminSettings admin;
  AuthSettings auth;
  LogSettings log;
  ConsistencySettings consistency;
};

// Reads an INI file. Text after " ;" or " #" on a line is a comment, as in the shipped configs.
// On failure throws ConfigError naming the file.
Poco::AutoPtr<Poco::Util::AbstractConfiguration> readIniFile(const std::string& file);

// Reads and checks host.conf, applies the overrides. On failure throws ConfigError naming the
// file, the key and what is allowed.
HostSettings loadHostSettings(const std::string& file, const CommandLineOverrides& overrides,
                              const std::string& default_plugin_dir);

// Reads and checks the [log] section of `file` alone (what a reload applies). On failure throws
// ConfigError as loadHostSettings does.
LogSettings loadLogSettings(const std::string& file);

// The section of `file` called `name`.
ConfigSection sectionOf(const Poco::AutoPtr<Poco::Util::AbstractConfiguration>& config,
                        const std::string& file, const std::string& name);

// The line of `file` (1 first) where `key` of [`section`] is set, or 0 when it is not there.
int lineOfKey(const std::string& file, const std::string& section, const std::string& key);

// Throws ConfigError for a section of the file that is neither the host's nor in `owned`.
void rejectUnknownSections(const Poco::AutoPtr<Poco::Util::AbstractConfiguration>& config,
                           const std::string& file, const std::set<std::string>& owned);

// "host:port" split and checked; throws ConfigError naming `what`.
std::pair<std::string, uint16_t> parseHostPort(const std::string& text, const std::string& what);

}  // namespace busbar::host
