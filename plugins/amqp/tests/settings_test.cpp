// readAmqpSettings: defaults, every key, and the errors an operator sees.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <sstream>

#include <Poco/Util/IniFileConfiguration.h>

#include "amqp_settings.h"

namespace busbar::amqp {
namespace {

ConfigSection sectionOf(const std::string& ini) {
  std::istringstream in(ini);
  Poco::AutoPtr<Poco::Util::AbstractConfiguration> config(new Poco::Util::IniFileConfiguration(in));
  return ConfigSection(config, "/etc/busbar/host.conf", "amqp");
}

std::string errorOf(const std::string& ini) {
  try {
    readAmqpSettings(sectionOf(ini));
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "accepted";
}

TEST(AmqpSettingsTest, DefaultsMatchTheDocumentedConfig) {
  ::unsetenv("BUSBAR_AMQP_PASSWORD");
  AmqpSettings settings = readAmqpSettings(sectionOf("[amqp]\n"));
  EXPECT_EQ(settings.connection.host, "127.0.0.1");
  EXPECT_EQ(settings.connection.port, 5672);
  EXPECT_EQ(settings.connection.vhost, "/");
  EXPECT_EQ(settings.connection.user, "guest");
  EXPECT_EQ(settings.connection.password, "guest");
  EXPECT_EQ(settings.connection.heartbeat_seconds, 10);
  EXPECT_TRUE(settings.auto_setup);
  EXPECT_EQ(settings.retries, 3);
  EXPECT_EQ(settings.queue_capacity, 10000u);
}

TEST(AmqpSettingsTest, ReadsEveryKey) {
  ::unsetenv("BUSBAR_AMQP_PASSWORD");
  AmqpSettings settings = readAmqpSettings(
      sectionOf("[amqp]\nhost = mq.internal\nport = 5673\nvhost = prod\nuser = app\n"
                "password = secret\nheartbeat = 30\nauto_setup = false\nretries = 0\n"
                "queue_capacity = 5\n"));
  EXPECT_EQ(settings.connection.host, "mq.internal");
  EXPECT_EQ(settings.connection.port, 5673);
  EXPECT_EQ(settings.connection.vhost, "prod");
  EXPECT_EQ(settings.connection.user, "app");
  EXPECT_EQ(settings.connection.password, "secret");
  EXPECT_EQ(settings.connection.heartbeat_seconds, 30);
  EXPECT_FALSE(settings.auto_setup);
  EXPECT_EQ(settings.retries, 0);
  EXPECT_EQ(settings.queue_capacity, 5u);
  EXPECT_EQ(describe(settings.connection), "amqp://app@mq.internal:5673/prod");
}

TEST(AmqpSettingsTest, ThePasswordFromTheEnvironmentWins) {
  ::setenv("BUSBAR_AMQP_PASSWORD", "from-env", 1);
  EXPECT_EQ(readAmqpSettings(sectionOf("[amqp]\npassword = in-file\n")).connection.password,
            "from-env");
  EXPECT_EQ(readAmqpSettings(sectionOf("[amqp]\n")).connection.password, "from-env");
  ::unsetenv("BUSBAR_AMQP_PASSWORD");
}

TEST(AmqpSettingsTest, RejectsWhatAnOperatorGetsWrong) {
  ::unsetenv("BUSBAR_AMQP_PASSWORD");
  EXPECT_EQ(errorOf("[amqp]\npassword = p\nhots = x\n")
                .rfind("/etc/busbar/host.conf: [amqp] hots is not a known key. Did you mean host? "
                       "The keys of "
                       "[amqp] are: ",
                       0),
            0u);
  EXPECT_EQ(errorOf("[amqp]\npassword = p\nport = 70000\n"),
            "/etc/busbar/host.conf: [amqp] port must be an integer from 1 to 65535; found '70000'");
  EXPECT_EQ(errorOf("[amqp]\npassword = p\nheartbeat = 0\n"),
            "/etc/busbar/host.conf: [amqp] heartbeat must be an integer from 1 to 600; found '0'");
  EXPECT_EQ(errorOf("[amqp]\npassword = p\nauto_setup = maybe\n"),
            "/etc/busbar/host.conf: [amqp] auto_setup must be true or false; found 'maybe'");
}

}  // namespace
}  // namespace busbar::amqp
