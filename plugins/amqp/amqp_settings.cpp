#include "amqp_settings.h"

#include <fstream>

#include <Poco/NumberParser.h>

#include "config_files.h"

namespace busbar::amqp {
namespace {

// One `hosts` item: "host", "host:port", "[v6]" or "[v6]:port"; `port` when it names none.
BrokerAddress parseBrokerAddress(const ConfigSection& section, const std::string& item, int port) {
  auto refuse = [&](const std::string& why) {
    section.fail("hosts",
                 "must list the broker's nodes as host or host:port, comma-separated (e.g. "
                 "mq1:5672, mq2:5672, mq3:5672): " +
                     why,
                 "'" + section.getString("hosts") + "'");
  };
  BrokerAddress broker;
  broker.port = port;
  std::string rest;
  if (!item.empty() && item[0] == '[') {
    const auto close = item.find(']');
    if (close == std::string::npos) refuse("'" + item + "' opens [ without closing it");
    broker.host = item.substr(1, close - 1);
    rest = item.substr(close + 1);
  } else {
    const auto colon = item.find(':');
    if (colon != std::string::npos && item.find(':', colon + 1) != std::string::npos) {
      refuse("'" + item + "' is an IPv6 address without brackets ([::1]:5672)");
    }
    broker.host = item.substr(0, colon);
    if (colon != std::string::npos) rest = item.substr(colon);
  }
  if (broker.host.empty()) refuse("'" + item + "' names no host");
  if (!rest.empty()) {
    int value = 0;
    if (rest[0] != ':' || !Poco::NumberParser::tryParse(rest.substr(1), value) || value < 1 ||
        value > 65535) {
      refuse("'" + item + "' has no port from 1 to 65535 after its host");
    }
    broker.port = value;
  }
  return broker;
}

std::vector<BrokerAddress> readBrokers(const ConfigSection& section, int default_port) {
  const int port = static_cast<int>(section.getInt("port", default_port, 1, 65535));
  if (!section.has("hosts")) return {{section.getString("host", "127.0.0.1"), port}};
  if (section.has("host")) {
    section.fail("host",
                 "and hosts are two ways to name the broker: keep hosts (every node of a "
                 "cluster) or host (one broker), not both",
                 "both");
  }
  std::vector<BrokerAddress> brokers;
  for (const auto& item : section.getList("hosts")) {
    BrokerAddress broker = parseBrokerAddress(section, item, port);
    for (const auto& seen : brokers) {
      if (seen.host == broker.host && seen.port == broker.port) {
        section.fail("hosts", "must name each node once", describe(broker) + " twice");
      }
    }
    brokers.push_back(std::move(broker));
  }
  if (brokers.empty()) {
    section.fail("hosts", "must name at least one node (host or host:port)", "nothing");
  }
  return brokers;
}

TlsSettings readTls(const ConfigSection& section) {
  TlsSettings tls;
  tls.enabled = section.getBool("tls", false);
  tls.ca_file = section.getPath("tls_ca_file", "");
  tls.cert_file = section.getPath("tls_cert_file", "");
  tls.key_file = section.getPath("tls_key_file", "");
  tls.verify_hostname = section.getBool("tls_verify_hostname", true);
  if (!tls.enabled) {
    for (const char* key :
         {"tls_ca_file", "tls_cert_file", "tls_key_file", "tls_verify_hostname"}) {
      if (section.has(key)) {
        section.fail(key, "takes effect with tls = true only: set it, or remove this key",
                     "tls off");
      }
    }
    return tls;
  }
  if (tls.ca_file.empty()) {
    section.fail("tls_ca_file",
                 "is required with tls = true: the file of the CA that signed the broker's "
                 "certificate, which busbar always verifies",
                 "nothing");
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    section.fail(tls.cert_file.empty() ? "tls_cert_file" : "tls_key_file",
                 "goes with " +
                     std::string(tls.cert_file.empty() ? "tls_key_file" : "tls_cert_file") +
                     ": a client certificate needs its key, and a key its certificate",
                 "nothing");
  }
  using plugins::FileSecrecy;
  plugins::requireReadableFile(section, "tls_ca_file", tls.ca_file, FileSecrecy::kPublic);
  if (!tls.cert_file.empty()) {
    plugins::requireReadableFile(section, "tls_cert_file", tls.cert_file, FileSecrecy::kPublic);
    plugins::requireReadableFile(section, "tls_key_file", tls.key_file, FileSecrecy::kPrivateKey);
    // OpenSSL would ask for the passphrase on the terminal (a start that hangs), or fail without
    // saying why under systemd.
    std::ifstream key(tls.key_file);
    for (std::string line; std::getline(key, line);) {
      if (line.find("ENCRYPTED") != std::string::npos) {
        section.fail(
            "tls_key_file", "must name a key without a passphrase (busbar cannot ask for one)",
            "'" + tls.key_file + "', which is encrypted (openssl pkey -in KEY -out KEY.plain)");
      }
    }
  }
  return tls;
}

}  // namespace

AmqpSettings readAmqpSettings(const ConfigSection& section) {
  section.rejectUnknownKeys({"host", "hosts", "port", "vhost", "user", "password", "heartbeat",
                             "auto_setup", "retries", "queue_capacity", "queue_type", "tls",
                             "tls_ca_file", "tls_cert_file", "tls_key_file",
                             "tls_verify_hostname"});
  AmqpSettings settings;
  ConnectionSettings& connection = settings.connection;
  connection.config_file = section.file();
  connection.tls = readTls(section);
  // RabbitMQ's ports: 5671 for amqps, 5672 for plain AMQP.
  connection.brokers = readBrokers(section, connection.tls.enabled ? 5671 : 5672);
  connection.vhost = section.getString("vhost", "/");
  connection.user = section.getString("user", "guest");
  connection.password = section.getSecret("password", "BUSBAR_AMQP_PASSWORD");
  if (connection.password.empty()) connection.password = "guest";  // RabbitMQ's default user
  connection.heartbeat_seconds = static_cast<int>(section.getInt("heartbeat", 10, 1, 600));
  const std::string queue_type =
      section.getChoice("queue_type", "auto", {"auto", "classic", "quorum"});
  connection.quorum_queues =
      queue_type == "quorum" || (queue_type == "auto" && connection.brokers.size() > 1);
  settings.auto_setup = section.getBool("auto_setup", true);
  settings.retries = static_cast<int>(section.getInt("retries", 3, 0, 100));
  settings.queue_capacity =
      static_cast<size_t>(section.getInt("queue_capacity", 10000, 1, 10 * 1000 * 1000));
  return settings;
}

}  // namespace busbar::amqp
