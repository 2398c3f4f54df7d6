#include "service_database.h"

#include <cctype>
#include <sstream>
#include <stdexcept>

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>

#include "server_process.h"

namespace busbar::testing {

std::map<std::string, std::string> createServiceDatabase(const std::string& driver) {
  const std::string service = driver == "mysql"        ? "mariadb"
                              : driver == "postgresql" ? "postgresql"
                                                       : "";
  if (service.empty()) {
    throw std::runtime_error("a service database is for mysql or postgresql; found '" + driver +
                             "'");
  }
  const std::string script = sourceDir() + "/scripts/services/" + service + ".sh";
  // One pipe for both streams: the export lines are parsed, the rest explains a failure.
  Poco::Pipe output;
  Poco::ProcessHandle handle =
      Poco::Process::launch(script, {"database"}, nullptr, &output, &output);
  Poco::PipeInputStream stream(output);
  std::string text;
  Poco::StreamCopier::copyToString(stream, text);
  if (handle.wait() != 0) {
    throw std::runtime_error(script + " database failed (is the server started? scripts/test " +
                             "starts it):\n" + text);
  }
  // Lines "export BUSBAR_TEST_<SERVICE>_<KEY>=value"; the script's other lines are messages.
  const std::string marker =
      std::string("export BUSBAR_TEST_") + (driver == "mysql" ? "MYSQL_" : "PG_");
  std::map<std::string, std::string> keys{{"driver", driver}};
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    auto equals = line.find('=');
    if (line.rfind(marker, 0) != 0 || equals == std::string::npos) continue;
    std::string key = line.substr(marker.size(), equals - marker.size());
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    keys[key] = line.substr(equals + 1);
  }
  for (const char* key : {"host", "port", "database", "user", "password"}) {
    if (keys.count(key) == 0) {
      throw std::runtime_error(script + " database printed no " + key + ":\n" + text);
    }
  }
  return keys;
}

}  // namespace busbar::testing
