#include "nats_link.h"

#include <vector>

#include <busbar/errors.h>

namespace nats_transport {

std::string describeStatus(const std::string& what, natsStatus status, jsErrCode code) {
  std::string text = what + ": " + natsStatus_GetText(status);
  const char* detail = nats_GetLastError(nullptr);
  if (detail != nullptr && *detail != '\0') text += std::string(" (") + detail + ")";
  if (static_cast<int>(code) != 0)
    text += " [JetStream error " + std::to_string(static_cast<int>(code)) + "]";
  return text;
}

NatsLink::NatsLink(NatsSettings settings, std::string connection_name, Poco::Logger& logger,
                   std::function<void()> on_reconnected)
    : settings_(std::move(settings)),
      connection_name_(std::move(connection_name)),
      logger_(logger),
      on_reconnected_(std::move(on_reconnected)) {}

NatsLink::~NatsLink() { close(); }

natsOptions* NatsLink::makeOptions(bool retry_in_background) {
  natsOptions* options = nullptr;
  if (natsOptions_Create(&options) != NATS_OK) throw NatsError("natsOptions_Create failed");
  std::vector<const char*> servers;
  for (const auto& server : settings_.servers) servers.push_back(server.c_str());
  natsStatus status =
      natsOptions_SetServers(options, servers.data(), static_cast<int>(servers.size()));
  if (status == NATS_OK) status = natsOptions_SetNoRandomize(options, true);
  if (status == NATS_OK) status = natsOptions_SetName(options, connection_name_.c_str());
  if (status == NATS_OK && !settings_.user.empty()) {
    status = natsOptions_SetUserInfo(options, settings_.user.c_str(), settings_.password.c_str());
  }
  // Reconnect for ever: the server is expected back (a restart, an upgrade); meanwhile the host
  // reports the transport down on /readyz.
  if (status == NATS_OK) status = natsOptions_SetMaxReconnect(options, -1);
  if (status == NATS_OK) {
    status = natsOptions_SetReconnectWait(options, settings_.reconnect_wait.count());
  }
  if (status == NATS_OK) status = natsOptions_SetTimeout(options, 2000);
  // A dead link is noticed within about 3 s, not cnats' default 4 minutes.
  if (status == NATS_OK) status = natsOptions_SetPingInterval(options, 1000);
  if (status == NATS_OK) status = natsOptions_SetMaxPingsOut(options, 2);
  if (status == NATS_OK) status = natsOptions_SetDisconnectedCB(options, onDisconnected, this);
  if (status == NATS_OK) status = natsOptions_SetReconnectedCB(options, onReconnected, this);
  if (status == NATS_OK) status = natsOptions_SetClosedCB(options, onClosed, this);
  if (status == NATS_OK) status = natsOptions_SetErrorHandler(options, onAsyncError, this);
  if (status == NATS_OK && retry_in_background) {
    status = natsOptions_SetRetryOnFailedConnect(options, true, onConnected, this);
  }
  if (status != NATS_OK) {
    natsOptions_Destroy(options);
    throw busbar::ConfigError(settings_.config_file + ": [nats] url " +
                              describeStatus("is not usable", status) +
                              "; expected nats://HOST:PORT, comma-separated");
  }
  return options;
}

void NatsLink::open() {
  closing_.store(false);
  // First one plain attempt, so that a mistake in [nats] stops the host (exit 2) instead of being
  // retried for ever; a server that is away is the environment's matter, retried below.
  natsOptions* options = makeOptions(false);
  natsStatus status = natsConnection_Connect(&connection_, options);
  natsOptions_Destroy(options);
  if (status == NATS_CONNECTION_AUTH_FAILED || status == NATS_NOT_PERMITTED ||
      status == NATS_ADDRESS_MISSING || status == NATS_INVALID_ARG) {
    throw busbar::ConfigError(
        settings_.config_file + ": [nats] " +
        describeStatus("connecting to " + describeServers(settings_), status) +
        "; check url, user and password (or BUSBAR_NATS_PASSWORD)");
  }
  if (status == NATS_OK) {
    connected_.store(true);
    ever_connected_.store(true);
  } else {
    down(describeStatus("connecting to " + describeServers(settings_), status));
    logger_.warning("nats: " + lastError() + "; retrying in the background, not ready until then");
    options = makeOptions(true);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = false;
    }
    status = natsConnection_Connect(&connection_, options);
    natsOptions_Destroy(options);
    if (status == NATS_OK) {
      connected_.store(true);
    } else if (status != NATS_NOT_YET_CONNECTED) {
      throw NatsError(describeStatus("connecting to " + describeServers(settings_), status));
    }
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = settings_.publish_timeout.count();
  status = natsConnection_JetStream(&js_, connection_, &js_options);
  if (status != NATS_OK) throw NatsError(describeStatus("natsConnection_JetStream", status));
  if (connected_.load()) {
    logger_.information("nats: connected to " + describeServers(settings_));
  }
}

void NatsLink::close() noexcept {
  closing_.store(true);
  if (js_ != nullptr) {
    jsCtx_Destroy(js_);
    js_ = nullptr;
  }
  if (connection_ != nullptr) {
    natsConnection_Close(connection_);
    // cnats calls back on a thread of its own, the closed callback last: waiting for it means no
    // callback runs on this object once it is gone.
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // A connection still making its first connect may never call it: a shorter wait then.
      auto wait =
          ever_connected_.load() ? std::chrono::milliseconds(2000) : std::chrono::milliseconds(200);
      closed_changed_.wait_for(lock, wait, [this] { return closed_; });
    }
    natsConnection_Destroy(connection_);
    connection_ = nullptr;
  }
  down("the transport stopped");
}

void NatsLink::ensureStream(const std::string& exchange) {
  const std::string stream = streamName(settings_, exchange);
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus status = js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, &code);
  if (status == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return;
  }
  if (status != NATS_NOT_FOUND) {
    throw NatsError(describeStatus("looking up JetStream stream " + stream, status, code));
  }
  if (!settings_.auto_setup) {
    throw NatsError("JetStream stream " + stream + " for exchange " + exchange +
                    " does not exist and [nats] auto_setup is off; create it or set "
                    "auto_setup = true");
  }
  const std::string subject = subjectName(settings_, exchange);
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = stream.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = settings_.memory_storage ? js_MemoryStorage : js_FileStorage;
  config.Replicas = settings_.replicas;
  config.MaxAge = static_cast<int64_t>(settings_.max_age.count()) * 1000 * 1000 * 1000;
  status = js_AddStream(&info, js_, &config, nullptr, &code);
  // Another server may have created it meanwhile with the same configuration: that is success.
  if (status != NATS_OK && code != JSStreamNameExistErr) {
    throw NatsError(describeStatus("creating JetStream stream " + stream, status, code));
  }
  jsStreamInfo_Destroy(info);
  logger_.information("nats: created JetStream stream " + stream + " for subject " + subject);
}

std::string NatsLink::lastError() const {
  if (connected_.load()) return "";
  std::lock_guard<std::mutex> lock(mutex_);
  return last_error_;
}

void NatsLink::down(const std::string& why) {
  connected_.store(false);
  std::lock_guard<std::mutex> lock(mutex_);
  last_error_ = why;
}

void NatsLink::onConnected(natsConnection*, void* self) {
  auto* link = static_cast<NatsLink*>(self);
  link->connected_.store(true);
  link->ever_connected_.store(true);
  link->logger_.information("nats: connected to " + describeServers(link->settings_));
}

void NatsLink::onDisconnected(natsConnection*, void* self) {
  auto* link = static_cast<NatsLink*>(self);
  if (link->closing_.load()) return;
  link->down("the link to " + describeServers(link->settings_) + " is down; reconnecting");
  link->logger_.warning("nats: lost the link to " + describeServers(link->settings_) +
                        "; reconnecting every " +
                        std::to_string(link->settings_.reconnect_wait.count()) + " ms");
}

void NatsLink::onReconnected(natsConnection*, void* self) {
  auto* link = static_cast<NatsLink*>(self);
  link->connected_.store(true);
  ++link->reconnects_;
  link->logger_.information("nats: reconnected to " + describeServers(link->settings_));
  if (link->on_reconnected_) link->on_reconnected_();
}

void NatsLink::onClosed(natsConnection*, void* self) {
  auto* link = static_cast<NatsLink*>(self);
  if (!link->closing_.load()) link->down("the connection was closed");
  {
    std::lock_guard<std::mutex> lock(link->mutex_);
    link->closed_ = true;
  }
  link->closed_changed_.notify_all();
}

void NatsLink::onAsyncError(natsConnection*, natsSubscription*, natsStatus error, void* self) {
  auto* link = static_cast<NatsLink*>(self);
  link->logger_.warning(std::string("nats: asynchronous error: ") + natsStatus_GetText(error));
}

}  // namespace nats_transport
