// Fuzz target: an operator's host.conf, through loadHostSettings. Whatever the file holds, the host
// either reads it or refuses it with ConfigError, which names what is wrong; any other exception,
// or a crash, is a bug. The file is written to a folder of this process's own.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "busbar/errors.h"
#include "host_config.h"

namespace {

const std::string& configFile() {
  static const std::string path = [] {
    const auto folder = std::filesystem::temp_directory_path() /
                        ("busbar-host-config-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    return (folder / "host.conf").string();
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream out(configFile(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    busbar::host::loadHostSettings(configFile(), {}, "/usr/lib/busbar/plugins");
  } catch (const busbar::ConfigError& error) {
    if (std::string(error.what()).empty()) std::abort();
  }
  return 0;
}
