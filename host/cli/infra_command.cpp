#include "cli/infra_command.h"

#include <iostream>

#include "host.h"

namespace busbar::host {

int runInfra(const std::vector<std::string>& args, const HostSettings& settings,
             Poco::Logger& logger) {
  if (args.size() != 2 || (args[1] != "create" && args[1] != "check" && args[1] != "drop")) {
    throw ConfigError("usage: busbar infra create|check|drop --config FILE");
  }
  const std::string& action = args[1];
  Host host(settings, logger);
  host.load();
  auto admin = host.registry().find<TopologyAdmin>("transport.admin");
  if (!admin) {
    std::cout << "transport '" << settings.event_bus.transport
              << "' has no broker topology: nothing to " << action << "\n";
    return 0;
  }
  std::vector<std::string> exchanges;
  for (const auto& [alias, name] : settings.event_bus.exchanges) exchanges.push_back(name);
  std::vector<std::string> lines;
  int code = 0;
  if (action == "create") {
    lines = admin->createTopology(exchanges);
  } else if (action == "drop") {
    lines = admin->dropTopology(exchanges);
  } else if (!admin->checkTopology(exchanges, lines)) {
    code = 1;
  }
  for (const auto& line : lines) std::cout << line << "\n";
  return code;
}

}  // namespace busbar::host
