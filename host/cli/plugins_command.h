// `busbar plugins`: what the plugin folders hold, as the host would judge it, without starting
// a server and without running plugin code beyond each file's entry point (PluginCatalog).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace busbar::host {

// Writes, for every .so file of `dirs` in search order, its name, kind, version, ABI, requires,
// build signature and status ("ok", or why the host would refuse it), as text or as one JSON
// object. `host_version` is this busbar's version. Returns the exit code: 0 when the listing was
// written, 2 when none of `dirs` exists.
int runPlugins(const std::vector<std::string>& dirs, bool json, const std::string& host_version,
               std::ostream& out);

}  // namespace busbar::host
