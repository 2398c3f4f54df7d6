#include "cli/plugins_command.h"

#include <algorithm>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Path.h>
#include <Poco/StreamCopier.h>

#include "plugins/plugin_catalog.h"

namespace busbar::host {
namespace {

// What the server at an address says serves now: its "process" of GET /health, or why there is
// none to read.
struct Serving {
  std::string address;
  Poco::JSON::Object::Ptr process;  // null when `problem` says why
  std::string problem;

  // The version of plugin `name` serving now; empty when none or unknown.
  std::string versionOf(const std::string& name) const {
    if (!process || !process->getObject("plugins")) return {};
    auto plugins = process->getObject("plugins");
    return plugins->has(name) ? plugins->getValue<std::string>(name) : std::string();
  }
};

Serving askServer(const ServingAddress& server) {
  Serving serving;
  serving.address = server.host + ":" + std::to_string(server.port);
  try {
    Poco::Net::HTTPClientSession session(server.host, server.port);
    session.setTimeout(Poco::Timespan(2, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/health",
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    Poco::JSON::Parser parser;
    auto health = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
    serving.process = health->getObject("process");
    if (!serving.process) serving.problem = "its /health tells no process (an older busbar)";
  } catch (const Poco::Exception& error) {
    serving.problem = "no answer (" + error.displayText() + ")";
  } catch (const std::exception& error) {
    serving.problem = std::string("no answer (") + error.what() + ")";
  }
  return serving;
}

// "PID 1234, plugins ...; 3 reloads, the last at ..." or the problem.
std::string describeServing(const Serving& serving) {
  if (!serving.process) return serving.problem;
  std::string text = "PID " + serving.process->get("pid").toString() + ", plugins ";
  std::string plugins;
  if (auto listed = serving.process->getObject("plugins")) {
    for (const auto& [name, version] : *listed) {
      plugins += (plugins.empty() ? "" : ", ") + name + " " + version.toString();
    }
  }
  text += plugins.empty() ? "none" : plugins;
  if (auto reloads = serving.process->getObject("reloads")) {
    text += "; " + reloads->get("ok").toString() + " reloads";
    if (!reloads->isNull("last")) text += ", the last at " + reloads->get("last").toString();
  }
  return text;
}

// ", serving now", ", version X serves now" or nothing, for a plugin file.
std::string servingNote(const Serving* serving, const std::string& name,
                        const std::string& version) {
  if (serving == nullptr || !serving->process) return {};
  const std::string now = serving->versionOf(name);
  if (now.empty()) return {};
  return now == version ? ", serving now" : ", version " + now + " serves now";
}

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
               const Serving* serving, std::ostream& out) {
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
    if (serving != nullptr && serving->process) {
      const std::string now = serving->versionOf(file.name());
      plugin.set("serving_version", jsonText(now));
      plugin.set("serving",
                 readable && !now.empty() && now == textOr(file.descriptor->version, ""));
    }
    plugins.add(plugin);
  }
  Poco::JSON::Object root;
  root.set("host", host);
  if (serving != nullptr) {
    Poco::JSON::Object server;
    server.set("address", serving->address);
    if (serving->process) {
      server.set("process", serving->process);
    } else {
      server.set("error", serving->problem);
    }
    root.set("server", server);
  }
  root.set("folders", folders);
  root.set("plugins", plugins);
  root.stringify(out, 2);
  out << "\n";
}

void writeText(const std::vector<std::string>& dirs, const std::vector<std::string>& missing,
               const std::vector<PluginCatalog::Entry>& entries, const std::string& host_version,
               const Serving* serving, std::ostream& out) {
  out << "busbar " << host_version << ", plugin ABI " << hostAbi() << ", build "
      << BUSBAR_BUILD_SIGNATURE << "\n";
  if (serving != nullptr) {
    out << "server on " << serving->address << ": " << describeServing(*serving) << "\n";
  }
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
      out << "    status " << entry.status
          << (file.readable()
                  ? servingNote(serving, file.name(), textOr(file.descriptor->version, ""))
                  : std::string())
          << "\n";
    }
    if (shown == 0) out << "  (no .so files)\n";
  }
}

}  // namespace

int runPlugins(const std::vector<std::string>& dirs, bool json, const std::string& host_version,
               std::ostream& out, const std::optional<ServingAddress>& server) {
  PluginCatalog catalog(dirs);
  std::vector<std::string> missing;
  std::vector<PluginCatalog::Entry> entries = catalog.list(missing);
  std::optional<Serving> serving;
  if (server) serving = askServer(*server);
  const Serving* asked = serving ? &*serving : nullptr;
  if (json) {
    writeJson(dirs, missing, entries, host_version, asked, out);
  } else {
    writeText(dirs, missing, entries, host_version, asked, out);
  }
  return missing.size() == dirs.size() ? 2 : 0;
}

}  // namespace busbar::host
