#include "plugins/plugin_catalog.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>

#include <Poco/DirectoryIterator.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <boost/dll/shared_library.hpp>

#include "busbar/nearest_name.h"
#include "plugins/build_signature.h"
#include "plugins/elf_check.h"

namespace busbar::host {
namespace {

// Loaded libraries live until exit, on purpose (see the class comment).
std::deque<boost::dll::shared_library>& keptLibraries() {
  static auto* libraries = new std::deque<boost::dll::shared_library>();
  return *libraries;
}

std::string rebuildHint() {
  return "rebuild the plugin against this host's SDK (find_package(Busbar) from the same "
         "install) with the same compiler";
}

bool validName(const char* name) {
  for (const char* c = name; *c != '\0'; ++c) {
    if (!std::isalnum(static_cast<unsigned char>(*c)) && *c != '_' && *c != '-') return false;
  }
  return true;
}

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string userName(uid_t uid) {
  const passwd* entry = getpwuid(uid);
  return entry != nullptr ? std::string(entry->pw_name) : "uid " + std::to_string(uid);
}

// True when `gid` is the private group of user `uid`: named after the user, the user's primary
// group, and without other members.
bool isPrivateGroup(gid_t gid, uid_t uid) {
  const passwd* user = getpwuid(uid);
  if (user == nullptr || user->pw_gid != gid) return false;
  std::string user_name = user->pw_name;
  const group* entry = getgrgid(gid);
  if (entry == nullptr || user_name != entry->gr_name) return false;
  for (char** member = entry->gr_mem; member != nullptr && *member != nullptr; ++member) {
    if (user_name != *member) return false;
  }
  return true;
}

std::string realPath(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) return path;
  return resolved;
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
  const std::string refusal =
      signatureRefusal(BUSBAR_BUILD_SIGNATURE, signature, descriptor->abi_minor);
  if (!refusal.empty()) {
    return "build signature mismatch (" + refusal + "): expected '" + BUSBAR_BUILD_SIGNATURE +
           "', found '" + signature + "'; fix: " + rebuildHint();
  }
  if (descriptor->name == nullptr || *descriptor->name == '\0') {
    return "the descriptor has no name; fix: give BUSBAR_PLUGIN a name";
  }
  if (!validName(descriptor->name)) {
    return std::string("the name '") + descriptor->name +
           "' has characters other than [A-Za-z0-9_-]; fix: rename the plugin in BUSBAR_PLUGIN";
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

std::string untrustedReason(const std::string& given) {
  std::string path = given;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  struct stat status;
  if (::stat(path.c_str(), &status) != 0) return "";
  const std::string real = realPath(path);
  const std::string what = S_ISDIR(status.st_mode) ? "folder" : "file";
  const std::string shown = real == path ? path : path + " (" + real + ")";
  const uid_t self = ::geteuid();
  if (status.st_uid != 0 && status.st_uid != self) {
    return "the " + what + " " + shown + " is owned by " + userName(status.st_uid) +
           ", who could change the code that busbar, running as " + userName(self) +
           ", executes; fix: chown " + userName(self) + " " + real + " (or root)";
  }
  if ((status.st_mode & S_IWOTH) != 0) {
    return "the " + what + " " + shown + " is writable by other users (mode " +
           octal(status.st_mode) + "), who could change the code busbar runs; fix: chmod o-w " +
           real;
  }
  if ((status.st_mode & S_IWGRP) != 0 && !isPrivateGroup(status.st_gid, status.st_uid)) {
    const group* entry = getgrgid(status.st_gid);
    std::string group_name =
        entry != nullptr ? std::string(entry->gr_name) : "gid " + std::to_string(status.st_gid);
    return "the " + what + " " + shown + " is writable by the group " + group_name + " (mode " +
           octal(status.st_mode) +
           "), whose members could change the code busbar runs; fix: chmod g-w " + real;
  }
  // A folder above that anyone may write without the sticky bit lets them swap this one.
  for (Poco::Path above = Poco::Path(real).parent(); above.depth() > 0; above = above.parent()) {
    std::string folder = above.toString();
    if (folder.size() > 1 && folder.back() == '/') folder.pop_back();
    struct stat parent;
    if (::stat(folder.c_str(), &parent) != 0) continue;
    if ((parent.st_mode & S_IWOTH) != 0 && (parent.st_mode & S_ISVTX) == 0) {
      return "the folder " + folder + " above " + real + " is writable by other users (mode " +
             octal(parent.st_mode) + "), who could replace what it holds; fix: chmod o-w " + folder;
    }
  }
  return "";
}

bool PluginFile::readable() const {
  return descriptor != nullptr && descriptor->magic == BUSBAR_DESCRIPTOR_MAGIC &&
         descriptor->abi_major == BUSBAR_ABI_MAJOR &&
         descriptor->size >= sizeof(busbar_plugin_descriptor) && descriptor->name != nullptr;
}

std::string PluginFile::name() const { return readable() ? descriptor->name : ""; }

std::vector<std::string> PluginFile::required() const {
  std::vector<std::string> names;
  if (!readable()) return names;
  for (const char* const* required = descriptor->required_plugins;
       required != nullptr && *required != nullptr; ++required) {
    names.emplace_back(*required);
  }
  return names;
}

PluginCatalog::PluginCatalog(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}

const PluginFile& PluginCatalog::inspect(const std::string& path) {
  auto found = files_.find(path);
  if (found != files_.end()) return *found->second;
  auto file = std::make_unique<PluginFile>();
  file->path = path;
  PluginFile& entry = *file;
  files_.emplace(path, std::move(file));

  std::string distrust = untrustedReason(Poco::Path(path).makeAbsolute().parent().toString());
  if (distrust.empty()) distrust = untrustedReason(path);
  if (!distrust.empty()) {
    entry.problem = "refused without opening it: " + distrust;
    return entry;
  }
  if (std::string damage = elfFileProblem(path); !damage.empty()) {
    entry.problem = "refused without opening it: " + damage;
    return entry;
  }
  boost::dll::shared_library library;
  try {
    library.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& error) {
    entry.problem = std::string("cannot load the shared object: ") + error.what() +
                    "; fix: check that it is a busbar plugin built for this system and that the "
                    "libraries it needs are installed (ldd)";
    return entry;
  }
  if (!library.has(BUSBAR_ENTRY_POINT_NAME)) {
    std::string other;
    for (int major = 0; major <= 9; ++major) {
      if (major != BUSBAR_ABI_MAJOR && library.has("busbar_plugin_v" + std::to_string(major))) {
        other = " (it exports busbar_plugin_v" + std::to_string(major) + ": built for ABI major " +
                std::to_string(major) + ")";
      }
    }
    entry.problem = "missing entry point " BUSBAR_ENTRY_POINT_NAME + other +
                    "; fix: declare the plugin with BUSBAR_PLUGIN(...) from <busbar/plugin.h> "
                    "of this host's SDK (ABI " +
                    std::to_string(BUSBAR_ABI_MAJOR) + "." + std::to_string(BUSBAR_ABI_MINOR) + ")";
    keptLibraries().push_back(std::move(library));
    return entry;
  }
  auto entry_point = library.get<const busbar_plugin_descriptor*()>(BUSBAR_ENTRY_POINT_NAME);
  keptLibraries().push_back(std::move(library));
  entry.descriptor = entry_point();
  entry.problem = checkDescriptor(entry.descriptor, "");
  return entry;
}

std::vector<std::string> PluginCatalog::pluginFilesOf(const std::string& dir) {
  std::vector<std::string> paths;
  Poco::File folder(dir);
  if (!folder.exists() || !folder.isDirectory()) return paths;
  for (Poco::DirectoryIterator it(dir), end; it != end; ++it) {
    const std::string& name = it.name();
    if (name.size() <= 3 || name.compare(name.size() - 3, 3, ".so") != 0) continue;
    if (!Poco::File(it.path()).isFile()) continue;
    paths.push_back(Poco::Path(dir).append(name).toString());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

namespace {

// Which file of one folder provides `name`: <name>.so when it declares the name or cannot be
// read at all (then it is surely the one meant), else the only file that declares it.
struct FolderMatch {
  const PluginFile* chosen = nullptr;
  std::vector<const PluginFile*> ambiguous;  // two or more declare it, none is <name>.so
};

bool isNamedFile(const PluginFile& file, const std::string& name) {
  return Poco::Path(file.path).getFileName() == name + ".so";
}

FolderMatch matchInFolder(const std::string& name, const std::vector<const PluginFile*>& files) {
  FolderMatch match;
  std::vector<const PluginFile*> declaring;
  for (const PluginFile* file : files) {
    if (isNamedFile(*file, name) && (!file->readable() || file->name() == name)) {
      match.chosen = file;
      return match;
    }
    if (file->name() == name) declaring.push_back(file);
  }
  if (declaring.size() == 1) match.chosen = declaring.front();
  if (declaring.size() > 1) match.ambiguous = declaring;
  return match;
}

std::string pathsOf(const std::vector<const PluginFile*>& files) {
  std::string text;
  for (const PluginFile* file : files) text += (text.empty() ? "" : ", ") + file->path;
  return text;
}

}  // namespace

const PluginFile& PluginCatalog::find(const std::string& name) {
  auto accept = [](const PluginFile& file) -> const PluginFile& {
    if (!file.ok()) throw PluginRejected(file.path + ": " + file.problem);
    return file;
  };
  std::string expected;
  std::string notes;
  std::vector<std::string> present;  // the names of the plugins found, for "did you mean"
  for (const auto& dir : dirs_) {
    std::string candidate = Poco::Path(dir).append(name + ".so").toString();
    expected += (expected.empty() ? "" : ", ") + candidate;
    if (!Poco::File(dir).exists()) {
      notes += (notes.empty() ? "" : "; ") + dir + ": no such folder";
      continue;
    }
    std::string distrust = untrustedReason(dir);
    if (!distrust.empty()) {
      throw PluginRejected("plugin folder " + dir + " refused while looking for '" + name +
                           "': " + distrust);
    }
    // The usual case opens one file only.
    if (Poco::File(candidate).exists()) {
      const PluginFile& file = inspect(candidate);
      if (!file.readable() || file.name() == name) return accept(file);
    }
    std::vector<const PluginFile*> files;
    std::string declared;
    for (const auto& path : pluginFilesOf(dir)) {
      const PluginFile& file = inspect(path);
      files.push_back(&file);
      if (file.readable()) {
        declared += (declared.empty() ? "" : ", ") + Poco::Path(path).getFileName() + " is '" +
                    file.name() + "'";
        present.push_back(file.name());
      }
    }
    FolderMatch match = matchInFolder(name, files);
    if (!match.ambiguous.empty()) {
      throw PluginRejected("plugin '" + name + "' is declared by several files of " + dir + ": " +
                           pathsOf(match.ambiguous) + "; fix: keep one of them, or name it " +
                           name + ".so");
    }
    if (match.chosen != nullptr) return accept(*match.chosen);
    notes += (notes.empty() ? "" : "; ") + dir + ": " + std::to_string(files.size()) +
             " plugin file" + (files.size() == 1 ? "" : "s") + ", none declares it" +
             (declared.empty() ? "" : " (" + declared + ")");
  }
  throw PluginRejected("plugin '" + name + "' named in [host] plugins was not found." +
                       didYouMean(name, present) + " Expected " + expected +
                       ", or a .so file declaring '" + name + "' in " +
                       (dirs_.size() == 1 ? "that folder" : "one of those folders") + " (" + notes +
                       "); fix: build or install it there, pass --plugin-dir, or remove "
                       "it from [host] plugins");
}

std::vector<PluginCatalog::Entry> PluginCatalog::list(std::vector<std::string>& missing_dirs) {
  std::vector<Entry> entries;
  std::map<std::string, std::string> provided;  // name -> path of the file the host would load
  for (const auto& dir : dirs_) {
    if (!Poco::File(dir).exists()) {
      missing_dirs.push_back(dir);
      continue;
    }
    std::vector<const PluginFile*> files;
    for (const auto& path : pluginFilesOf(dir)) files.push_back(&inspect(path));
    std::map<std::string, FolderMatch> matches;
    for (const PluginFile* file : files) {
      if (file->readable() && matches.count(file->name()) == 0) {
        matches[file->name()] = matchInFolder(file->name(), files);
      }
    }
    for (const PluginFile* file : files) {
      Entry entry;
      entry.folder = dir;
      entry.file = file;
      if (!file->readable()) {
        entry.status = file->problem;
      } else if (provided.count(file->name()) != 0) {
        entry.status = "shadowed by " + provided[file->name()] + ", found first";
      } else {
        const FolderMatch& match = matches[file->name()];
        if (match.chosen == file) {
          entry.status = file->ok() ? "ok" : file->problem;
        } else if (!match.ambiguous.empty()) {
          entry.status = "ambiguous: " + pathsOf(match.ambiguous) + " all declare '" +
                         file->name() + "'; fix: keep one of them, or name it " + file->name() +
                         ".so";
        } else {
          entry.status = "shadowed by " + match.chosen->path + ", found first";
        }
      }
      entries.push_back(entry);
    }
    for (const auto& [name, match] : matches) {
      if (match.chosen != nullptr && provided.count(name) == 0) {
        provided[name] = match.chosen->path;
      }
    }
  }
  return entries;
}

}  // namespace busbar::host
