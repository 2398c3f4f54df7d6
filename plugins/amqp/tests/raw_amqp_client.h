// RawAmqpClient: an outside AMQP client for the tests, written against rabbitmq-c directly and
// not against busbar's code, the way another program would talk to the broker.
//
// Not thread-safe (one rabbitmq-c connection).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <amqp.h>

namespace busbar::testing {

struct BrokerAddress {
  std::string host;
  int port = 5672;
  std::string vhost;
  std::string user;
  std::string password;
};

// The broker of this test run, from BUSBAR_TEST_AMQP_*; throws telling how to set them.
BrokerAddress brokerFromEnvironment();

// A message read back from a queue.
struct ReceivedMessage {
  std::string body;
  std::string type;
  std::string message_id;
  std::string app_id;
  std::string content_type;
  int delivery_mode = 0;
  uint64_t timestamp = 0;
  std::map<std::string, std::string> string_headers;
  std::map<std::string, int64_t> integer_headers;
};

class RawAmqpClient {
 public:
  // Connects and opens channel 1. Throws std::runtime_error with the reason.
  explicit RawAmqpClient(const BrokerAddress& broker);
  ~RawAmqpClient();
  RawAmqpClient(const RawAmqpClient&) = delete;
  RawAmqpClient& operator=(const RawAmqpClient&) = delete;

  // Publishes `body` to `exchange` as a persistent JSON message with the given type,
  // message_id and app_id properties (empty ones are left out).
  void publish(const std::string& exchange, const std::string& body, const std::string& type = "",
               const std::string& message_id = "", const std::string& app_id = "");

  // Takes one message from `queue` (acknowledged), or nothing when it is empty.
  std::optional<ReceivedMessage> get(const std::string& queue);

  // The number of ready messages in `queue`; throws when it does not exist.
  uint32_t messageCount(const std::string& queue);

  // Declares `exchange` as busbar does (fanout, durable).
  void declareExchange(const std::string& exchange);

  // A durable queue `queue` bound to `exchange`, which outlives this client and broker restarts.
  void declareDurableQueueBoundTo(const std::string& queue, const std::string& exchange);

  // A server-named queue of this client, bound to `exchange`; returns its name. With a
  // `max_length`, the broker nacks what is published to the exchange while the queue holds that
  // many messages (x-overflow reject-publish).
  std::string declareQueueBoundTo(const std::string& exchange, int max_length = 0);

 private:
  void check(const std::string& what);

  amqp_connection_state_t state_;
};

}  // namespace busbar::testing
