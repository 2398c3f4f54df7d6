#include "service_database.h"

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
  Poco::Pipe output;
  Poco::ProcessHandle handle =
      Poco::Process::launch(sourceDir() + "/scripts/services/" + service + ".sh", {"database"},
                            nullptr, &output, nullptr);
  Poco::PipeInputStream stream(output);
  std::string exports;
  Poco::StreamCopier::copyToString(stream, exports);
  if (handle.wait() != 0) {
    throw std::runtime_error("scripts/services/" + service +
                             ".sh database failed: is the server started (scripts/test)?");
  }
  // Lines "export BUSBAR_TEST_<SERVICE>_<KEY>=value".
  std::map<std::string, std::string> keys{{"driver", driver}};
  std::istringstream lines(exports);
  for (std::string line; std::getline(lines, line);) {
    auto equals = line.find('=');
    if (line.rfind("export ", 0) != 0 || equals == std::string::npos) continue;
    auto name = line.rfind('_', equals);
    std::string key = line.substr(name + 1, equals - name - 1);
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    keys[key] = line.substr(equals + 1);
  }
  return keys;
}

}  // namespace busbar::testing
