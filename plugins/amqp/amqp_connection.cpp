#include "amqp_connection.h"

#include <cerrno>
#include <cstring>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <vector>

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

namespace busbar::amqp {
namespace {

timeval toTimeval(std::chrono::milliseconds duration) {
  timeval value{};
  value.tv_sec = static_cast<time_t>(duration.count() / 1000);
  value.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return value;
}

amqp_bytes_t bytesOf(const std::string& text) {
  amqp_bytes_t bytes;
  bytes.len = text.size();
  bytes.bytes = const_cast<char*>(text.data());
  return bytes;
}

std::string textOf(amqp_bytes_t bytes) {
  return std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

std::string libraryReason(int status) { return amqp_error_string2(status); }

// "in FILE" when the settings came from one.
std::string inFile(const ConnectionSettings& settings) {
  return settings.config_file.empty() ? "" : " in " + settings.config_file;
}

// The errno of a TCP connection to `broker`, tried once more within the connect
// timeout (0 when it connects). rabbitmq-c reports a failed connect as a socket error without the
// reason, and the reason is what an operator needs: refused or not answering.
int connectErrno(const ConnectionSettings& settings, const BrokerAddress& broker) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(broker.host.c_str(), std::to_string(broker.port).c_str(), &hints, &found) !=
      0) {
    return EHOSTUNREACH;
  }
  int error = ETIMEDOUT;
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    if (::connect(fd, found->ai_addr, found->ai_addrlen) == 0) {
      error = 0;
    } else if (errno != EINPROGRESS) {
      error = errno;
    } else {
      pollfd waiting{fd, POLLOUT, 0};
      if (::poll(&waiting, 1, static_cast<int>(settings.connect_timeout.count())) == 1) {
        socklen_t length = sizeof error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      }
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return error;
}

// Why a TCP connection to the broker failed, in a word, and the fix; `error` is errno after it.
std::string connectFailure(const ConnectionSettings& settings, const BrokerAddress& broker,
                           int status, int error) {
  if (status == AMQP_STATUS_SOCKET_ERROR) error = connectErrno(settings, broker);
  const std::string server = describe(broker);
  const std::string keys =
      (settings.brokers.size() > 1 ? "[amqp] hosts" : "[amqp] host and port") + inFile(settings);
  if (status == AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED) {
    return "unknown host: '" + broker.host + "' does not resolve. Fix: correct " + keys;
  }
  if (status == AMQP_STATUS_TIMEOUT || error == ETIMEDOUT) {
    return "no answer from " + server + " within " +
           std::to_string(settings.connect_timeout.count()) +
           " ms. Fix: check that RabbitMQ runs there and that nothing in between drops the "
           "connection, or correct " +
           keys;
  }
  if (error == ECONNREFUSED) {
    return "refused: nothing listens at " + server +
           ". Fix: start RabbitMQ there (scripts/services/rabbitmq.sh start for development), "
           "or correct " +
           keys;
  }
  return libraryReason(status) +
         (error != 0 ? std::string(" (") + std::strerror(error) + ")" : "") + ". Fix: check " +
         keys;
}

// The fix for a login the broker refused.
std::string loginFix(const ConnectionSettings& settings) {
  return ". Fix: check [amqp] user and vhost" + inFile(settings) +
         ", set the password in the environment variable BUSBAR_AMQP_PASSWORD (or [amqp] "
         "password), and give the user access to the vhost (rabbitmqctl set_permissions -p " +
         settings.vhost + " " + settings.user + " '.*' '.*' '.*')";
}

// Sets up `socket` (an SSL socket) as [amqp] tls says: the CA, the client's certificate and key,
// peer verification always, host name verification unless turned off. Returns "" or why it
// cannot be set up, naming the key and the file.
std::string configureTls(amqp_socket_t* socket, const ConnectionSettings& settings) {
  const TlsSettings& tls = settings.tls;
  if (amqp_ssl_socket_set_cacert(socket, tls.ca_file.c_str()) != AMQP_STATUS_OK) {
    return "[amqp] tls_ca_file" + inFile(settings) + ": '" + tls.ca_file +
           "' holds no PEM certificate OpenSSL can load. Fix: name the CA's certificate file "
           "(PEM)";
  }
  if (!tls.cert_file.empty() && amqp_ssl_socket_set_key(socket, tls.cert_file.c_str(),
                                                        tls.key_file.c_str()) != AMQP_STATUS_OK) {
    return "[amqp] tls_cert_file and tls_key_file" + inFile(settings) + ": '" + tls.cert_file +
           "' and '" + tls.key_file +
           "' are not a PEM certificate and its own private key. Fix: name the client's "
           "certificate and the key it was issued for";
  }
  amqp_ssl_socket_set_verify_peer(socket, 1);
  amqp_ssl_socket_set_verify_hostname(socket, tls.verify_hostname ? 1 : 0);
  return "";
}

// Why a TLS connection to `broker` failed, and the fix; "" when `status` is no TLS failure.
std::string tlsFailure(const ConnectionSettings& settings, const BrokerAddress& broker,
                       int status) {
  const std::string server = describe(broker);
  switch (status) {
    case AMQP_STATUS_SSL_PEER_VERIFY_FAILED:
      return "TLS: the certificate of " + server +
             " fails verification against the CA of [amqp] tls_ca_file" + inFile(settings) + " ('" +
             settings.tls.ca_file +
             "'): another CA signed it, it expired or is not valid yet, or its chain is "
             "incomplete. Fix: name the CA that signed the broker's certificate, or renew it";
    case AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED:
      return "TLS: the certificate of " + server + " does not name '" + broker.host +
             "'. Fix: connect by a name the certificate holds (" +
             (settings.brokers.size() > 1 ? "[amqp] hosts" : "[amqp] host") + inFile(settings) +
             "), or issue the broker a certificate for this name";
    case AMQP_STATUS_SSL_CONNECTION_FAILED:
    case AMQP_STATUS_SSL_ERROR:
      return "TLS: the handshake with " + server +
             " failed: the broker may not speak TLS on this port, or refused busbar's client "
             "certificate. Fix: check [amqp] port (RabbitMQ's amqps port is 5671) and "
             "tls_cert_file" +
             inFile(settings);
    default:
      return "";
  }
}

}  // namespace

AmqpConnection::AmqpConnection(const ConnectionSettings& settings, const std::string& name,
                               size_t first_broker) {
  const size_t count = settings.brokers.size();
  if (count == 0) throw AmqpError("no broker to connect to: [amqp] names none");
  // A refusal may be one node's (an expired certificate, a vhost down on that node, a per-node
  // auth backend): the others are tried, and only when every node refuses is it the config's.
  std::string failures;
  bool every_node_refused = true;
  for (size_t tried = 0; tried < count; ++tried) {
    const size_t index = (first_broker + tried) % count;
    try {
      open(settings, settings.brokers[index], name);
      broker_index_ = index;
      return;
    } catch (const AmqpSettingsRefused& refused) {
      if (count == 1) throw;
      failures += std::string(failures.empty() ? "" : "; ") + refused.what();
    } catch (const AmqpError& error) {
      if (count == 1) throw;
      every_node_refused = false;
      failures += std::string(failures.empty() ? "" : "; ") + error.what();
    }
  }
  const std::string message = "no node of " + describe(settings) + " answers: " + failures;
  if (every_node_refused) throw AmqpSettingsRefused(message);
  throw AmqpError(message);
}

void AmqpConnection::open(const ConnectionSettings& settings, const BrokerAddress& broker,
                          const std::string& name) {
  ConnectionSettings one = settings;
  one.brokers = {broker};
  const std::string where = describe(one);
  state_ = amqp_new_connection();
  if (state_ == nullptr) throw AmqpError("cannot allocate an AMQP connection");
  amqp_socket_t* socket =
      settings.tls.enabled ? amqp_ssl_socket_new(state_) : amqp_tcp_socket_new(state_);
  if (socket == nullptr) {
    amqp_destroy_connection(state_);
    state_ = nullptr;
    throw AmqpError("cannot create a socket for " + where);
  }
  if (settings.tls.enabled) {
    const std::string problem = configureTls(socket, settings);
    if (!problem.empty()) {
      amqp_destroy_connection(state_);
      state_ = nullptr;
      throw AmqpSettingsRefused("cannot connect to " + where + ": " + problem);
    }
  }
  timeval connect_timeout = toTimeval(settings.connect_timeout);
  errno = 0;
  int status = amqp_socket_open_noblock(socket, broker.host.c_str(), broker.port, &connect_timeout);
  if (status != AMQP_STATUS_OK) {
    const int error = errno;
    amqp_destroy_connection(state_);
    state_ = nullptr;
    const std::string tls = tlsFailure(settings, broker, status);
    if (status == AMQP_STATUS_SSL_PEER_VERIFY_FAILED ||
        status == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED) {
      throw AmqpSettingsRefused("cannot connect to " + where + ": " + tls);
    }
    const std::string message =
        "cannot connect to " + where + ": " +
        (tls.empty() ? connectFailure(settings, broker, status, error) : tls);
    if (status == AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED) throw AmqpHostUnknown(message);
    throw AmqpError(message);
  }
  amqp_set_handshake_timeout(state_, &connect_timeout);
  timeval rpc_timeout = toTimeval(settings.rpc_timeout);
  amqp_set_rpc_timeout(state_, &rpc_timeout);

  amqp_table_entry_t property;
  property.key = amqp_cstring_bytes("connection_name");
  property.value.kind = AMQP_FIELD_KIND_UTF8;
  property.value.value.bytes = bytesOf(name);
  amqp_table_t properties;
  properties.num_entries = 1;
  properties.entries = &property;
  amqp_rpc_reply_t reply = amqp_login_with_properties(
      state_, settings.vhost.c_str(), 0, AMQP_DEFAULT_FRAME_SIZE, settings.heartbeat_seconds,
      &properties, AMQP_SASL_METHOD_PLAIN, settings.user.c_str(), settings.password.c_str());
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
    // With TLS 1.3 a broker's refusal of the client's certificate arrives after the handshake,
    // at the first read: the login.
    const std::string tls = tlsFailure(settings, broker, reply.library_error);
    if (!tls.empty()) {
      amqp_destroy_connection(state_);
      state_ = nullptr;
      throw AmqpError("cannot connect to " + where + ": " + tls);
    }
  }
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    std::string reason;
    // Only the broker's own "access refused" (403) or "not allowed" (530: no such vhost, or no
    // access to it) is final; a connection closed mid-login may be a broker on its way down.
    bool refused = false;
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
      reason = libraryReason(reply.library_error);
      if (reply.library_error == AMQP_STATUS_CONNECTION_CLOSED ||
          reply.library_error == AMQP_STATUS_SOCKET_CLOSED) {
        reason += ": wrong user or password, or no access to the vhost";
      }
    } else if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
               reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
      auto* close = static_cast<amqp_connection_close_t*>(reply.reply.decoded);
      reason = std::to_string(close->reply_code) + " " + textOf(close->reply_text);
      // RabbitMQ's text ends with a full stop; the fix follows after one of ours.
      while (!reason.empty() && reason.back() == '.') reason.pop_back();
      refused = close->reply_code == AMQP_ACCESS_REFUSED || close->reply_code == AMQP_NOT_ALLOWED;
    } else {
      reason = "unexpected reply";
    }
    amqp_destroy_connection(state_);
    state_ = nullptr;
    const std::string message =
        "cannot log in to " + where + " as " + settings.user + ": " + reason + loginFix(settings);
    if (refused) throw AmqpSettingsRefused(message);
    throw AmqpError(message);
  }
  usable_ = true;
}

AmqpConnection::~AmqpConnection() {
  if (state_ == nullptr) return;
  if (usable_) amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(state_);
}

void AmqpConnection::checkStatus(int status, const std::string& what) {
  if (status >= 0) return;
  usable_ = false;
  throw AmqpError(what + ": " + libraryReason(status));
}

void AmqpConnection::checkReply(amqp_channel_t channel, const std::string& what) {
  amqp_rpc_reply_t reply = amqp_get_rpc_reply(state_);
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return;
    case AMQP_RESPONSE_NONE:
      usable_ = false;
      throw AmqpError(what + ": no reply from the broker");
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      usable_ = false;
      throw AmqpError(what + ": " + libraryReason(reply.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      break;
  }
  if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    auto* close = static_cast<amqp_channel_close_t*>(reply.reply.decoded);
    amqp_channel_close_ok_t close_ok{};
    amqp_send_method(state_, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
    throw AmqpChannelClosed(
        what + ": " + std::to_string(close->reply_code) + " " + textOf(close->reply_text),
        close->reply_code);
  }
  if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
    auto* close = static_cast<amqp_connection_close_t*>(reply.reply.decoded);
    amqp_connection_close_ok_t close_ok{};
    amqp_send_method(state_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &close_ok);
    usable_ = false;
    throw AmqpError(what + ": broker closed the connection: " + std::to_string(close->reply_code) +
                    " " + textOf(close->reply_text));
  }
  usable_ = false;
  throw AmqpError(what + ": unexpected method " + std::to_string(reply.reply.id));
}

void AmqpConnection::throwIfClosing(const amqp_frame_t& frame) {
  if (frame.frame_type != AMQP_FRAME_METHOD) return;
  const amqp_method_t& method = frame.payload.method;
  if (method.id == AMQP_CHANNEL_CLOSE_METHOD) {
    auto* close = static_cast<amqp_channel_close_t*>(method.decoded);
    std::string reason = std::to_string(close->reply_code) + " " + textOf(close->reply_text);
    int code = close->reply_code;
    amqp_channel_close_ok_t close_ok{};
    amqp_send_method(state_, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
    throw AmqpChannelClosed(
        "broker closed channel " + std::to_string(frame.channel) + ": " + reason, code);
  }
  if (method.id == AMQP_CONNECTION_CLOSE_METHOD) {
    auto* close = static_cast<amqp_connection_close_t*>(method.decoded);
    std::string reason = std::to_string(close->reply_code) + " " + textOf(close->reply_text);
    amqp_connection_close_ok_t close_ok{};
    amqp_send_method(state_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &close_ok);
    usable_ = false;
    throw AmqpError("broker closed the connection: " + reason);
  }
}

void AmqpConnection::openChannel(amqp_channel_t channel) {
  amqp_channel_open(state_, channel);
  checkReply(channel, "cannot open channel " + std::to_string(channel));
}

void AmqpConnection::declareFanoutExchange(amqp_channel_t channel, const std::string& name,
                                           bool passive) {
  amqp_exchange_declare(state_, channel, bytesOf(name), amqp_cstring_bytes("fanout"),
                        passive ? 1 : 0, 1, 0, 0, amqp_empty_table);
  checkReply(channel, std::string(passive ? "exchange " : "cannot declare exchange ") + name);
}

std::string AmqpConnection::declareQueue(amqp_channel_t channel, const QueueSpec& spec) {
  amqp_table_entry_t queue_type;
  queue_type.key = amqp_cstring_bytes("x-queue-type");
  queue_type.value.kind = AMQP_FIELD_KIND_UTF8;
  queue_type.value.value.bytes = amqp_cstring_bytes("quorum");
  amqp_table_t arguments = amqp_empty_table;
  if (spec.quorum && !spec.passive) {
    arguments.num_entries = 1;
    arguments.entries = &queue_type;
  }
  amqp_queue_declare_ok_t* declared = amqp_queue_declare(
      state_, channel, bytesOf(spec.name), spec.passive ? 1 : 0, spec.durable ? 1 : 0,
      spec.exclusive ? 1 : 0, spec.auto_delete ? 1 : 0, arguments);
  checkReply(channel, std::string(spec.passive ? "queue " : "cannot declare queue ") +
                          (spec.name.empty() ? "(server-named)" : spec.name));
  return textOf(declared->queue);
}

void AmqpConnection::bindQueue(amqp_channel_t channel, const std::string& queue,
                               const std::string& exchange) {
  amqp_queue_bind(state_, channel, bytesOf(queue), bytesOf(exchange), amqp_empty_bytes,
                  amqp_empty_table);
  checkReply(channel, "cannot bind queue " + queue + " to exchange " + exchange);
}

void AmqpConnection::deleteExchange(amqp_channel_t channel, const std::string& name) {
  amqp_exchange_delete(state_, channel, bytesOf(name), 0);
  checkReply(channel, "cannot delete exchange " + name);
}

void AmqpConnection::deleteQueue(amqp_channel_t channel, const std::string& name) {
  amqp_queue_delete(state_, channel, bytesOf(name), 0, 0);
  checkReply(channel, "cannot delete queue " + name);
}

void AmqpConnection::setPrefetch(amqp_channel_t channel, uint16_t count) {
  amqp_basic_qos(state_, channel, 0, count, 0);
  checkReply(channel, "cannot set prefetch");
}

void AmqpConnection::selectConfirms(amqp_channel_t channel) {
  amqp_confirm_select(state_, channel);
  checkReply(channel, "cannot enable publisher confirms");
}

std::string AmqpConnection::consume(amqp_channel_t channel, const std::string& queue) {
  amqp_basic_consume_ok_t* consuming = amqp_basic_consume(
      state_, channel, bytesOf(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  checkReply(channel, "cannot consume queue " + queue);
  return textOf(consuming->consumer_tag);
}

void AmqpConnection::ack(amqp_channel_t channel, uint64_t delivery_tag) {
  checkStatus(amqp_basic_ack(state_, channel, delivery_tag, 0), "cannot acknowledge a delivery");
}

void AmqpConnection::publish(amqp_channel_t channel, const OutgoingMessage& message) {
  std::vector<amqp_table_entry_t> headers;
  headers.reserve(message.string_headers.size() + message.integer_headers.size());
  for (const auto& [key, value] : message.string_headers) {
    amqp_table_entry_t entry;
    entry.key = bytesOf(key);
    entry.value.kind = AMQP_FIELD_KIND_UTF8;
    entry.value.value.bytes = bytesOf(value);
    headers.push_back(entry);
  }
  for (const auto& [key, value] : message.integer_headers) {
    amqp_table_entry_t entry;
    entry.key = bytesOf(key);
    entry.value.kind = AMQP_FIELD_KIND_I64;
    entry.value.value.i64 = value;
    headers.push_back(entry);
  }

  amqp_basic_properties_t properties{};
  properties._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  properties.content_type = amqp_cstring_bytes(kJsonContentType);
  properties.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  if (!message.type.empty()) {
    properties._flags |= AMQP_BASIC_TYPE_FLAG;
    properties.type = bytesOf(message.type);
  }
  if (!message.message_id.empty()) {
    properties._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    properties.message_id = bytesOf(message.message_id);
  }
  if (!message.app_id.empty()) {
    properties._flags |= AMQP_BASIC_APP_ID_FLAG;
    properties.app_id = bytesOf(message.app_id);
  }
  if (message.timestamp != 0) {
    properties._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
    properties.timestamp = message.timestamp;
  }
  if (!headers.empty()) {
    properties._flags |= AMQP_BASIC_HEADERS_FLAG;
    properties.headers.num_entries = static_cast<int>(headers.size());
    properties.headers.entries = headers.data();
  }
  checkStatus(amqp_basic_publish(state_, channel, bytesOf(message.exchange), amqp_empty_bytes, 0, 0,
                                 &properties, bytesOf(message.body)),
              "cannot publish to exchange " + message.exchange);
}

}  // namespace busbar::amqp
