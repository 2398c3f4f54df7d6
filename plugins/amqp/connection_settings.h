// Where and how to reach the broker; the [amqp] keys that every connection shares.
//
// Plain value type.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace busbar::amqp {

// One node of the broker: a lone RabbitMQ, or a node of a cluster.
struct BrokerAddress {
  std::string host;
  int port = 5672;
};

// TLS to the broker (amqps): the broker's certificate is always verified against ca_file.
struct TlsSettings {
  bool enabled = false;
  std::string ca_file;          // the CA that signed the broker's certificate
  std::string cert_file;        // a client certificate, for a broker that asks for one; "" for none
  std::string key_file;         // its private key
  bool verify_hostname = true;  // the certificate must name the host connected to
};

struct ConnectionSettings {
  // Tried in order until one answers; more than one is a cluster. Never empty.
  std::vector<BrokerAddress> brokers{{"127.0.0.1", 5672}};
  std::string vhost = "/";
  std::string user = "guest";
  std::string password = "guest";  // never logged
  int heartbeat_seconds = 10;      // a dead link is noticed after two of them
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds rpc_timeout{10000};
  // The durable queues busbar declares (named queues, dead letters) are quorum queues, which a
  // cluster replicates; otherwise classic queues, which live on one node.
  bool quorum_queues = false;
  TlsSettings tls;
  std::string config_file;  // where these came from, for the fix an error names ("" in tests)
};

// "host:port".
inline std::string describe(const BrokerAddress& broker) {
  const bool ipv6 = broker.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + broker.host + "]" : broker.host) + ":" + std::to_string(broker.port);
}

// "amqp://user@host:port/vhost" (every node, comma-separated, for a cluster), without the
// password, for logs and errors.
inline std::string describe(const ConnectionSettings& settings) {
  std::string nodes;
  for (const auto& broker : settings.brokers)
    nodes += (nodes.empty() ? "" : ",") + describe(broker);
  return std::string(settings.tls.enabled ? "amqps://" : "amqp://") + settings.user + "@" + nodes +
         (settings.vhost.empty() || settings.vhost[0] != '/' ? "/" : "") + settings.vhost;
}

// describe(settings) with only the node settings.brokers[index]: the node a connection is on.
inline std::string describeNode(const ConnectionSettings& settings, size_t index) {
  ConnectionSettings one = settings;
  one.brokers = {settings.brokers.at(index)};
  return describe(one);
}

}  // namespace busbar::amqp
