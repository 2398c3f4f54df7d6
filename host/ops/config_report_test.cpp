#include "ops/config_report.h"

#include <gtest/gtest.h>

#include <sstream>

#include <Poco/Util/IniFileConfiguration.h>

namespace busbar::host {
namespace {

TEST(ConfigReportTest, KeysThatHoldSecretsAreTold) {
  for (const char* key : {"password", "sqlite.password", "api_key", "key", "client_secret",
                          "auth_token", "passwd", "credentials", "ssl.passphrase"}) {
    EXPECT_TRUE(isSecretKey(key)) << key;
  }
  for (const char* key : {"host", "port", "user", "keep", "keys_seen", "monkey_business",
                          "router._all", "database"}) {
    EXPECT_FALSE(isSecretKey(key)) << key;
  }
}

TEST(ConfigReportTest, PasswordsInUrlsAreMasked) {
  EXPECT_EQ(maskUrlPasswords("amqp://guest:s3cret@10.0.0.5:5672/vhost"),
            "amqp://guest:********@10.0.0.5:5672/vhost");
  EXPECT_EQ(maskUrlPasswords("a postgresql://u:p@h/db and http://x:y@z/"),
            "a postgresql://u:********@h/db and http://x:********@z/");
  EXPECT_EQ(maskUrlPasswords("http://user@host/path"), "http://user@host/path");
  EXPECT_EQ(maskUrlPasswords("http://host/p@th"), "http://host/p@th");
  EXPECT_EQ(maskUrlPasswords("no url here"), "no url here");
}

TEST(ConfigReportTest, TheReportHasEverySectionWithSecretsMasked) {
  std::istringstream ini(
      "[host]\nplugins = local, mysql, users\n"
      "[storage]\ndriver = mysql\npassword = hunter2\nuser = busbar\n"
      "[amqp]\nurl = amqp://guest:guest-pass@localhost/\n");
  Poco::AutoPtr<Poco::Util::AbstractConfiguration> config(
      new Poco::Util::IniFileConfiguration(ini));
  HostSettings settings;
  settings.config_file = "/etc/busbar/host.conf";
  settings.server_id = "app-1";
  settings.admin.bind_port = 9000;
  std::ostringstream text;
  describeConfig(config, settings)->stringify(text);
  const std::string report = text.str();
  EXPECT_EQ(report.find("hunter2"), std::string::npos) << report;
  EXPECT_EQ(report.find("guest-pass"), std::string::npos) << report;
  EXPECT_NE(report.find(R"("password":"********")"), std::string::npos) << report;
  EXPECT_NE(report.find(R"("user":"busbar")"), std::string::npos) << report;
  EXPECT_NE(report.find(R"("admin_bind":"127.0.0.1:9000")"), std::string::npos) << report;
  EXPECT_NE(report.find(R"("file":"/etc/busbar/host.conf")"), std::string::npos) << report;
}

}  // namespace
}  // namespace busbar::host
