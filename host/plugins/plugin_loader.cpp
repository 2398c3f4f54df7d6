#include "plugins/plugin_loader.h"

namespace busbar::host {

PluginLoader::PluginLoader(std::vector<std::string> plugin_dirs)
    : catalog_(std::move(plugin_dirs)) {}

LoadedPlugin PluginLoader::load(const std::string& name) {
  return accept(catalog_.find(name), name);
}

LoadedPlugin PluginLoader::loadFile(const std::string& path, const std::string& expected_name) {
  return accept(catalog_.inspect(path), expected_name);
}

LoadedPlugin PluginLoader::accept(const PluginFile& file, const std::string& expected_name) {
  if (!file.ok()) throw PluginRejected(file.path + ": " + file.problem);
  std::string problem = checkDescriptor(file.descriptor, expected_name);
  if (!problem.empty()) throw PluginRejected(file.path + ": " + problem);
  for (const auto& other : loaded_) {
    if (other.name == file.name()) {
      throw PluginRejected(file.path + ": duplicate plugin '" + other.name +
                           "', already loaded from " + other.path +
                           "; fix: name it once in [host] plugins");
    }
  }
  LoadedPlugin plugin;
  plugin.name = file.name();
  plugin.path = file.path;
  plugin.descriptor = file.descriptor;
  plugin.required = file.required();
  loaded_.push_back(plugin);
  return plugin;
}

}  // namespace busbar::host
