#include "auth_settings.h"

#include <fstream>

#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>

#include "host_config.h"

namespace busbar::host {
namespace {

class AuthSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override { Poco::File(dir_).createDirectories(); }
  void TearDown() override { Poco::File(dir_).remove(true); }

  AuthSettings load(const std::string& text) {
    const std::string file = Poco::Path(dir_).append("host.conf").toString();
    std::ofstream(file) << "[host]\nplugins = local\n" << text;
    return loadHostSettings(file, {}, "/default/plugins").auth;
  }

  // The ConfigError message of loading `text`, or "" when it loads.
  std::string errorOf(const std::string& text) {
    try {
      load(text);
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "";
  }

  std::string dir_ = Poco::TemporaryFile::tempName();
};

TEST_F(AuthSettingsTest, OffByDefaultWithReadsOpen) {
  const AuthSettings settings = load("");
  EXPECT_FALSE(settings.public_listener);
  EXPECT_FALSE(settings.admin_listener);
  EXPECT_TRUE(settings.open_reads);
  EXPECT_TRUE(settings.tokens.empty());
}

TEST_F(AuthSettingsTest, EachTokenSectionSaysWhereItsSecretIsWithoutReadingIt) {
  // Neither the file nor the variable exists: only the server reads secrets (token_secrets.h).
  const AuthSettings settings = load(
      "[http]\nauth = bearer\nopen_reads = false\n"
      "[token.deploy]\nscopes = write, read\nfile = tokens/deploy\n"
      "[token.ops]\nscopes = admin\nenv = BUSBAR_TEST_UNSET_TOKEN\n");
  EXPECT_TRUE(settings.public_listener);
  EXPECT_TRUE(settings.admin_listener) << "[admin] auth follows [http] auth";
  EXPECT_FALSE(settings.open_reads);
  ASSERT_EQ(settings.tokens.size(), 2u);
  EXPECT_EQ(settings.tokens[0].name, "deploy");
  EXPECT_EQ(settings.tokens[0].scopes, (std::vector<std::string>{"write", "read"}));
  EXPECT_EQ(settings.tokens[0].file, Poco::Path(dir_).append("tokens/deploy").toString())
      << "relative to the config's folder";
  EXPECT_EQ(settings.tokens[0].env, "");
  EXPECT_EQ(settings.tokens[1].name, "ops");
  EXPECT_EQ(settings.tokens[1].file, "");
  EXPECT_EQ(settings.tokens[1].env, "BUSBAR_TEST_UNSET_TOKEN");

  const AuthSettings admin_only = load(
      "[http]\nauth = off\n[admin]\nauth = bearer\n"
      "[token.ops]\nscopes = admin\nenv = BUSBAR_TEST_UNSET_TOKEN\n");
  EXPECT_FALSE(admin_only.public_listener);
  EXPECT_TRUE(admin_only.admin_listener);
}

TEST_F(AuthSettingsTest, ASettingThatCannotProtectAnythingStopsTheHostWithTheFix) {
  const std::string on = "[http]\nauth = bearer\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {on + "[token.a]\nscopes = write\n",
       "[token.a] must say where its secret is with exactly one of file = <path> or env = "
       "<variable>; found neither"},
      {on + "[token.a]\nscopes = write\nfile = a.token\nenv = A_TOKEN\n", "found both"},
      {on + "[token.a]\nfile = a.token\n", "[token.a] scopes must list what the token may do"},
      {on + "[token.a]\nscopes = Write\nfile = a.token\n", "[token.a] scopes must be scope names"},
      {on + "[token.a]\nscopes = write\nfile = a.token\nsecret = x\n",
       "[token.a] secret is not a known key"},
      {on + "[token.a b]\nscopes = write\nfile = a.token\n",
       "[token.a b] names a token with other characters than [A-Za-z0-9_-]"},
      {on + "[token]\nscopes = write\n", "[token] scopes is a key of a section [token]"},
      {on, "[http] auth = bearer needs at least one token"},
      {"[admin]\nauth = bearer\n", "[admin] auth = bearer needs at least one token"},
      {"[token.a]\nscopes = write\nfile = a.token\n",
       "[token.a] grants a token, but [http] auth and [admin] auth are off"},
      {"[http]\nopen_reads = false\n",
       "[http] open_reads = false closes reads only to callers without a token, and auth is off"},
      {"[http]\nauth = basic\n", "[http] auth must be one of"},
      {"[http]\nauthentication = bearer\n", "[http] authentication is not a known key"},
      {"[admin]\nauht = bearer\n", "[admin] auht is not a known key"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string error = errorOf(text);
    EXPECT_NE(error.find(expected), std::string::npos) << text << "\n gave: " << error;
  }
}

}  // namespace
}  // namespace busbar::host
