// `busbar infra create|check|drop`: the broker topology of a config, without the broker console.
#pragma once

#include <string>
#include <vector>

#include <Poco/Logger.h>

#include "host_config.h"

namespace busbar::host {

// Loads the plugins of `settings` (init only) and drives the transport's TopologyAdmin over the
// exchanges of [event_bus]. Returns the exit code: 0 done, 1 check found something missing.
// On bad usage or config throws ConfigError.
int runInfra(const std::vector<std::string>& args, const HostSettings& settings,
             Poco::Logger& logger);

}  // namespace busbar::host
