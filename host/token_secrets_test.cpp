#include "token_secrets.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>

#include "busbar/errors.h"

namespace busbar::host {
namespace {

constexpr const char* kSecret = "d2f1c0ffee0123456789abcdef";

class TokenSecretsTest : public ::testing::Test {
 protected:
  void SetUp() override { Poco::File(dir_).createDirectories(); }
  void TearDown() override {
    Poco::File(dir_).remove(true);
    ::unsetenv("BUSBAR_TEST_TOKEN");
  }

  // Writes `text` to `name` in the test's folder with `mode`; returns its path.
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0600) {
    std::string file = Poco::Path(dir_).append(name).toString();
    std::ofstream(file) << text;
    ::chmod(file.c_str(), mode);
    return file;
  }

  static AuthSettings grant(std::vector<TokenGrant> tokens) {
    AuthSettings settings;
    settings.public_listener = true;
    settings.tokens = std::move(tokens);
    return settings;
  }

  // The ConfigError message of loading the tokens of `settings`, or "" when they load.
  static std::string errorOf(const AuthSettings& settings) {
    try {
      loadBearerTokens(settings, "/etc/busbar/host.conf");
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "";
  }

  std::string dir_ = Poco::TemporaryFile::tempName();
};

TEST_F(TokenSecretsTest, ASecretComesFromAFileOrAnEnvironmentVariable) {
  const std::string file = write("deploy.token", std::string("  ") + kSecret + "\n");
  ::setenv("BUSBAR_TEST_TOKEN", " ops-0123456789abcdef ", 1);
  const auto tokens = loadBearerTokens(
      grant({{"deploy", {"write"}, file, ""}, {"ops", {"admin"}, "", "BUSBAR_TEST_TOKEN"}}),
      "/etc/busbar/host.conf");
  ASSERT_EQ(tokens->size(), 2u);
  // Spaces and the line break around a secret are not part of it.
  const auto deploy = tokens->authenticate(std::string("Bearer ") + kSecret);
  ASSERT_EQ(deploy.outcome, BearerTokens::Outcome::kAuthenticated);
  EXPECT_EQ(deploy.caller->principal, "deploy");
  const auto ops = tokens->authenticate("Bearer ops-0123456789abcdef");
  ASSERT_EQ(ops.outcome, BearerTokens::Outcome::kAuthenticated);
  EXPECT_EQ(ops.caller->principal, "ops");
}

TEST_F(TokenSecretsTest, AFileAnotherUserCouldReadOrChangeIsRefusedWithTheFix) {
  for (mode_t mode : {0644, 0604, 0602, 0620, 0660}) {
    const std::string file = write("deploy.token", kSecret, mode);
    const std::string error = errorOf(grant({{"deploy", {"write"}, file, ""}}));
    EXPECT_NE(error.find("/etc/busbar/host.conf: [token.deploy] file must be readable by no other "
                         "user and writable by its owner alone: chmod 600"),
              std::string::npos)
        << std::oct << mode << ": " << error;
    EXPECT_EQ(error.find(kSecret), std::string::npos) << "never the secret: " << error;
  }
  EXPECT_EQ(errorOf(grant({{"deploy", {"write"}, write("ok.token", kSecret, 0640), ""}})), "");
}

TEST_F(TokenSecretsTest, ASymbolicLinkOrAMissingFileIsRefused) {
  const std::string target = write("real.token", kSecret);
  const std::string link = Poco::Path(dir_).append("link.token").toString();
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_NE(errorOf(grant({{"deploy", {"write"}, link, ""}}))
                .find("[token.deploy] file must name the token's file itself, not a symbolic link"),
            std::string::npos);
  EXPECT_NE(errorOf(grant({{"deploy", {"write"}, dir_ + "/missing.token", ""}}))
                .find("[token.deploy] file must name a file busbar can read holding the token; "
                      "found '" +
                      dir_ + "/missing.token': No such file or directory"),
            std::string::npos);
  EXPECT_NE(errorOf(grant({{"deploy", {"write"}, dir_, ""}})).find("which is not one"),
            std::string::npos);
}

TEST_F(TokenSecretsTest, ABadSecretIsRefusedNamingTheSectionAndNeverTheSecret) {
  ::setenv("BUSBAR_TEST_TOKEN", kSecret, 1);
  const std::string same = write("same.token", kSecret);
  const std::vector<std::pair<AuthSettings, std::string>> cases = {
      {grant({{"a", {"write"}, write("short.token", "abc123"), ""}}),
       "[token.a] the token in file " + dir_ +
           "/short.token has 6 characters, too few to resist "
           "guessing: use at least 16"},
      {grant({{"a", {"write"}, write("spaced.token", "abcdef ghijkl mnopqr"), ""}}),
       "is not a bearer token"},
      {grant({{"a", {"write"}, write("long.token", std::string(5000, 'a')), ""}}),
       "file holds more than 4096 bytes"},
      {grant({{"a", {"write"}, "", "BUSBAR_TEST_UNSET_VARIABLE"}}),
       "[token.a] env must name an environment variable that holds the token; found "
       "'BUSBAR_TEST_UNSET_VARIABLE', which is not set in busbar's environment"},
      {grant({{"a", {"write"}, same, ""}, {"b", {"read"}, "", "BUSBAR_TEST_TOKEN"}}),
       "[token.b] and [token.a] hold the same secret"},
  };
  for (const auto& [settings, expected] : cases) {
    const std::string error = errorOf(settings);
    EXPECT_NE(error.find(expected), std::string::npos) << expected << "\n gave: " << error;
    EXPECT_EQ(error.find(kSecret), std::string::npos) << "never the secret: " << error;
  }
}

}  // namespace
}  // namespace busbar::host
