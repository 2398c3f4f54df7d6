// NatsLink: this server's one connection to NATS and its JetStream context, shared by the
// publisher and the consumers (the cnats connection is thread-safe).
//
// cnats reconnects by itself, for ever, after a lost link (a nats-server restart); NatsLink keeps
// the state that the host's readiness check and the consumers need: whether the link is up, why
// not, and how many times it came back. `on_reconnected` runs on cnats' callback thread each time
// the link comes back after a loss; it must return at once. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include <Poco/Logger.h>
#include <nats/nats.h>

#include "nats_settings.h"

namespace nats_transport {

// A NATS or JetStream call failed; what() names the call and cnats' reason.
class NatsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "what: <cnats status text> (<last error>)" for `status`.
std::string describeStatus(const std::string& what, natsStatus status,
                           jsErrCode code = static_cast<jsErrCode>(0));

class NatsLink {
 public:
  NatsLink(NatsSettings settings, std::string connection_name, Poco::Logger& logger,
           std::function<void()> on_reconnected);
  ~NatsLink();  // closes

  NatsLink(const NatsLink&) = delete;
  NatsLink& operator=(const NatsLink&) = delete;

  // Connects; when no server answers, keeps trying in the background and returns. Throws
  // busbar::ConfigError when the server refuses the credentials or a URL is malformed.
  void open();

  // Closes the connection; later calls on it fail at once. Idempotent.
  void close() noexcept;

  // The JetStream context; valid from open() to close().
  jsCtx* jetStream() const { return js_; }

  // Creates the stream of `exchange` when it is missing. Throws NatsError.
  void ensureStream(const std::string& exchange);

  bool connected() const { return connected_.load(); }
  // Why the link is down; "" while it is up.
  std::string lastError() const;
  uint64_t reconnects() const { return reconnects_.load(); }

  const NatsSettings& settings() const { return settings_; }

 private:
  static void onConnected(natsConnection* connection, void* self);
  static void onDisconnected(natsConnection* connection, void* self);
  static void onReconnected(natsConnection* connection, void* self);
  static void onClosed(natsConnection* connection, void* self);
  static void onAsyncError(natsConnection* connection, natsSubscription* subscription,
                           natsStatus error, void* self);
  void down(const std::string& why);
  natsOptions* makeOptions(bool retry_in_background);

  const NatsSettings settings_;
  const std::string connection_name_;
  Poco::Logger& logger_;
  const std::function<void()> on_reconnected_;

  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
  std::atomic<bool> connected_{false};
  std::atomic<bool> closing_{false};
  std::atomic<bool> ever_connected_{false};
  std::atomic<uint64_t> reconnects_{0};
  mutable std::mutex mutex_;
  std::string last_error_ = "not connected yet";  // under mutex_
  bool closed_ = false;                           // under mutex_: the closed callback ran
  std::condition_variable closed_changed_;
};

}  // namespace nats_transport
