#include "auth_settings.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>

#include "host_config.h"

namespace busbar::host {
namespace {

constexpr const char* kSecret = "d2f1c0ffee0123456789abcdef";

class AuthSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override { Poco::File(dir_).createDirectories(); }
  void TearDown() override {
    Poco::File(dir_).remove(true);
    ::unsetenv("BUSBAR_TEST_TOKEN");
  }

  // Writes `text` to a file named `name` in the test's folder with `mode`; returns its path.
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0644) {
    std::string file = Poco::Path(dir_).append(name).toString();
    std::ofstream(file) << text;
    ::chmod(file.c_str(), mode);
    return file;
  }

  AuthSettings load(const std::string& text) {
    return loadHostSettings(write("host.conf", "[host]\nplugins = local\n" + text), {},
                            "/default/plugins")
        .auth;
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

TEST_F(AuthSettingsTest, TokensComeFromAFileOrAnEnvironmentVariable) {
  write("deploy.token", std::string(kSecret) + "\n", 0600);
  ::setenv("BUSBAR_TEST_TOKEN", "ops-0123456789abcdef", 1);
  const AuthSettings settings = load(
      "[http]\nauth = bearer\nopen_reads = false\n"
      "[token.deploy]\nscopes = write, read\nfile = deploy.token\n"
      "[token.ops]\nscopes = admin\nenv = BUSBAR_TEST_TOKEN\n");
  EXPECT_TRUE(settings.public_listener);
  EXPECT_TRUE(settings.admin_listener) << "[admin] auth follows [http] auth";
  EXPECT_FALSE(settings.open_reads);
  ASSERT_EQ(settings.tokens.size(), 2u);
  EXPECT_EQ(settings.tokens[0].name, "deploy");
  EXPECT_EQ(settings.tokens[0].scopes, (std::vector<std::string>{"write", "read"}));
  EXPECT_EQ(settings.tokens[0].secret, kSecret) << "the file's line, without its line break";
  EXPECT_EQ(settings.tokens[0].source,
            "file " + Poco::Path(dir_).append("deploy.token").toString());
  EXPECT_EQ(settings.tokens[1].name, "ops");
  EXPECT_EQ(settings.tokens[1].secret, "ops-0123456789abcdef");
  EXPECT_EQ(settings.tokens[1].source, "environment variable BUSBAR_TEST_TOKEN");

  const AuthSettings admin_only = load(
      "[http]\nauth = off\n[admin]\nauth = bearer\n"
      "[token.ops]\nscopes = admin\nenv = BUSBAR_TEST_TOKEN\n");
  EXPECT_FALSE(admin_only.public_listener);
  EXPECT_TRUE(admin_only.admin_listener);
}

TEST_F(AuthSettingsTest, ASecretFileOthersCanReadIsRefusedWithTheFix) {
  const std::string path = write("deploy.token", kSecret, 0644);
  const std::string error =
      errorOf("[http]\nauth = bearer\n[token.deploy]\nscopes = write\nfile = deploy.token\n");
  EXPECT_NE(error.find("[token.deploy] file must not be readable by every user of the machine: "
                       "chmod 600 it"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find(path + "' with mode 0644"), std::string::npos) << error;
  EXPECT_EQ(error.find(kSecret), std::string::npos) << "never the secret: " << error;
}

TEST_F(AuthSettingsTest, BadTokensAreRefusedNamingTheSectionAndNeverTheSecret) {
  write("short.token", "abc123", 0600);
  write("spaced.token", "abc def ghi jkl mno pqr", 0600);
  write("deploy.token", kSecret, 0600);
  ::setenv("BUSBAR_TEST_TOKEN", kSecret, 1);
  const std::string on = "[http]\nauth = bearer\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {on + "[token.a]\nscopes = write\nfile = missing.token\n",
       "[token.a] file must name a readable file holding the token"},
      {on + "[token.a]\nscopes = write\nfile = short.token\n",
       "has 6 characters, too few to resist guessing: use at least 16"},
      {on + "[token.a]\nscopes = write\nfile = spaced.token\n", "is not a bearer token"},
      {on + "[token.a]\nscopes = write\nenv = BUSBAR_TEST_UNSET_VARIABLE\n",
       "[token.a] env must name an environment variable that holds the token; found "
       "'BUSBAR_TEST_UNSET_VARIABLE', which is not set"},
      {on + "[token.a]\nscopes = write\n",
       "exactly one of file = <path> or env = <variable>; "
       "found neither"},
      {on + "[token.a]\nscopes = write\nfile = deploy.token\nenv = BUSBAR_TEST_TOKEN\n",
       "found both"},
      {on + "[token.a]\nfile = deploy.token\n", "[token.a] scopes must list what the token may do"},
      {on + "[token.a]\nscopes = Write\nfile = deploy.token\n",
       "[token.a] scopes must be scope names"},
      {on + "[token.a]\nscopes = write\nfile = deploy.token\nsecret = x\n",
       "[token.a] secret is not a known key"},
      {on + "[token.a]\nscopes = write\nfile = deploy.token\n"
            "[token.b]\nscopes = read\nenv = BUSBAR_TEST_TOKEN\n",
       "[token.b] and [token.a] hold the same secret"},
      {on + "[token]\nscopes = write\n", "[token] scopes is a key of a section [token]"},
      {on, "[http] auth = bearer needs at least one token"},
      {"[admin]\nauth = bearer\n", "[admin] auth = bearer needs at least one token"},
      {"[token.a]\nscopes = write\nfile = deploy.token\n",
       "[token.a] grants a token, but [http] auth and [admin] auth are off"},
      {"[http]\nauth = basic\n", "[http] auth must be one of"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string error = errorOf(text);
    EXPECT_NE(error.find(expected), std::string::npos) << text << "\n gave: " << error;
    EXPECT_EQ(error.find(kSecret), std::string::npos) << "never the secret: " << error;
  }
}

TEST_F(AuthSettingsTest, AnUnknownKeyOfHttpOrAdminIsStillRefused) {
  EXPECT_NE(errorOf("[http]\nauthentication = bearer\n")
                .find("[http] authentication is not a "
                      "known key"),
            std::string::npos);
  EXPECT_NE(errorOf("[admin]\nauht = bearer\n").find("[admin] auht is not a known key"),
            std::string::npos);
}

}  // namespace
}  // namespace busbar::host
