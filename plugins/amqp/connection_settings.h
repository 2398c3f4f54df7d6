// Where and how to reach the broker; the [amqp] keys that every connection shares.
//
// Plain value type.
#pragma once

#include <chrono>
#include <string>

namespace busbar::amqp {

struct ConnectionSettings {
  std::string host = "127.0.0.1";
  int port = 5672;
  std::string vhost = "/";
  std::string user = "guest";
  std::string password = "guest";  // never logged
  int heartbeat_seconds = 10;      // a dead link is noticed after two of them
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds rpc_timeout{10000};
  std::string config_file;  // where these came from, for the fix an error names ("" in tests)
};

// "amqp://user@host:port/vhost", without the password, for logs and errors.
inline std::string describe(const ConnectionSettings& settings) {
  return "amqp://" + settings.user + "@" + settings.host + ":" + std::to_string(settings.port) +
         (settings.vhost.empty() || settings.vhost[0] != '/' ? "/" : "") + settings.vhost;
}

}  // namespace busbar::amqp
