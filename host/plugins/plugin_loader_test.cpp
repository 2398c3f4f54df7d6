// Every refusal of the loader, on fixture plugins built wrong on purpose (tests/fixtures).
#include "plugins/plugin_loader.h"

#include <stdlib.h>

#include <fstream>
#include <iterator>

#include <Poco/File.h>
#include <gtest/gtest.h>

#include "plugins/fixture_plugin_files.h"

namespace busbar::host {
namespace {

using fixtures::fixturePlugin;
using fixtures::PrivateDir;

// The message of loading fixture `file` as plugin `name`, or "" when accepted.
std::string refusal(const std::string& file, const std::string& name) {
  PluginLoader loader({BUSBAR_FIXTURE_DIR});
  try {
    loader.loadFile(fixturePlugin(file), name);
  } catch (const PluginRejected& error) {
    return error.what();
  }
  return "";
}

void expectAll(const std::string& text, std::initializer_list<const char*> parts) {
  for (const char* part : parts) {
    EXPECT_NE(text.find(part), std::string::npos) << "missing '" << part << "' in: " << text;
  }
}

TEST(PluginLoaderTest, AcceptsAWellBuiltPlugin) {
  PluginLoader loader({BUSBAR_FIXTURE_DIR});
  LoadedPlugin plugin = loader.load("good_module");
  EXPECT_EQ(plugin.name, "good_module");
  EXPECT_EQ(plugin.descriptor->kind, static_cast<uint32_t>(BUSBAR_KIND_MODULE));
  EXPECT_TRUE(plugin.required.empty());
}

TEST(PluginLoaderTest, MissingFileNamesWhereItLooked) {
  PluginLoader loader({"/nonexistent/one", "/nonexistent/two"});
  try {
    loader.load("ghost");
    FAIL();
  } catch (const PluginRejected& error) {
    expectAll(error.what(), {"'ghost'", "/nonexistent/one/ghost.so", "/nonexistent/two/ghost.so",
                             "--plugin-dir"});
  }
}

TEST(PluginLoaderTest, RefusesAFileThatIsNotASharedObject) {
  PrivateDir dir;
  std::string path = dir.file("text.so");
  std::ofstream(path) << "not an ELF file";
  PluginLoader loader({});
  try {
    loader.loadFile(path, "");
    FAIL();
  } catch (const PluginRejected& error) {
    expectAll(error.what(), {path.c_str(), "refused without opening it: not an ELF shared object",
                             "it starts with bytes 6e 6f 74 20", "fix:"});
  }
}

// A copy cut short where the dynamic loader would map its data segment past the end of the file:
// dlopen would kill the process with SIGBUS on the first touch of that page.
TEST(PluginLoaderTest, RefusesACopyCutShortWithoutOpeningIt) {
  PrivateDir dir;
  std::ifstream in(fixturePlugin("good_module"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t length :
       {size_t{64}, size_t{1000}, size_t{4096}, bytes.size() / 2, bytes.size() - 1}) {
    std::string path = dir.file("cut" + std::to_string(length) + ".so");
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(length));
    PluginLoader loader({});
    try {
      loader.loadFile(path, "");
      ADD_FAILURE() << "took " << path;
    } catch (const PluginRejected& error) {
      expectAll(error.what(), {path.c_str(), "refused without opening it: cut short",
                               "ends past the end of the file", "then mv"});
    }
  }
}

TEST(PluginLoaderTest, RefusesUnresolvedSymbolsWithTheLinkerText) {
  expectAll(refusal("unresolved", "unresolved"),
            {"unresolved.so", "cannot load", "busbar_fixture_symbol_that_does_not_exist"});
}

TEST(PluginLoaderTest, RefusesAMissingEntryPoint) {
  expectAll(refusal("no_entry", "no_entry"),
            {"no_entry.so", "missing entry point busbar_plugin_v1", "BUSBAR_PLUGIN"});
}

TEST(PluginLoaderTest, SaysWhichMajorAnOtherEntryPointIsFor) {
  expectAll(refusal("abi_v2", "abi_v2"),
            {"missing entry point busbar_plugin_v1", "busbar_plugin_v2", "ABI major 2"});
}

TEST(PluginLoaderTest, RefusesANullDescriptor) {
  expectAll(refusal("null_descriptor", "null_descriptor"), {"returned no descriptor"});
}

TEST(PluginLoaderTest, RefusesBadMagic) {
  expectAll(refusal("bad_magic", "bad_magic"),
            {"bad descriptor magic", "expected 0x42555342", "found 0xdeadbeef", "fix:"});
}

TEST(PluginLoaderTest, RefusesAnotherMajor) {
  expectAll(refusal("wrong_major", "wrong_major"),
            {"ABI major mismatch", "expected 1", "found 2", "rebuild"});
}

TEST(PluginLoaderTest, RefusesANewerMinor) {
  expectAll(refusal("newer_minor", "newer_minor"), {"newer than this host's", "upgrade busbar"});
}

TEST(PluginLoaderTest, LoadsAnOlderMinor) {
  // Built against the previous minor: it never calls what this one appended, so this host takes
  // it.
  PluginLoader loader({BUSBAR_FIXTURE_DIR});
  LoadedPlugin plugin = loader.load("older_minor");
  EXPECT_EQ(plugin.descriptor->abi_minor, BUSBAR_ABI_MINOR - 1);
}

TEST(PluginLoaderTest, RefusesATooSmallDescriptor) {
  expectAll(refusal("small_descriptor", "small_descriptor"),
            {"descriptor too small", "found 16 bytes"});
}

TEST(PluginLoaderTest, RefusesAPluginBuiltFromEditedSdkHeadersOfTheSameVersion) {
  expectAll(refusal("edited_sdk", "edited_sdk"),
            {"build signature mismatch",
             "SDK headers digest: this host " BUSBAR_SDK_DIGEST ", the plugin 0000000000000000",
             "edited", "fix:"});
}

TEST(PluginLoaderTest, RefusesAPluginBuiltWithLibstdcxxDebugContainers) {
  expectAll(refusal("glibcxx_debug", "glibcxx_debug"),
            {"build signature mismatch",
             "the plugin was built with _GLIBCXX_DEBUG, this host without", "fix:"});
}

TEST(PluginLoaderTest, RefusesAnotherBuildSignature) {
  expectAll(refusal("bad_signature", "bad_signature"),
            {"build signature mismatch", BUSBAR_BUILD_SIGNATURE, "gcc-4.8", "same compiler"});
}

TEST(PluginLoaderTest, RefusesANameOtherThanAskedFor) {
  expectAll(refusal("good_module", "users"),
            {"name mismatch", "asked for 'users'", "declares 'good_module'"});
}

TEST(PluginLoaderTest, RefusesADuplicate) {
  PluginLoader loader({BUSBAR_FIXTURE_DIR});
  loader.load("good_module");
  PrivateDir dir;
  std::string copy = dir.file("copy.so");
  Poco::File(fixturePlugin("good_module")).copyTo(copy);
  try {
    loader.loadFile(copy, "");
    FAIL();
  } catch (const PluginRejected& error) {
    expectAll(error.what(), {"duplicate plugin 'good_module'", "already loaded from"});
  }
}

TEST(PluginLoaderTest, ReadsRequiredPlugins) {
  PluginLoader loader({BUSBAR_FIXTURE_DIR});
  LoadedPlugin plugin = loader.load("requires_missing");
  EXPECT_EQ(plugin.required, std::vector<std::string>{"missing_plugin"});
}

}  // namespace
}  // namespace busbar::host
