#include "cli/plugins_command.h"

#include <algorithm>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Path.h>

#include "plugins/plugin_catalog.h"

namespace busbar::host {
namespace {

std::string abiOf(const PluginFile& file) {
  const busbar_plugin_descriptor* descriptor = file.descriptor;
  if (descriptor == nullptr || descriptor->magic != BUSBAR_DESCRIPTOR_MAGIC) return "";
  return std::to_string(descriptor->abi_major) + "." + std::to_string(descriptor->abi_minor);
}

std::string textOr(const char* text, const char* fallback) {
  return text != nullptr ? std::string(text) : std::string(fallback);
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

std::string hostAbi() {
  return std::to_string(BUSBAR_ABI_MAJOR) + "." + std::to_string(BUSBAR_ABI_MINOR);
}

Poco::Dynamic::Var jsonText(const std::string& text) {
  if (text.empty()) return Poco::Dynamic::Var();
  return text;
}

void writeJson(const std::vector<std::string>& dirs, const std::vector<std::string>& missing,
               const std::vector<PluginCatalog::Entry>& entries, const std::string& host_version,
               std::ostream& out) {
  Poco::JSON::Object host;
  host.set("version", host_version);
  host.set("abi", hostAbi());
  host.set("build_signature", std::string(BUSBAR_BUILD_SIGNATURE));
  Poco::JSON::Array folders;
  for (const auto& dir : dirs) {
    Poco::JSON::Object folder;
    bool exists = std::find(missing.begin(), missing.end(), dir) == missing.end();
    std::string distrust = exists ? untrustedReason(dir) : "";
    folder.set("path", dir);
    folder.set("exists", exists);
    folder.set("status", !exists ? "no such folder" : distrust.empty() ? "ok" : distrust);
    folders.add(folder);
  }
  Poco::JSON::Array plugins;
  for (const auto& entry : entries) {
    const PluginFile& file = *entry.file;
    const bool readable = file.readable();
    Poco::JSON::Object plugin;
    plugin.set("file", file.path);
    plugin.set("folder", entry.folder);
    plugin.set("name", jsonText(file.name()));
    plugin.set("kind", readable ? Poco::Dynamic::Var(kindName(file.descriptor->kind))
                                : Poco::Dynamic::Var());
    plugin.set("version", readable ? Poco::Dynamic::Var(textOr(file.descriptor->version, ""))
                                   : Poco::Dynamic::Var());
    plugin.set("abi", jsonText(abiOf(file)));
    Poco::JSON::Array required;
    for (const auto& name : file.required()) required.add(name);
    plugin.set("requires", required);
    plugin.set("build_signature",
               readable && file.descriptor->build_signature != nullptr
                   ? Poco::Dynamic::Var(std::string(file.descriptor->build_signature))
                   : Poco::Dynamic::Var());
    plugin.set("status", entry.status);
    plugin.set("ok", entry.status == "ok");
    plugins.add(plugin);
  }
  Poco::JSON::Object root;
  root.set("host", host);
  root.set("folders", folders);
  root.set("plugins", plugins);
  root.stringify(out, 2);
  out << "\n";
}

void writeText(const std::vector<std::string>& dirs, const std::vector<std::string>& missing,
               const std::vector<PluginCatalog::Entry>& entries, const std::string& host_version,
               std::ostream& out) {
  out << "busbar " << host_version << ", plugin ABI " << hostAbi() << ", build "
      << BUSBAR_BUILD_SIGNATURE << "\n";
  for (size_t i = 0; i < dirs.size(); ++i) {
    const std::string& dir = dirs[i];
    out << "\nplugin folder " << i + 1 << " of " << dirs.size() << ": " << dir;
    if (std::find(missing.begin(), missing.end(), dir) != missing.end()) {
      out << " (no such folder)\n";
      continue;
    }
    std::string distrust = untrustedReason(dir);
    out << (distrust.empty() ? "" : "\n  refused: " + distrust) << "\n";
    size_t shown = 0;
    for (const auto& entry : entries) {
      const PluginFile& file = *entry.file;
      if (entry.folder != dir) continue;
      ++shown;
      const std::string file_name = Poco::Path(file.path).getFileName();
      if (file.readable()) {
        const auto* descriptor = file.descriptor;
        std::vector<std::string> required = file.required();
        out << "  " << file.name() << " (" << file_name << ")\n"
            << "    kind " << kindName(descriptor->kind) << ", version "
            << textOr(descriptor->version, "(none)") << ", ABI " << abiOf(file) << ", requires "
            << (required.empty() ? "nothing" : joined(required)) << "\n"
            << "    build " << textOr(descriptor->build_signature, "(none)") << "\n";
      } else {
        std::string abi = abiOf(file);
        out << "  ? (" << file_name << ")" << (abi.empty() ? "" : ", ABI " + abi) << "\n";
      }
      out << "    status " << entry.status << "\n";
    }
    if (shown == 0) out << "  (no .so files)\n";
  }
}

}  // namespace

int runPlugins(const std::vector<std::string>& dirs, bool json, const std::string& host_version,
               std::ostream& out) {
  PluginCatalog catalog(dirs);
  std::vector<std::string> missing;
  std::vector<PluginCatalog::Entry> entries = catalog.list(missing);
  if (json) {
    writeJson(dirs, missing, entries, host_version, out);
  } else {
    writeText(dirs, missing, entries, host_version, out);
  }
  return missing.size() == dirs.size() ? 2 : 0;
}

}  // namespace busbar::host
