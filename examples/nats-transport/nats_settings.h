// NatsSettings: the [nats] section of host.conf, read and validated, and the JetStream names
// (stream, subject) that an exchange gets from it.
//
// Plain value type.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <busbar/config.h>

namespace nats_transport {

struct NatsSettings {
  std::vector<std::string> servers{"nats://127.0.0.1:4222"};  // tried in order
  std::string user;                                           // "" : none (or in the URL)
  std::string password;                                       // never logged
  std::string stream_prefix;   // stream of exchange X: stream_prefix + X with '.' as '_'
  std::string subject_prefix;  // subject of exchange X: subject_prefix + X
  bool auto_setup = true;      // create missing streams at start
  bool memory_storage = false;
  int replicas = 1;
  std::chrono::seconds max_age{24 * 3600};          // how long a stream keeps an event
  std::chrono::milliseconds ack_wait{30000};        // unacknowledged: delivered again after it
  std::chrono::seconds idle_consumer_expiry{3600};  // a dead server's own consumer goes after it
  std::chrono::milliseconds fetch_wait{1000};  // one pull request's life; bounds a reconnect's lag
  int retries = 3;  // deliveries of an event whose subscribers fail before it is set aside
  size_t queue_capacity = 10000;                    // events waiting to be published
  std::chrono::milliseconds publish_timeout{2000};  // wait for one publish ack
  std::chrono::milliseconds reconnect_wait{250};
  std::string config_file;  // where these came from, for messages
};

// Reads `section`. On a malformed or unknown key throws busbar::ConfigError naming the key,
// what it accepts and the fix.
NatsSettings readNatsSettings(const busbar::ConfigSection& section);

// The stream that holds `exchange`: settings.stream_prefix + exchange, every character other than
// [A-Za-z0-9_-] replaced by '_' (JetStream stream names allow no '.', '*', '>' or space).
std::string streamName(const NatsSettings& settings, const std::string& exchange);

// The subject events of `exchange` are published on.
std::string subjectName(const NatsSettings& settings, const std::string& exchange);

// Throws busbar::ConfigError when an exchange makes no valid subject, or two exchanges map to one
// stream. `exchanges` are the host's broker names ([event_bus] exchanges.<alias>).
void checkExchangeNames(const NatsSettings& settings, const std::vector<std::string>& exchanges);

// "nats://host:port, ..." without credentials, for logs and errors.
std::string describeServers(const NatsSettings& settings);

}  // namespace nats_transport
