// Lookup by descriptor name across folders, the trust check of plugin files and folders, and the
// `busbar plugins` listing, on the fixture plugins (tests/fixtures) copied into private folders.
#include "plugins/plugin_catalog.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include "cli/plugins_command.h"
#include "plugins/fixture_plugin_files.h"
#include "plugins/plugin_loader.h"

namespace busbar::host {
namespace {

using fixtures::PrivateDir;

std::string refusal(PluginCatalog& catalog, const std::string& name) {
  try {
    catalog.find(name);
  } catch (const PluginRejected& error) {
    return error.what();
  }
  return "";
}

void expectAll(const std::string& text, std::initializer_list<std::string> parts) {
  for (const auto& part : parts) {
    EXPECT_NE(text.find(part), std::string::npos) << "missing '" << part << "' in: " << text;
  }
}

// The status `list` gives the file at `path`.
std::string statusOf(PluginCatalog& catalog, const std::string& path) {
  std::vector<std::string> missing;
  for (const auto& entry : catalog.list(missing)) {
    if (entry.file->path == path) return entry.status;
  }
  return "(not listed)";
}

TEST(PluginCatalogTest, FindsAPluginByTheNameItsDescriptorDeclares) {
  PrivateDir dir;
  std::string path = dir.add("good_module", "audit-1.2.so");
  PluginCatalog catalog({dir.path()});
  EXPECT_EQ(catalog.find("good_module").path, path);
}

TEST(PluginCatalogTest, TheFolderListedFirstWins) {
  PrivateDir first;
  PrivateDir second;
  std::string winner = first.add("good_module", "good_module.so");
  std::string shadowed = second.add("good_module", "good_module.so");
  PluginCatalog catalog({first.path(), second.path()});
  EXPECT_EQ(catalog.find("good_module").path, winner);
  EXPECT_EQ(statusOf(catalog, winner), "ok");
  expectAll(statusOf(catalog, shadowed), {"shadowed by " + winner});
}

TEST(PluginCatalogTest, AFileInALaterFolderIsFoundWhenEarlierOnesLackTheName) {
  PrivateDir first;
  PrivateDir second;
  first.add("storage_kind", "storage_kind.so");
  std::string path = second.add("good_module", "renamed.so");
  PluginCatalog catalog({"/nonexistent/busbar", first.path(), second.path()});
  EXPECT_EQ(catalog.find("good_module").path, path);
}

TEST(PluginCatalogTest, TheFileNamedAfterThePluginWinsInItsFolder) {
  PrivateDir dir;
  std::string named = dir.add("good_module", "good_module.so");
  std::string other = dir.add("good_module", "other.so");
  PluginCatalog catalog({dir.path()});
  EXPECT_EQ(catalog.find("good_module").path, named);
  expectAll(statusOf(catalog, other), {"shadowed by " + named});
}

TEST(PluginCatalogTest, TwoFilesOfAFolderDeclaringANameAreAmbiguous) {
  PrivateDir dir;
  std::string a = dir.add("good_module", "a.so");
  std::string b = dir.add("good_module", "b.so");
  PluginCatalog catalog({dir.path()});
  expectAll(refusal(catalog, "good_module"),
            {"declared by several files", a, b, "keep one of them"});
  expectAll(statusOf(catalog, a), {"ambiguous"});
}

TEST(PluginCatalogTest, AFileNamedAfterThePluginThatIsBrokenIsTheOneRefused) {
  PrivateDir dir;
  dir.add("bad_signature", "bad_signature.so");
  PluginCatalog catalog({dir.path()});
  expectAll(refusal(catalog, "bad_signature"),
            {"bad_signature.so", "build signature mismatch", "fix:"});
}

TEST(PluginCatalogTest, NotFoundSaysWhatEachFolderHolds) {
  PrivateDir dir;
  dir.add("good_module", "good_module.so");
  PluginCatalog catalog({dir.path(), "/nonexistent/busbar"});
  expectAll(
      refusal(catalog, "audit"),
      {"plugin 'audit'", "was not found", dir.path() + "/audit.so", "/nonexistent/busbar/audit.so",
       "good_module.so is 'good_module'", "/nonexistent/busbar: no such folder", "--plugin-dir"});
  EXPECT_EQ(refusal(catalog, "audit").find("Did you mean"), std::string::npos);
  // A name two edits from one that is there gets it suggested.
  expectAll(refusal(catalog, "good_modle"), {"was not found. Did you mean good_module?"});
}

TEST(PluginCatalogTest, RefusesAFileWritableByOtherUsersWithoutOpeningIt) {
  PrivateDir dir;
  std::string path = dir.add("good_module", "good_module.so");
  ::chmod(path.c_str(), 0757);
  PluginCatalog catalog({dir.path()});
  expectAll(refusal(catalog, "good_module"),
            {path, "refused without opening it", "writable by other users", "chmod o-w"});
  EXPECT_EQ(catalog.inspect(path).descriptor, nullptr);
}

TEST(PluginCatalogTest, RefusesAFolderWritableByOtherUsers) {
  PrivateDir dir;
  dir.add("good_module", "good_module.so");
  ::chmod(dir.path().c_str(), 0777);
  PluginCatalog catalog({dir.path()});
  expectAll(refusal(catalog, "good_module"),
            {"plugin folder " + dir.path(), "writable by other users", "chmod o-w"});
}

TEST(PluginCatalogTest, RefusesAFolderBelowAFolderAnyoneMayWrite) {
  PrivateDir dir;
  std::string inner = dir.path() + "/plugins";
  Poco::File(inner).createDirectory();
  ::chmod(inner.c_str(), 0755);
  Poco::File(fixtures::fixturePlugin("good_module")).copyTo(inner + "/good_module.so");
  ::chmod(dir.path().c_str(), 0777);
  PluginCatalog catalog({inner});
  expectAll(refusal(catalog, "good_module"),
            {"the folder " + dir.path() + " above", "chmod o-w " + dir.path()});
}

TEST(PluginCatalogTest, RefusesAFileWritableByASharedGroup) {
  ASSERT_EQ(::geteuid(), 0u) << "runs as root (as scripts/test does): it hands a file to a group";
  PrivateDir dir;
  std::string path = dir.add("good_module", "good_module.so");
  ASSERT_EQ(::chown(path.c_str(), 0, 4242), 0);
  ::chmod(path.c_str(), 0775);
  EXPECT_NE(untrustedReason(path).find("is writable by the group"), std::string::npos)
      << untrustedReason(path);
  ASSERT_EQ(::chown(path.c_str(), 0, 0), 0);
  EXPECT_EQ(untrustedReason(path), "") << "root's own private group may write";
}

TEST(PluginCatalogTest, RefusesAFileOwnedByAnotherUser) {
  ASSERT_EQ(::geteuid(), 0u) << "runs as root (as scripts/test does): it hands a file to a user";
  PrivateDir dir;
  std::string path = dir.add("good_module", "good_module.so");
  ASSERT_EQ(::chown(path.c_str(), 4242, 0), 0);
  PluginCatalog catalog({dir.path()});
  expectAll(refusal(catalog, "good_module"), {"is owned by uid 4242", "chown"});
}

TEST(PluginCatalogTest, ASymbolicLinkIsJudgedByItsTarget) {
  PrivateDir dir;
  PrivateDir other;
  std::string target = other.add("good_module", "good_module.so");
  std::string link = dir.path() + "/good_module.so";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  PluginCatalog catalog({dir.path()});
  EXPECT_EQ(catalog.find("good_module").path, link);
  ::chmod(target.c_str(), 0777);
  EXPECT_NE(untrustedReason(link).find(target), std::string::npos) << untrustedReason(link);
}

TEST(PluginLoaderLookupTest, LoadsByDescriptorNameAndRefusesUntrustedFiles) {
  PrivateDir dir;
  dir.add("good_module", "some-file.so");
  PluginLoader loader({dir.path()});
  EXPECT_EQ(loader.load("good_module").path, dir.path() + "/some-file.so");
  PrivateDir open;
  std::string path = open.add("storage_kind", "storage_kind.so");
  ::chmod(path.c_str(), 0666);
  PluginLoader other({open.path()});
  try {
    other.load("storage_kind");
    FAIL();
  } catch (const PluginRejected& error) {
    expectAll(error.what(), {path, "writable by other users"});
  }
}

// This SDK's ABI, as the listing shows it, such as "1.3".
#define kAbi BUSBAR_STRINGIFY(BUSBAR_ABI_MAJOR) "." BUSBAR_STRINGIFY(BUSBAR_ABI_MINOR)

TEST(PluginsCommandTest, ListsEveryFileWithItsStatus) {
  std::ostringstream out;
  EXPECT_EQ(runPlugins({BUSBAR_FIXTURE_DIR, "/nonexistent/busbar"}, false, "9.9.9", out), 0);
  expectAll(
      out.str(),
      {"busbar 9.9.9, plugin ABI " kAbi ", build " BUSBAR_BUILD_SIGNATURE,
       "plugin folder 1 of 2: " BUSBAR_FIXTURE_DIR,
       "good_module (good_module.so)\n    kind module, version 0.0.1, ABI " kAbi ", requires "
       "nothing\n    build " BUSBAR_BUILD_SIGNATURE "\n    status ok",
       "requires_missing (requires_missing.so)\n    kind module, version 0.0.1, ABI " kAbi ", "
       "requires missing_plugin",
       "status build signature mismatch", "? (no_entry.so)",
       "status missing entry point busbar_plugin_v1",
       "? (wrong_major.so), ABI 2." BUSBAR_STRINGIFY(BUSBAR_ABI_MINOR),
       "plugin folder 2 of 2: /nonexistent/busbar (no such folder)"});
}

TEST(PluginsCommandTest, ListsAsJson) {
  std::ostringstream out;
  EXPECT_EQ(runPlugins({BUSBAR_FIXTURE_DIR}, true, "9.9.9", out), 0);
  Poco::JSON::Parser parser;
  auto root = parser.parse(out.str()).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(root->getObject("host")->getValue<std::string>("build_signature"),
            BUSBAR_BUILD_SIGNATURE);
  EXPECT_EQ(root->getArray("folders")->getObject(0)->getValue<std::string>("status"), "ok");
  std::map<std::string, Poco::JSON::Object::Ptr> by_file;
  auto plugins = root->getArray("plugins");
  for (size_t i = 0; i < plugins->size(); ++i) {
    auto plugin = plugins->getObject(static_cast<unsigned>(i));
    by_file[plugin->getValue<std::string>("file")] = plugin;
  }
  auto good = by_file.at(fixtures::fixturePlugin("good_module"));
  EXPECT_EQ(good->getValue<std::string>("name"), "good_module");
  EXPECT_EQ(good->getValue<std::string>("kind"), "module");
  EXPECT_EQ(good->getValue<std::string>("version"), "0.0.1");
  EXPECT_EQ(good->getValue<std::string>("abi"), kAbi);
  EXPECT_EQ(good->getValue<std::string>("status"), "ok");
  EXPECT_TRUE(good->getValue<bool>("ok"));
  auto cycle = by_file.at(fixtures::fixturePlugin("cycle_a"));
  EXPECT_EQ(cycle->getArray("requires")->getElement<std::string>(0), "cycle_b");
  auto unresolved = by_file.at(fixtures::fixturePlugin("unresolved"));
  EXPECT_TRUE(unresolved->isNull("name"));
  EXPECT_FALSE(unresolved->getValue<bool>("ok"));
  EXPECT_NE(unresolved->getValue<std::string>("status").find("cannot load"), std::string::npos);
}

TEST(PluginsCommandTest, NoFolderAtAllIsAnError) {
  std::ostringstream out;
  EXPECT_EQ(runPlugins({"/nonexistent/busbar"}, false, "9.9.9", out), 2);
}

}  // namespace
}  // namespace busbar::host
