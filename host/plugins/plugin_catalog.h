// PluginCatalog: the plugin files of an ordered list of folders, each read up to its descriptor.
//
// A file is opened (dlopen) only after it and its folder passed the trust check and its ELF
// structure was found whole (elf_check.h), and the only plugin code the catalog runs is the
// file's static initialisers and its entry point, which returns the descriptor; no plugin object
// is created. Opened libraries are never unloaded, like every plugin library (see PluginLoader).
// A plugin is found by the name its descriptor declares: in each folder, in order, the file
// <name>.so is tried first, then every other .so file of the folder; the first folder that has it
// wins. Not thread-safe; used at start and by `busbar plugins` only.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "busbar/abi.h"

namespace busbar::host {

// Why a plugin file is refused; what() is the full message for the operator.
class PluginRejected : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One plugin file as far as it could be read.
struct PluginFile {
  std::string path;
  // The descriptor the entry point returned; null when the file could not be opened, has no
  // entry point or returned none. Its fields beyond magic, size and ABI are meaningful only
  // when readable() holds.
  const busbar_plugin_descriptor* descriptor = nullptr;
  // Empty when this host accepts the file; else why not (without the path), ending in the fix.
  std::string problem;

  bool ok() const { return problem.empty(); }
  // True when the descriptor has this host's layout, so name, version, kind and requires can be
  // read even if the file is refused for another reason (e.g. its build signature).
  bool readable() const;
  std::string name() const;                   // the declared name, or "" when not readable
  std::vector<std::string> required() const;  // the declared requires, or none
};

// The checks of one descriptor against this host. Returns an empty string when it is acceptable,
// else the reason (without the file name). `expected_name` empty: any name.
std::string checkDescriptor(const busbar_plugin_descriptor* descriptor,
                            const std::string& expected_name);

// "transport", "storage", "module".
std::string kindName(uint32_t kind);

// Empty when `path` (a plugin file or folder) can only be changed by root or by the user this
// process runs as: owned by one of them, not writable by others, and writable by its group only
// when the group is the owner's private group; symbolic links are judged by their target. Else
// the reason, ending in the fix. A missing path is not judged here (returns empty).
std::string untrustedReason(const std::string& path);

class PluginCatalog {
 public:
  explicit PluginCatalog(std::vector<std::string> dirs);

  const std::vector<std::string>& dirs() const { return dirs_; }

  // Opens `path` (once; later calls return the same entry) and reads its descriptor.
  const PluginFile& inspect(const std::string& path);

  // The file that declares `name`, searched as the class comment says. On a refusal of that
  // file, an untrusted folder, two files of one folder declaring the name (when none is
  // <name>.so), or no file declaring it, throws PluginRejected naming what was searched and the
  // fix. The returned file is ok().
  const PluginFile& find(const std::string& name);

  // A file of the listing, with the status the host would give it.
  struct Entry {
    std::string folder;  // as given in dirs()
    const PluginFile* file = nullptr;
    std::string status;  // "ok", or why the host would not load it for its name
  };

  // Every .so file of every folder, in search order (folders in order, files by name). A file
  // whose name an earlier entry already provides is "shadowed by <path>". `missing_dirs` gets
  // the folders that do not exist; an untrusted folder's files carry the folder's reason.
  std::vector<Entry> list(std::vector<std::string>& missing_dirs);

 private:
  // The .so files of `dir`, sorted; empty when it does not exist.
  static std::vector<std::string> pluginFilesOf(const std::string& dir);

  std::vector<std::string> dirs_;
  std::map<std::string, std::unique_ptr<PluginFile>> files_;  // by path
};

}  // namespace busbar::host
