// The two log formats of [log] format, as Poco formatters.
//
// TextLogFormatter: "2024-05-01 12:34:56.789 Information busbar.users: message", in UTC, with
// " request_id=<id>" at the end when the line is logged for a request (request_context.h).
// JsonLogFormatter: one JSON object per line, {"time", "level", "logger", "message",
// "server_id"} and "request_id" when known, so that a log pipeline parses each line alone.
//
// Thread-safety: format() from any thread; it reads the request id of the calling thread, so the
// channel must format on the thread that logs (no AsyncChannel in front of them).
#pragma once

#include <string>

#include <Poco/AutoPtr.h>
#include <Poco/Formatter.h>
#include <Poco/PatternFormatter.h>

namespace busbar::host {

class TextLogFormatter : public Poco::Formatter {
 public:
  TextLogFormatter();
  void format(const Poco::Message& message, std::string& text) override;

 private:
  Poco::AutoPtr<Poco::PatternFormatter> pattern_;
};

class JsonLogFormatter : public Poco::Formatter {
 public:
  explicit JsonLogFormatter(std::string server_id);
  void format(const Poco::Message& message, std::string& text) override;

  // "info" for Poco's information, "warning", "error"... as log pipelines spell them.
  static const char* levelName(int priority);

 private:
  const std::string server_id_;
};

// `text` as a JSON string, quotes included.
std::string jsonString(const std::string& text);

}  // namespace busbar::host
