#include "raw_amqp_client.h"

#include <stdexcept>

#include <amqp_tcp_socket.h>

#include "server_process.h"

namespace busbar::testing {
namespace {

constexpr amqp_channel_t kChannel = 1;

std::string textOf(amqp_bytes_t bytes) {
  return std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

amqp_bytes_t bytesOf(const std::string& text) {
  return amqp_bytes_t{text.size(), const_cast<char*>(text.data())};
}

}  // namespace

BrokerAddress brokerFromEnvironment() {
  BrokerAddress broker;
  broker.host = requireEnv("BUSBAR_TEST_AMQP_HOST");
  broker.port = std::stoi(requireEnv("BUSBAR_TEST_AMQP_PORT"));
  broker.vhost = requireEnv("BUSBAR_TEST_AMQP_VHOST");
  broker.user = requireEnv("BUSBAR_TEST_AMQP_USER");
  broker.password = requireEnv("BUSBAR_TEST_AMQP_PASSWORD");
  return broker;
}

RawAmqpClient::RawAmqpClient(const BrokerAddress& broker) : state_(amqp_new_connection()) {
  amqp_socket_t* socket = amqp_tcp_socket_new(state_);
  int status = amqp_socket_open(socket, broker.host.c_str(), broker.port);
  if (status != AMQP_STATUS_OK) {
    amqp_destroy_connection(state_);
    throw std::runtime_error("test client cannot connect to " + broker.host + ": " +
                             amqp_error_string2(status));
  }
  amqp_rpc_reply_t reply =
      amqp_login(state_, broker.vhost.c_str(), 0, AMQP_DEFAULT_FRAME_SIZE, 0,
                 AMQP_SASL_METHOD_PLAIN, broker.user.c_str(), broker.password.c_str());
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    amqp_destroy_connection(state_);
    throw std::runtime_error("test client cannot log in to vhost " + broker.vhost);
  }
  amqp_channel_open(state_, kChannel);
  check("channel.open");
}

RawAmqpClient::~RawAmqpClient() {
  amqp_channel_close(state_, kChannel, AMQP_REPLY_SUCCESS);
  amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(state_);
}

void RawAmqpClient::check(const std::string& what) {
  amqp_rpc_reply_t reply = amqp_get_rpc_reply(state_);
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return;
  std::string reason = "failed";
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
    reason = amqp_error_string2(reply.library_error);
  } else if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
             reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    reason = textOf(static_cast<amqp_channel_close_t*>(reply.reply.decoded)->reply_text);
  }
  throw std::runtime_error("test client: " + what + ": " + reason);
}

void RawAmqpClient::publish(const std::string& exchange, const std::string& body,
                            const std::string& type, const std::string& message_id,
                            const std::string& app_id) {
  amqp_basic_properties_t properties{};
  properties._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  properties.content_type = amqp_cstring_bytes("application/json");
  properties.delivery_mode = 2;
  if (!type.empty()) {
    properties._flags |= AMQP_BASIC_TYPE_FLAG;
    properties.type = bytesOf(type);
  }
  if (!message_id.empty()) {
    properties._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    properties.message_id = bytesOf(message_id);
  }
  if (!app_id.empty()) {
    properties._flags |= AMQP_BASIC_APP_ID_FLAG;
    properties.app_id = bytesOf(app_id);
  }
  int status = amqp_basic_publish(state_, kChannel, bytesOf(exchange), amqp_empty_bytes, 0, 0,
                                  &properties, bytesOf(body));
  if (status != AMQP_STATUS_OK) {
    throw std::runtime_error(std::string("test client cannot publish: ") +
                             amqp_error_string2(status));
  }
}

std::optional<ReceivedMessage> RawAmqpClient::get(const std::string& queue) {
  amqp_maybe_release_buffers(state_);
  amqp_rpc_reply_t reply = amqp_basic_get(state_, kChannel, bytesOf(queue), 1);
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) check("basic.get " + queue);
  if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return std::nullopt;
  amqp_message_t message;
  reply = amqp_read_message(state_, kChannel, &message, 0);
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) check("reading a message of " + queue);
  ReceivedMessage received;
  received.body = textOf(message.body);
  const amqp_basic_properties_t& properties = message.properties;
  if (properties._flags & AMQP_BASIC_TYPE_FLAG) received.type = textOf(properties.type);
  if (properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) {
    received.message_id = textOf(properties.message_id);
  }
  if (properties._flags & AMQP_BASIC_APP_ID_FLAG) received.app_id = textOf(properties.app_id);
  if (properties._flags & AMQP_BASIC_CONTENT_TYPE_FLAG) {
    received.content_type = textOf(properties.content_type);
  }
  if (properties._flags & AMQP_BASIC_DELIVERY_MODE_FLAG) {
    received.delivery_mode = properties.delivery_mode;
  }
  if (properties._flags & AMQP_BASIC_TIMESTAMP_FLAG) received.timestamp = properties.timestamp;
  if (properties._flags & AMQP_BASIC_HEADERS_FLAG) {
    for (int i = 0; i < properties.headers.num_entries; ++i) {
      const amqp_table_entry_t& entry = properties.headers.entries[i];
      if (entry.value.kind == AMQP_FIELD_KIND_UTF8 || entry.value.kind == AMQP_FIELD_KIND_BYTES) {
        received.string_headers[textOf(entry.key)] = textOf(entry.value.value.bytes);
      } else if (entry.value.kind == AMQP_FIELD_KIND_I64) {
        received.integer_headers[textOf(entry.key)] = entry.value.value.i64;
      }
    }
  }
  amqp_destroy_message(&message);
  return received;
}

uint32_t RawAmqpClient::messageCount(const std::string& queue) {
  amqp_queue_declare_ok_t* declared =
      amqp_queue_declare(state_, kChannel, bytesOf(queue), 1, 0, 0, 0, amqp_empty_table);
  check("queue " + queue);
  return declared->message_count;
}

void RawAmqpClient::declareExchange(const std::string& exchange) {
  amqp_exchange_declare(state_, kChannel, bytesOf(exchange), amqp_cstring_bytes("fanout"), 0, 1, 0,
                        0, amqp_empty_table);
  check("exchange.declare " + exchange);
}

void RawAmqpClient::declareDurableQueueBoundTo(const std::string& queue,
                                               const std::string& exchange) {
  amqp_queue_declare(state_, kChannel, bytesOf(queue), 0, 1, 0, 0, amqp_empty_table);
  check("queue.declare " + queue);
  amqp_queue_bind(state_, kChannel, bytesOf(queue), bytesOf(exchange), amqp_empty_bytes,
                  amqp_empty_table);
  check("queue.bind " + queue + " to " + exchange);
}

std::string RawAmqpClient::declareQueueBoundTo(const std::string& exchange, int max_length) {
  amqp_table_entry_t limits[2];
  limits[0].key = amqp_cstring_bytes("x-max-length");
  limits[0].value.kind = AMQP_FIELD_KIND_I32;
  limits[0].value.value.i32 = max_length;
  limits[1].key = amqp_cstring_bytes("x-overflow");
  limits[1].value.kind = AMQP_FIELD_KIND_UTF8;
  limits[1].value.value.bytes = amqp_cstring_bytes("reject-publish");
  amqp_table_t arguments = amqp_empty_table;
  if (max_length > 0) {
    arguments.num_entries = 2;
    arguments.entries = limits;
  }
  amqp_queue_declare_ok_t* declared =
      amqp_queue_declare(state_, kChannel, amqp_empty_bytes, 0, 0, 1, 1, arguments);
  check("queue.declare");
  std::string queue = textOf(declared->queue);
  amqp_queue_bind(state_, kChannel, bytesOf(queue), bytesOf(exchange), amqp_empty_bytes,
                  amqp_empty_table);
  check("queue.bind " + queue + " to " + exchange);
  return queue;
}

}  // namespace busbar::testing
