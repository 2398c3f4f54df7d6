// AccessLog: one line per answered HTTP request, when [log] access = true: when, which listener,
// the client's address, method, target, status, body bytes, duration, request id and the caller's
// token name when it sent one, as text or as one JSON object per line ([log] format).
//
// record() formats the line on the event loop's thread and hands it to its channel, which the
// host makes asynchronous (Poco's AsyncChannel) so that a slow disk never stalls a loop. A reload
// may turn it on or off and move it (configure()).
//
// Thread-safety: everything from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>

#include "host_config.h"
#include "ops/switching_channel.h"

namespace busbar::host {

class AccessLog {
 public:
  // Off until configure() turns it on.
  AccessLog() = default;

  // The server id its lines carry; before the first configure() that turns it on (a server keeps
  // its id for its life).
  void setServerId(const std::string& server_id) {
    if (server_id_ != server_id) server_id_ = server_id;
  }

  // Writes to `channel` in `format` from now on; a null channel turns the log off.
  void configure(Poco::AutoPtr<Poco::Channel> channel, LogFormat format);

  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }

  struct Entry {
    std::string_view listener;
    int fd = -1;              // the client's socket, for its address; -1: unknown
    std::string_view method;  // "" when the request's head was not read
    std::string_view target;
    int status = 0;
    size_t bytes = 0;  // of the body
    std::chrono::nanoseconds duration{0};
    std::string_view request_id;
    std::string_view principal;  // the caller's token name; "" for an anonymous caller
  };
  // Writes the line of `entry` when enabled().
  void record(const Entry& entry);

 private:
  std::string server_id_;
  Poco::AutoPtr<SwitchingChannel> channel_{new SwitchingChannel(nullptr)};
  std::atomic<bool> enabled_{false};
  std::atomic<LogFormat> format_{LogFormat::kText};
};

}  // namespace busbar::host
