// Test helpers of the plugin tests: the fixture plugins (tests/fixtures, built into
// BUSBAR_FIXTURE_DIR) and private folders to copy them into.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>

#include <string>

#include <Poco/File.h>

namespace busbar::host::fixtures {

// The path of fixture plugin `name`.
inline std::string fixturePlugin(const std::string& name) {
  return std::string(BUSBAR_FIXTURE_DIR) + "/" + name + ".so";
}

// A folder only this user can write (mkdtemp), removed with its contents at the end.
class PrivateDir {
 public:
  PrivateDir() {
    char pattern[] = "/tmp/busbar-plugins-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~PrivateDir() { Poco::File(path_).remove(true); }
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // Copies fixture plugin `name` to <folder>/<file> and returns the copy's path.
  std::string add(const std::string& name, const std::string& file) const {
    std::string copy = this->file(file);
    Poco::File(fixturePlugin(name)).copyTo(copy);
    ::chmod(copy.c_str(), 0755);
    return copy;
  }

 private:
  std::string path_;
};

}  // namespace busbar::host::fixtures
