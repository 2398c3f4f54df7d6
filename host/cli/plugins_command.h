// `busbar plugins`: what the plugin folders hold, as the host would judge it, without starting
// a server and without running plugin code beyond each file's entry point (PluginCatalog).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace busbar::host {

// Where the server of the config listens, to ask it which plugins serve now (GET /health).
struct ServingAddress {
  std::string host;
  uint16_t port = 0;
};

// Writes, for every .so file of `dirs` in search order, its name, kind, version, ABI, requires,
// build signature and status ("ok", or why the host would refuse it), as text or as one JSON
// object. `host_version` is this busbar's version. With `server`, it first asks that server which
// plugin versions serve now, since when (its last reload) and in which process, and marks the
// files that serve; a server that does not answer is said so. Returns the exit code: 0 when the
// listing was written, 2 when none of `dirs` exists.
int runPlugins(const std::vector<std::string>& dirs, bool json, const std::string& host_version,
               std::ostream& out, const std::optional<ServingAddress>& server = std::nullopt);

}  // namespace busbar::host
