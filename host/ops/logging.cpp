#include "ops/logging.h"

#include <iostream>
#include <string>

#include <Poco/AsyncChannel.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/File.h>
#include <Poco/FileChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Path.h>

#include "busbar/errors.h"
#include "ops/log_formatters.h"

namespace busbar::host {
namespace {

// Standard error, or `file` rotated as `settings` say. Opens the file to find out now whether it
// can be written.
Poco::AutoPtr<Poco::Channel> sinkFor(const std::string& file, const char* key,
                                     const LogSettings& settings, const std::string& config_file) {
  if (file.empty()) return new Poco::ConsoleChannel(std::cerr);
  Poco::AutoPtr<Poco::FileChannel> channel(new Poco::FileChannel(file));
  channel->setProperty("rotation", settings.rotation);
  channel->setProperty("archive", "number");
  channel->setProperty("purgeCount", std::to_string(settings.keep));
  channel->setProperty("times", "utc");
  try {
    Poco::File(Poco::Path(file).parent()).createDirectories();
    channel->open();
  } catch (const Poco::Exception& error) {
    throw ConfigError(config_file + ": [log] " + key + " = " + file + " cannot be written (" +
                      error.displayText() +
                      "); give a path in a folder the server may write (under systemd, one "
                      "that ReadWritePaths= or LogsDirectory= allows), or leave it out to log "
                      "to standard error");
  }
  return channel;
}

}  // namespace

Logging::Logging()
    : main_(new SwitchingChannel(
          new Poco::FormattingChannel(new TextLogFormatter, new Poco::ConsoleChannel(std::cerr)))) {
  Poco::Logger::setChannel("", main_);
  Poco::Logger::setLevel("", Poco::Message::PRIO_INFORMATION);
}

Logging::~Logging() {
  access_log_.configure(nullptr, LogFormat::kText);
  main_->close();
}

void Logging::apply(const LogSettings& settings, const std::string& config_file,
                    const std::string& server_id) {
  auto sink = sinkFor(settings.file, "file", settings, config_file);
  Poco::AutoPtr<Poco::Channel> access_sink;
  if (settings.access) {
    access_sink = settings.access_file.empty()
                      ? sink
                      : sinkFor(settings.access_file, "access_file", settings, config_file);
  }
  Poco::AutoPtr<Poco::Formatter> formatter;
  if (settings.format == LogFormat::kJson) {
    formatter = new JsonLogFormatter(server_id);
  } else {
    formatter = new TextLogFormatter;
  }
  access_log_.setServerId(server_id);
  main_->switchTo(new Poco::FormattingChannel(formatter, sink));
  // Loggers made before this keep their own level: set every one, and the root for new ones.
  Poco::Logger::setLevel("", settings.level);
  Poco::Logger::setChannel("", main_);
  if (access_sink) {
    Poco::AutoPtr<Poco::AsyncChannel> async(new Poco::AsyncChannel(access_sink));
    access_log_.configure(async, settings.format);
  } else {
    access_log_.configure(nullptr, settings.format);
  }
}

}  // namespace busbar::host
