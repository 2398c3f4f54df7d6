#include "amqp_settings.h"

#include <Poco/NumberParser.h>

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

std::vector<BrokerAddress> readBrokers(const ConfigSection& section) {
  const int port = static_cast<int>(section.getInt("port", 5672, 1, 65535));
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

}  // namespace

AmqpSettings readAmqpSettings(const ConfigSection& section) {
  section.rejectUnknownKeys({"host", "hosts", "port", "vhost", "user", "password", "heartbeat",
                             "auto_setup", "retries", "queue_capacity", "queue_type"});
  AmqpSettings settings;
  ConnectionSettings& connection = settings.connection;
  connection.config_file = section.file();
  connection.brokers = readBrokers(section);
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
