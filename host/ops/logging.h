// Logging: where every logger writes, as [log] says: the level, the format (text or JSON lines),
// standard error or a file rotated by size or time (Poco's FileChannel, numbered archives, the
// oldest beyond `keep` deleted), and the access log (http/access_log.h) beside it or in a file of
// its own.
//
// Every logger writes through one SwitchingChannel, so apply() can run again while the server
// serves (busbar reload, SIGHUP) and switch level, format and files at once; a file moved away by
// logrotate is reopened by the same reload. Messages are formatted on the thread that logs, which
// is where the request id is known; the access log alone goes through an AsyncChannel.
//
// Thread-safety: apply() from one thread at a time; logging from any.
#pragma once

#include <memory>
#include <string>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>

#include "host_config.h"
#include "http/access_log.h"
#include "ops/switching_channel.h"

namespace busbar::host {

class Logging {
 public:
  // Text on standard error at level information: the log before any config is read.
  Logging();
  ~Logging();  // closes the channels, writing what waits

  // Applies `settings`, read from `config_file`, for this `server_id`. On a file that cannot be
  // opened throws ConfigError naming the file, the key and the fix; what was in force stays.
  void apply(const LogSettings& settings, const std::string& config_file,
             const std::string& server_id);

  AccessLog& accessLog() { return access_log_; }

 private:
  Poco::AutoPtr<SwitchingChannel> main_;
  AccessLog access_log_;
};

}  // namespace busbar::host
