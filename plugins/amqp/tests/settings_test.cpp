// readAmqpSettings: defaults, every key, and the errors an operator sees.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
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
  ASSERT_EQ(settings.connection.brokers.size(), 1u);
  EXPECT_EQ(settings.connection.brokers[0].host, "127.0.0.1");
  EXPECT_EQ(settings.connection.brokers[0].port, 5672);
  EXPECT_FALSE(settings.connection.quorum_queues);
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
  ASSERT_EQ(settings.connection.brokers.size(), 1u);
  EXPECT_EQ(settings.connection.brokers[0].host, "mq.internal");
  EXPECT_EQ(settings.connection.brokers[0].port, 5673);
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
  EXPECT_EQ(errorOf("[amqp]\npassword = p\nheartbeet = x\n")
                .rfind("/etc/busbar/host.conf: [amqp] heartbeet is not a known key. Did you mean "
                       "heartbeat? The keys of [amqp] are: ",
                       0),
            0u);
  EXPECT_EQ(errorOf("[amqp]\npassword = p\nport = 70000\n"),
            "/etc/busbar/host.conf: [amqp] port must be an integer from 1 to 65535; found '70000'");
  EXPECT_EQ(errorOf("[amqp]\npassword = p\nheartbeat = 0\n"),
            "/etc/busbar/host.conf: [amqp] heartbeat must be an integer from 1 to 600; found '0'");
  EXPECT_EQ(errorOf("[amqp]\npassword = p\nauto_setup = maybe\n"),
            "/etc/busbar/host.conf: [amqp] auto_setup must be true or false; found 'maybe'");
}

TEST(AmqpSettingsTest, HostsNameEveryNodeOfAClusterAndMakeItsQueuesQuorumQueues) {
  ::unsetenv("BUSBAR_AMQP_PASSWORD");
  AmqpSettings settings = readAmqpSettings(
      sectionOf("[amqp]\nhosts = mq1:5701, mq2, [::1]:5703,[fe80::1]\nport = 5699\n"));
  const auto& brokers = settings.connection.brokers;
  ASSERT_EQ(brokers.size(), 4u);
  EXPECT_EQ(brokers[0].host, "mq1");
  EXPECT_EQ(brokers[0].port, 5701);
  EXPECT_EQ(brokers[1].host, "mq2");
  EXPECT_EQ(brokers[1].port, 5699);  // [amqp] port is every node's default
  EXPECT_EQ(brokers[2].host, "::1");
  EXPECT_EQ(brokers[2].port, 5703);
  EXPECT_EQ(brokers[3].host, "fe80::1");
  EXPECT_TRUE(settings.connection.quorum_queues);  // queue_type = auto, more than one node
  EXPECT_EQ(describe(settings.connection),
            "amqp://guest@mq1:5701,mq2:5699,[::1]:5703,[fe80::1]:5699/");
  EXPECT_EQ(describeNode(settings.connection, 1), "amqp://guest@mq2:5699/");

  EXPECT_FALSE(readAmqpSettings(sectionOf("[amqp]\nhosts = a, b\nqueue_type = classic\n"))
                   .connection.quorum_queues);
  EXPECT_TRUE(readAmqpSettings(sectionOf("[amqp]\nhost = a\nqueue_type = quorum\n"))
                  .connection.quorum_queues);
  EXPECT_FALSE(readAmqpSettings(sectionOf("[amqp]\nhosts = a\n")).connection.quorum_queues);
}

TEST(AmqpSettingsTest, TlsTakesACaAClientCertificateAndRabbitMqsAmqpsPort) {
  ::unsetenv("BUSBAR_AMQP_PASSWORD");
  char folder[] = "/tmp/busbar-amqp-tls-XXXXXX";
  ASSERT_NE(::mkdtemp(folder), nullptr);
  const std::string dir = folder;
  for (const char* name : {"ca.crt", "client.crt", "client.key"}) {
    std::ofstream(dir + "/" + name) << "PEM\n";
  }
  ::chmod((dir + "/client.key").c_str(), 0600);
  AmqpSettings settings = readAmqpSettings(sectionOf(
      "[amqp]\nhost = mq\ntls = true\ntls_ca_file = " + dir + "/ca.crt\ntls_cert_file = " + dir +
      "/client.crt\ntls_key_file = " + dir + "/client.key\n"));
  EXPECT_TRUE(settings.connection.tls.enabled);
  EXPECT_TRUE(settings.connection.tls.verify_hostname);
  EXPECT_EQ(settings.connection.tls.ca_file, dir + "/ca.crt");
  EXPECT_EQ(settings.connection.brokers[0].port, 5671);
  EXPECT_EQ(describe(settings.connection), "amqps://guest@mq:5671/");

  EXPECT_EQ(errorOf("[amqp]\ntls = true\n"),
            "/etc/busbar/host.conf: [amqp] tls_ca_file is required with tls = true: the file of "
            "the CA that signed the broker's certificate, which busbar always verifies; found "
            "nothing");
  EXPECT_EQ(errorOf("[amqp]\ntls_ca_file = " + dir + "/ca.crt\n"),
            "/etc/busbar/host.conf: [amqp] tls_ca_file takes effect with tls = true only: set it, "
            "or remove this key; found tls off");
  EXPECT_EQ(errorOf("[amqp]\ntls = true\ntls_ca_file = " + dir + "/ca.crt\ntls_cert_file = " + dir +
                    "/client.crt\n"),
            "/etc/busbar/host.conf: [amqp] tls_key_file goes with tls_cert_file: a client "
            "certificate needs its key, and a key its certificate; found nothing");
  std::ofstream(dir + "/client.key") << "-----BEGIN ENCRYPTED PRIVATE KEY-----\n";
  EXPECT_EQ(errorOf("[amqp]\ntls = true\ntls_ca_file = " + dir + "/ca.crt\ntls_cert_file = " + dir +
                    "/client.crt\ntls_key_file = " + dir + "/client.key\n"),
            "/etc/busbar/host.conf: [amqp] tls_key_file must name a key without a passphrase "
            "(busbar cannot ask for one); found '" +
                dir + "/client.key', which is encrypted (openssl pkey -in KEY -out KEY.plain)");
  ::chmod((dir + "/client.key").c_str(), 0644);
  EXPECT_EQ(errorOf("[amqp]\ntls = true\ntls_ca_file = " + dir + "/ca.crt\ntls_cert_file = " + dir +
                    "/client.crt\ntls_key_file = " + dir + "/client.key\n"),
            "/etc/busbar/host.conf: [amqp] tls_key_file must name a key file only its owner may "
            "read; found '" +
                dir + "/client.key' with mode 644 (chmod 600 it)");
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST(AmqpSettingsTest, RejectsAHostsListAnOperatorGotWrong) {
  ::unsetenv("BUSBAR_AMQP_PASSWORD");
  EXPECT_EQ(errorOf("[amqp]\nhost = a\nhosts = b, c\n"),
            "/etc/busbar/host.conf: [amqp] host and hosts are two ways to name the broker: keep "
            "hosts (every node of a cluster) or host (one broker), not both; found both");
  EXPECT_EQ(errorOf("[amqp]\nhosts = a:5672, a:5672\n"),
            "/etc/busbar/host.conf: [amqp] hosts must name each node once; found a:5672 twice");
  EXPECT_EQ(errorOf("[amqp]\nhosts = ,\n"),
            "/etc/busbar/host.conf: [amqp] hosts must name at least one node (host or "
            "host:port); found nothing");
  const std::string start =
      "/etc/busbar/host.conf: [amqp] hosts must list the broker's nodes as host or host:port, "
      "comma-separated (e.g. mq1:5672, mq2:5672, mq3:5672): ";
  EXPECT_EQ(errorOf("[amqp]\nhosts = a:99999, b\n"),
            start + "'a:99999' has no port from 1 to 65535 after its host; found 'a:99999, b'");
  EXPECT_EQ(errorOf("[amqp]\nhosts = a:x\n"),
            start + "'a:x' has no port from 1 to 65535 after its host; found 'a:x'");
  EXPECT_EQ(errorOf("[amqp]\nhosts = :5672\n"), start + "':5672' names no host; found ':5672'");
  EXPECT_EQ(errorOf("[amqp]\nhosts = ::1\n"),
            start + "'::1' is an IPv6 address without brackets ([::1]:5672); found '::1'");
  EXPECT_EQ(errorOf("[amqp]\nhosts = [::1\n"),
            start + "'[::1' opens [ without closing it; found '[::1'");
  EXPECT_EQ(errorOf("[amqp]\nqueue_type = mirrored\n"),
            "/etc/busbar/host.conf: [amqp] queue_type must be one of auto, classic, quorum; found "
            "'mirrored'");
}

}  // namespace
}  // namespace busbar::amqp
