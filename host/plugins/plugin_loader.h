// PluginLoader: finds the plugins host.conf names, checks their descriptors, keeps them loaded.
//
// A plugin is looked up by the name its descriptor declares, in the plugin folders in order
// (PluginCatalog). Every check runs on the plain C descriptor before any C++ object of the plugin
// exists, and every refusal names the file, what was expected, what was found and how to fix it.
// Libraries are never unloaded: code of a plugin may still be referenced (vtables, static
// objects) until the process exits. Not thread-safe; used at start only.
#pragma once

#include <string>
#include <vector>

#include "busbar/abi.h"
#include "plugins/plugin_catalog.h"

namespace busbar::host {

struct LoadedPlugin {
  std::string name;
  std::string path;
  const busbar_plugin_descriptor* descriptor = nullptr;
  std::vector<std::string> required;
};

class PluginLoader {
 public:
  explicit PluginLoader(std::vector<std::string> plugin_dirs);

  // Loads the plugin that declares `name`, from the first plugin folder that has it, and checks
  // it. On failure throws PluginRejected. A second plugin of the same name is refused as a
  // duplicate.
  LoadedPlugin load(const std::string& name);

  // Loads and checks one file; `expected_name` empty accepts any name.
  LoadedPlugin loadFile(const std::string& path, const std::string& expected_name);

  const std::vector<LoadedPlugin>& loaded() const { return loaded_; }

 private:
  LoadedPlugin accept(const PluginFile& file, const std::string& expected_name);

  PluginCatalog catalog_;
  std::vector<LoadedPlugin> loaded_;
};

}  // namespace busbar::host
