#include "http/access_log.h"

#include <sys/socket.h>

#include <cstdio>

#include <Poco/DateTimeFormatter.h>
#include <Poco/Message.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Timestamp.h>
#include <Poco/UTF8String.h>

namespace busbar::host {
namespace {

std::string peerOf(int fd) {
  if (fd < 0) return "-";
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "-";
  try {
    return Poco::Net::SocketAddress(reinterpret_cast<sockaddr*>(&address), length).toString();
  } catch (const Poco::Exception&) {
    return "-";
  }
}

std::string quoted(std::string_view text) {
  return "\"" + Poco::UTF8::escape(std::string(text), /*strictJSON=*/true) + "\"";
}

}  // namespace

void AccessLog::configure(Poco::AutoPtr<Poco::Channel> channel, LogFormat format) {
  format_.store(format);
  enabled_.store(static_cast<bool>(channel));
  channel_->switchTo(std::move(channel));
}

void AccessLog::record(const Entry& entry) {
  if (!enabled()) return;
  const std::string time =
      Poco::DateTimeFormatter::format(Poco::Timestamp(), "%Y-%m-%dT%H:%M:%S.%iZ");
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.3f",
                static_cast<double>(entry.duration.count()) / 1e6);
  const std::string method = entry.method.empty() ? "-" : std::string(entry.method);
  const std::string target = entry.method.empty() ? "-" : std::string(entry.target);
  std::string line;
  if (format_.load() == LogFormat::kJson) {
    line = "{\"time\":" + quoted(time) + ",\"level\":\"info\",\"logger\":\"busbar.access\"" +
           ",\"server_id\":" + quoted(server_id_) + ",\"request_id\":" + quoted(entry.request_id) +
           ",\"listener\":" + quoted(entry.listener) + ",\"remote\":" + quoted(peerOf(entry.fd)) +
           ",\"method\":" + quoted(method) + ",\"target\":" + quoted(target) +
           ",\"status\":" + std::to_string(entry.status) +
           ",\"bytes\":" + std::to_string(entry.bytes) + ",\"duration_ms\":" + duration +
           (entry.principal.empty() ? "" : ",\"principal\":" + quoted(entry.principal)) + "}";
  } else {
    line = time + " " + std::string(entry.listener) + " " + peerOf(entry.fd) + " \"" + method +
           " " + target + "\" " + std::to_string(entry.status) + " " + std::to_string(entry.bytes) +
           " " + duration + "ms request_id=" + std::string(entry.request_id) +
           (entry.principal.empty() ? "" : " principal=" + std::string(entry.principal));
  }
  channel_->log(Poco::Message("busbar.access", line, Poco::Message::PRIO_INFORMATION));
}

}  // namespace busbar::host
