// PluginLoader: finds plugin files, checks their descriptors, and keeps them loaded.
//
// Every check runs on the plain C descriptor before any C++ object of the plugin exists, and
// every refusal names the file, what was expected, what was found and how to fix it. Libraries
// are never unloaded: code of a plugin may still be referenced (vtables, static objects) until
// the process exits. Not thread-safe; used at start only.
#pragma once

#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>

#include "busbar/abi.h"

namespace busbar::host {

struct LoadedPlugin {
  std::string name;
  std::string path;
  const busbar_plugin_descriptor* descriptor = nullptr;
  std::vector<std::string> required;
};

// Why a plugin file is refused; what() is the full message for the operator.
class PluginRejected : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The checks of one descriptor against this host. Returns an empty string when it is acceptable,
// else the reason (without the file name). `expected_name` empty: any name.
std::string checkDescriptor(const busbar_plugin_descriptor* descriptor,
                            const std::string& expected_name);

// "transport", "storage", "module".
std::string kindName(uint32_t kind);

class PluginLoader {
 public:
  explicit PluginLoader(std::vector<std::string> plugin_dirs);

  // Loads `name`.so from the first plugin folder that has it and checks it. On failure throws
  // PluginRejected. A second plugin of the same descriptor name is refused as a duplicate.
  LoadedPlugin load(const std::string& name);

  // Loads and checks one file; `expected_name` empty accepts any name.
  LoadedPlugin loadFile(const std::string& path, const std::string& expected_name);

  const std::vector<LoadedPlugin>& loaded() const { return loaded_; }

 private:
  std::vector<std::string> plugin_dirs_;
  std::vector<LoadedPlugin> loaded_;
};

}  // namespace busbar::host
