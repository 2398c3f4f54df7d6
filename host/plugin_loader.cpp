#include "plugin_loader.h"

#include <cstring>
#include <deque>

#include <Poco/File.h>
#include <Poco/Path.h>

namespace busbar::host {
namespace {

// Loaded libraries live until exit, on purpose (see the class comment).
std::deque<boost::dll::shared_library>& keptLibraries() {
  static auto* libraries = new std::deque<boost::dll::shared_library>();
  return *libraries;
}

}  // namespace

std::string kindName(uint32_t kind) {
  switch (kind) {
    case BUSBAR_KIND_TRANSPORT:
      return "transport";
    case BUSBAR_KIND_STORAGE:
      return "storage";
    case BUSBAR_KIND_MODULE:
      return "module";
  }
  return "unknown kind " + std::to_string(kind);
}

namespace {

std::string rebuildHint() {
  return "rebuild the plugin against this host's SDK (find_package(Busbar) from the same "
         "install) with the same compiler";
}

}  // namespace

std::string checkDescriptor(const busbar_plugin_descriptor* descriptor,
                            const std::string& expected_name) {
  if (descriptor == nullptr) {
    return "its entry point " BUSBAR_ENTRY_POINT_NAME
           " returned no descriptor; fix: declare the plugin with BUSBAR_PLUGIN(...)";
  }
  if (descriptor->magic != BUSBAR_DESCRIPTOR_MAGIC) {
    char found[16];
    std::snprintf(found, sizeof found, "0x%08x", descriptor->magic);
    return std::string("bad descriptor magic: expected 0x42555342, found ") + found +
           "; fix: declare the plugin with BUSBAR_PLUGIN(...) instead of writing the descriptor";
  }
  if (descriptor->abi_major != BUSBAR_ABI_MAJOR) {
    return "ABI major mismatch: expected " + std::to_string(BUSBAR_ABI_MAJOR) + ", found " +
           std::to_string(descriptor->abi_major) + "; fix: " + rebuildHint();
  }
  if (descriptor->abi_minor > BUSBAR_ABI_MINOR) {
    return "built for ABI 1." + std::to_string(descriptor->abi_minor) +
           ", newer than this host's 1." + std::to_string(BUSBAR_ABI_MINOR) +
           "; fix: upgrade busbar, or build the plugin against this host's SDK";
  }
  if (descriptor->size < sizeof(busbar_plugin_descriptor)) {
    return "descriptor too small: expected at least " +
           std::to_string(sizeof(busbar_plugin_descriptor)) + " bytes, found " +
           std::to_string(descriptor->size) + " bytes; fix: " + rebuildHint();
  }
  const char* signature = descriptor->build_signature ? descriptor->build_signature : "(none)";
  if (std::strcmp(signature, BUSBAR_BUILD_SIGNATURE) != 0) {
    return std::string("build signature mismatch: expected '") + BUSBAR_BUILD_SIGNATURE +
           "', found '" + signature + "'; fix: " + rebuildHint();
  }
  if (descriptor->name == nullptr || *descriptor->name == '\0') {
    return "the descriptor has no name; fix: give BUSBAR_PLUGIN a name";
  }
  if (!expected_name.empty() && expected_name != descriptor->name) {
    return "name mismatch: host.conf asked for '" + expected_name + "', the file declares '" +
           descriptor->name + "'; fix: name the plugin '" + descriptor->name +
           "' in host.conf or rename the file";
  }
  if (descriptor->kind != BUSBAR_KIND_TRANSPORT && descriptor->kind != BUSBAR_KIND_STORAGE &&
      descriptor->kind != BUSBAR_KIND_MODULE) {
    return "unknown plugin kind " + std::to_string(descriptor->kind) +
           ": expected transport (1), storage (2) or module (3)";
  }
  if (descriptor->create == nullptr || descriptor->destroy == nullptr) {
    return "the descriptor has no factory; fix: declare the plugin with BUSBAR_PLUGIN(...)";
  }
  return "";
}

PluginLoader::PluginLoader(std::vector<std::string> plugin_dirs)
    : plugin_dirs_(std::move(plugin_dirs)) {}

LoadedPlugin PluginLoader::load(const std::string& name) {
  std::string searched;
  for (const auto& dir : plugin_dirs_) {
    std::string path = Poco::Path(dir).append(name + ".so").toString();
    if (Poco::File(path).exists()) return loadFile(path, name);
    searched += (searched.empty() ? "" : ", ") + path;
  }
  throw PluginRejected("plugin '" + name + "' named in [host] plugins was not found: expected " +
                       searched +
                       "; fix: build or install it there, pass --plugin-dir, or remove it from "
                       "[host] plugins");
}

LoadedPlugin PluginLoader::loadFile(const std::string& path,
                                           const std::string& expected_name) {
  boost::dll::shared_library library;
  try {
    library.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& error) {
    throw PluginRejected(path + ": cannot load the shared object: " + error.what() +
                         "; fix: check that it is a busbar plugin built for this system and that "
                         "the libraries it needs are installed (ldd)");
  }
  if (!library.has(BUSBAR_ENTRY_POINT_NAME)) {
    std::string other;
    for (int major = 0; major <= 9; ++major) {
      if (major != BUSBAR_ABI_MAJOR && library.has("busbar_plugin_v" + std::to_string(major))) {
        other = " (it exports busbar_plugin_v" + std::to_string(major) + ": built for ABI major " +
                std::to_string(major) + ")";
      }
    }
    throw PluginRejected(path + ": missing entry point " BUSBAR_ENTRY_POINT_NAME + other +
                         "; fix: declare the plugin with BUSBAR_PLUGIN(...) from <busbar/plugin.h> "
                         "of this host's SDK (ABI " + std::to_string(BUSBAR_ABI_MAJOR) + "." +
                         std::to_string(BUSBAR_ABI_MINOR) + ")");
  }
  auto entry = library.get<const busbar_plugin_descriptor*()>(BUSBAR_ENTRY_POINT_NAME);
  const busbar_plugin_descriptor* descriptor = entry();
  std::string problem = checkDescriptor(descriptor, expected_name);
  if (!problem.empty()) throw PluginRejected(path + ": " + problem);
  for (const auto& other : loaded_) {
    if (other.name == descriptor->name) {
      throw PluginRejected(path + ": duplicate plugin '" + other.name + "', already loaded from " +
                           other.path + "; fix: name it once in [host] plugins");
    }
  }
  LoadedPlugin plugin;
  plugin.name = descriptor->name;
  plugin.path = path;
  plugin.descriptor = descriptor;
  for (const char* const* required = descriptor->required_plugins;
       required != nullptr && *required != nullptr; ++required) {
    plugin.required.emplace_back(*required);
  }
  keptLibraries().push_back(std::move(library));
  loaded_.push_back(plugin);
  return plugin;
}


}  // namespace busbar::host
