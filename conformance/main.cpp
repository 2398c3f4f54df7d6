// busbar-conformance: proves that a storage or transport plugin keeps the contracts the host relies
// on, with the same GoogleTest suites the bundled plugins pass.
//
//   busbar-conformance SUITE --plugin NAME --config FILE [--plugin-dir DIR]... [--gtest_...]
//
// SUITE is storage, event-log or transport. The plugin is found by the name in its descriptor in
// the plugin folders (--plugin-dir, else [host] plugin_dir of FILE, else the bundled plugins'
// folder) and checked as the host checks it; it reads its section of FILE ([storage] for a
// storage plugin). Exit codes: 0 every test passed, 1 a test failed, 2 bad arguments, a bad config
// or a refused plugin (the message says which and the fix).
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <Poco/Path.h>
#include <gtest/gtest.h>

#include "busbar/errors.h"
#include "host_config.h"
#include "plugin_under_test.h"
#include "plugins/plugin_catalog.h"

namespace busbar::conformance {
namespace {

const std::map<std::string, std::string> kSuites = {
    {"storage", "*/StorageContract.*:*/TransactionContract.*"},
    {"event-log", "*/EventLogContract.*"},
    {"transport", "*/TransportContract.*"},
};

constexpr const char* kUsage =
    "usage: busbar-conformance SUITE --plugin NAME --config FILE [--plugin-dir DIR]... "
    "[--gtest_...]\n"
    "  SUITE  storage (the Connection), event-log (the EventLogStorage), transport (the\n"
    "         Transport, between instances on the broker of the plugin's section and\n"
    "         [event_bus] exchanges.*; [conformance] names a proxy's way to it)\n";

// The folder of the bundled plugins, relative to this executable as in the install tree.
std::string bundledPluginDir(const char* argv0) {
  Poco::Path self(Poco::Path(argv0).absolute());
  return Poco::Path(self.parent()).resolve(Poco::Path(BUSBAR_PLUGIN_DIR_FROM_BIN)).toString();
}

// The plugin folders: those given, else [host] plugin_dir of the config, else the bundled ones.
std::vector<std::string> pluginDirs(const std::vector<std::string>& given,
                                    const std::string& config_file, const char* argv0) {
  if (!given.empty()) return given;
  auto config = host::readIniFile(config_file);
  const ConfigSection section(config, config_file, "host");
  if (!section.has("plugin_dir")) return {bundledPluginDir(argv0)};
  std::vector<std::string> dirs;
  for (const auto& dir : section.getList("plugin_dir")) {
    Poco::Path path(dir);
    dirs.push_back(
        path.isAbsolute() ? dir : Poco::Path(Poco::Path(config_file).parent(), path).toString());
  }
  return dirs;
}

// Reads the arguments that are not GoogleTest's. Throws std::invalid_argument naming the problem.
RunSettings readArguments(int argc, char** argv) {
  RunSettings settings;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg.rfind("--gtest_", 0) == 0) continue;
    if (arg == "--plugin") {
      settings.plugin = value();
    } else if (arg == "--config") {
      settings.config_file = Poco::Path(value()).absolute().toString();
    } else if (arg == "--plugin-dir") {
      dirs.push_back(Poco::Path(value()).absolute().toString());
    } else if (settings.suite.empty() && arg.rfind("--", 0) != 0) {
      settings.suite = arg;
    } else {
      throw std::invalid_argument("unknown argument '" + arg + "'");
    }
  }
  if (kSuites.count(settings.suite) == 0) {
    throw std::invalid_argument(settings.suite.empty() ? "no SUITE given"
                                                       : "unknown suite '" + settings.suite + "'");
  }
  if (settings.plugin.empty()) throw std::invalid_argument("--plugin NAME is missing");
  if (settings.config_file.empty()) throw std::invalid_argument("--config FILE is missing");
  settings.plugin_dirs = pluginDirs(dirs, settings.config_file, argv[0]);
  return settings;
}

}  // namespace
}  // namespace busbar::conformance

int main(int argc, char** argv) {
  using namespace busbar::conformance;
  RunSettings settings;
  try {
    settings = readArguments(argc, argv);
    setPluginUnderTest(std::make_unique<PluginUnderTest>(settings));
  } catch (const std::invalid_argument& error) {
    std::cerr << "busbar-conformance: " << error.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "busbar-conformance: " << error.what() << "\n";
    return 2;
  }
  // The suite's tests unless the command line picks others.
  ::testing::GTEST_FLAG(filter) = kSuites.at(settings.suite);
  ::testing::InitGoogleTest(&argc, argv);
  std::cout << "busbar-conformance " << settings.suite << ": plugin '" << settings.plugin << "' ("
            << pluginUnderTest().loaded().path << "), config " << settings.config_file << "\n";
  const int failed = RUN_ALL_TESTS();
  const int ran = ::testing::UnitTest::GetInstance()->test_to_run_count();
  setPluginUnderTest(nullptr);
  if (ran == 0) {
    std::cerr << "busbar-conformance: no test matched (--gtest_filter?): nothing was proven\n";
    return 1;
  }
  return failed == 0 ? 0 : 1;
}
