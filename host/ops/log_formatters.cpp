#include "ops/log_formatters.h"

#include <Poco/DateTimeFormatter.h>
#include <Poco/Message.h>
#include <Poco/UTF8String.h>

#include "ops/request_context.h"

namespace busbar::host {

std::string jsonString(const std::string& text) {
  return "\"" + Poco::UTF8::escape(text, /*strictJSON=*/true) + "\"";
}

TextLogFormatter::TextLogFormatter()
    : pattern_(new Poco::PatternFormatter("%Y-%m-%d %H:%M:%S.%i %p %s: %t")) {
  pattern_->setProperty("times", "UTC");
}

void TextLogFormatter::format(const Poco::Message& message, std::string& text) {
  pattern_->format(message, text);
  const std::string_view request_id = currentRequestId();
  if (!request_id.empty()) text.append(" request_id=").append(request_id);
}

JsonLogFormatter::JsonLogFormatter(std::string server_id) : server_id_(std::move(server_id)) {}

const char* JsonLogFormatter::levelName(int priority) {
  switch (priority) {
    case Poco::Message::PRIO_FATAL:
      return "fatal";
    case Poco::Message::PRIO_CRITICAL:
      return "critical";
    case Poco::Message::PRIO_ERROR:
      return "error";
    case Poco::Message::PRIO_WARNING:
      return "warning";
    case Poco::Message::PRIO_NOTICE:
      return "notice";
    case Poco::Message::PRIO_INFORMATION:
      return "info";
    case Poco::Message::PRIO_DEBUG:
      return "debug";
    default:
      return "trace";
  }
}

void JsonLogFormatter::format(const Poco::Message& message, std::string& text) {
  text += "{\"time\":\"";
  text += Poco::DateTimeFormatter::format(message.getTime(), "%Y-%m-%dT%H:%M:%S.%iZ");
  text += "\",\"level\":\"";
  text += levelName(message.getPriority());
  text += "\",\"logger\":";
  text += jsonString(message.getSource());
  text += ",\"message\":";
  text += jsonString(message.getText());
  text += ",\"server_id\":";
  text += jsonString(server_id_);
  const std::string_view request_id = currentRequestId();
  if (!request_id.empty()) {
    text += ",\"request_id\":";
    text += jsonString(std::string(request_id));
  }
  text += "}";
}

}  // namespace busbar::host
