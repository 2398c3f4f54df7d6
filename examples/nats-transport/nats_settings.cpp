#include "nats_settings.h"

#include <map>

#include <busbar/errors.h>

namespace nats_transport {
namespace {

bool isNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// A subject is dot-separated tokens; the wildcards and whitespace would change what it matches.
bool isPlainSubject(const std::string& subject) {
  if (subject.empty() || subject.front() == '.' || subject.back() == '.') return false;
  if (subject.find("..") != std::string::npos) return false;
  for (char c : subject) {
    if (c == '*' || c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n') return false;
  }
  return true;
}

std::vector<std::string> readServers(const busbar::ConfigSection& section) {
  std::vector<std::string> servers = section.getList("url");
  if (!section.has("url")) return {"nats://127.0.0.1:4222"};
  if (servers.empty()) {
    section.fail("url",
                 "must list one or more servers as nats://HOST:PORT, comma-separated (e.g. "
                 "url = nats://127.0.0.1:4222); remove the key for that default",
                 "nothing");
  }
  for (const auto& server : servers) {
    auto scheme = server.find("://");
    std::string name = scheme == std::string::npos ? "" : server.substr(0, scheme);
    if ((name != "nats" && name != "tls") || server.size() == scheme + 3) {
      section.fail("url",
                   "must list servers as nats://HOST:PORT (or tls://HOST:PORT), comma-separated, "
                   "e.g. url = nats://127.0.0.1:4222",
                   "'" + server + "'");
    }
  }
  return servers;
}

}  // namespace

NatsSettings readNatsSettings(const busbar::ConfigSection& section) {
  section.rejectUnknownKeys({"url", "user", "password", "stream_prefix", "subject_prefix",
                             "auto_setup", "storage", "replicas", "max_age", "ack_wait_ms",
                             "idle_consumer_expiry", "fetch_wait_ms", "retries", "queue_capacity",
                             "publish_timeout_ms", "reconnect_wait_ms"});
  NatsSettings settings;
  settings.config_file = section.file();
  settings.servers = readServers(section);
  settings.user = section.getString("user");
  settings.password = section.getSecret("password", "BUSBAR_NATS_PASSWORD");
  if (!settings.password.empty() && settings.user.empty()) {
    section.fail("password", "needs [nats] user beside it (or put both in the url)",
                 "a password without a user");
  }

  settings.stream_prefix = section.getString("stream_prefix");
  for (char c : settings.stream_prefix) {
    if (!isNameCharacter(c)) {
      section.fail("stream_prefix",
                   "may hold only letters, digits, '_' and '-' (JetStream stream names); e.g. "
                   "stream_prefix = staging_",
                   "'" + settings.stream_prefix + "'");
    }
  }
  settings.subject_prefix = section.getString("subject_prefix");
  if (!settings.subject_prefix.empty() &&
      (settings.subject_prefix.back() != '.' ||
       !isPlainSubject(settings.subject_prefix.substr(0, settings.subject_prefix.size() - 1)))) {
    section.fail("subject_prefix",
                 "must be empty or subject tokens ending with '.', without '*', '>' or spaces; "
                 "e.g. subject_prefix = staging.",
                 "'" + settings.subject_prefix + "'");
  }

  settings.auto_setup = section.getBool("auto_setup", true);
  settings.memory_storage = section.getChoice("storage", "file", {"file", "memory"}) == "memory";
  settings.replicas = static_cast<int>(section.getInt("replicas", 1, 1, 5));
  settings.max_age = std::chrono::seconds(section.getInt("max_age", 24 * 3600, 1, 365 * 24 * 3600));
  settings.ack_wait =
      std::chrono::milliseconds(section.getInt("ack_wait_ms", 30000, 100, 3600 * 1000));
  settings.idle_consumer_expiry =
      std::chrono::seconds(section.getInt("idle_consumer_expiry", 3600, 10, 30 * 24 * 3600));
  settings.fetch_wait =
      std::chrono::milliseconds(section.getInt("fetch_wait_ms", 1000, 10, 600 * 1000));
  settings.retries = static_cast<int>(section.getInt("retries", 3, 0, 100));
  settings.queue_capacity =
      static_cast<size_t>(section.getInt("queue_capacity", 10000, 1, 10 * 1000 * 1000));
  settings.publish_timeout =
      std::chrono::milliseconds(section.getInt("publish_timeout_ms", 2000, 10, 60 * 1000));
  settings.reconnect_wait =
      std::chrono::milliseconds(section.getInt("reconnect_wait_ms", 250, 10, 60 * 1000));
  return settings;
}

std::string streamName(const NatsSettings& settings, const std::string& exchange) {
  std::string name = settings.stream_prefix + exchange;
  for (char& c : name) {
    if (!isNameCharacter(c)) c = '_';
  }
  return name;
}

std::string subjectName(const NatsSettings& settings, const std::string& exchange) {
  return settings.subject_prefix + exchange;
}

void checkExchangeNames(const NatsSettings& settings, const std::vector<std::string>& exchanges) {
  std::map<std::string, std::string> by_stream;
  for (const auto& exchange : exchanges) {
    if (!isPlainSubject(exchange)) {
      throw busbar::ConfigError(settings.config_file + ": [event_bus] exchange name '" + exchange +
                                "' is no NATS subject: the nats transport needs dot-separated "
                                "tokens without '*', '>' or spaces (e.g. busbar.events)");
    }
    auto [it, added] = by_stream.emplace(streamName(settings, exchange), exchange);
    if (!added && it->second != exchange) {
      throw busbar::ConfigError(settings.config_file + ": [event_bus] exchanges '" + it->second +
                                "' and '" + exchange + "' both map to the JetStream stream " +
                                it->first + "; rename one of them");
    }
  }
}

std::string describeServers(const NatsSettings& settings) {
  std::string out;
  for (const auto& server : settings.servers) {
    std::string shown = server;
    // nats://user:secret@host:port: keep the host only.
    auto scheme = shown.find("://");
    auto at = shown.rfind('@');
    if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
      shown = shown.substr(0, scheme + 3) + shown.substr(at + 1);
    }
    out += (out.empty() ? "" : ", ") + shown;
  }
  return out;
}

}  // namespace nats_transport
