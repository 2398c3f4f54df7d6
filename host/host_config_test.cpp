#include "host_config.h"

#include <sys/stat.h>

#include <fstream>

#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>

namespace busbar::host {
namespace {

class HostConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { Poco::File(dir_).createDirectories(); }
  void TearDown() override { Poco::File(dir_).remove(true); }

  std::string write(const std::string& text) {
    std::string file = Poco::Path(dir_).append("host.conf").toString();
    std::ofstream(file) << text;
    return file;
  }

  HostSettings load(const std::string& text, CommandLineOverrides overrides = {}) {
    return loadHostSettings(write(text), overrides, "/default/plugins");
  }

  // The ConfigError message of loading `text`, or "" when it loads.
  std::string errorOf(const std::string& text, CommandLineOverrides overrides = {}) {
    try {
      load(text, overrides);
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "";
  }

  std::string dir_ = Poco::TemporaryFile::tempName();
};

const char* kMinimal = "[host]\nplugins = local, sqlite, users\n";

TEST_F(HostConfigTest, DefaultsApplyToAMinimalFile) {
  HostSettings settings = load(kMinimal);
  EXPECT_EQ(settings.bind_host, "127.0.0.1");
  EXPECT_EQ(settings.bind_port, 8000);
  EXPECT_EQ(settings.plugins, (std::vector<std::string>{"local", "sqlite", "users"}));
  EXPECT_EQ(settings.plugin_dirs, (std::vector<std::string>{"/default/plugins"}));
  EXPECT_EQ(settings.event_bus.transport, "local");
  EXPECT_TRUE(settings.event_bus.async_pass_through);
  EXPECT_EQ(settings.http.max_body, 1024u * 1024u);
  EXPECT_NE(settings.server_id.find(":8000"), std::string::npos);
}

TEST_F(HostConfigTest, InlineCommentsAreStripped) {
  HostSettings settings = load(
      "[host]\nbind = 10.0.0.1:9000   ; the address\nserver_id =   ; default\n"
      "plugins = local # the transport\n[event_bus]\nexchanges.events = busbar.events ; x\n");
  EXPECT_EQ(settings.bind_host, "10.0.0.1");
  EXPECT_EQ(settings.bind_port, 9000);
  EXPECT_EQ(settings.server_id.substr(settings.server_id.size() - 5), ":9000");
  EXPECT_EQ(settings.plugins, std::vector<std::string>{"local"});
  EXPECT_EQ(settings.event_bus.exchanges.at("events"), "busbar.events");
}

TEST_F(HostConfigTest, WholeLineCommentsAreSkipped) {
  HostSettings settings =
      load("# busbar\n[host]\n  # plugins = nothing\n; bind = x\nplugins = local\n");
  EXPECT_EQ(settings.plugins, std::vector<std::string>{"local"});
  EXPECT_EQ(settings.bind_port, 8000);
}

TEST_F(HostConfigTest, DottedEventTypesAndBadServerIdsAreRefused) {
  std::string error = errorOf(std::string(kMinimal) +
                              "[event_bus]\nexchanges.events = e\nrouter.billing.Paid = events\n");
  EXPECT_NE(error.find("router.billing.Paid"), std::string::npos) << error;
  EXPECT_NE(error.find("'.'"), std::string::npos) << error;
  error = errorOf("[host]\nplugins = local\nserver_id = " + std::string(300, 's') + "\n");
  EXPECT_NE(error.find("[host] server_id must be 1-255 bytes"), std::string::npos) << error;
}

TEST_F(HostConfigTest, OverridesWinOverTheFile) {
  CommandLineOverrides overrides;
  overrides.bind = "0.0.0.0:8001";
  overrides.plugin_dir = "/opt/plugins";
  overrides.exchanges = {"events", "events:workers"};
  HostSettings settings =
      load(std::string(kMinimal) + "[event_bus]\nexchanges.events = busbar.events\n", overrides);
  EXPECT_EQ(settings.bind_host, "0.0.0.0");
  EXPECT_EQ(settings.bind_port, 8001);
  EXPECT_EQ(settings.plugin_dirs, std::vector<std::string>{"/opt/plugins"});
  ASSERT_EQ(settings.consumed.size(), 2u);
  EXPECT_EQ(settings.consumed[0].exchange, "busbar.events");
  EXPECT_EQ(settings.consumed[0].queue, "");
  EXPECT_EQ(settings.consumed[1].queue, "workers");
}

TEST_F(HostConfigTest, RelativePluginDirResolvesAgainstTheConfigFolder) {
  HostSettings settings = load("[host]\nplugins = local\nplugin_dir = plugins, /abs\n");
  ASSERT_EQ(settings.plugin_dirs.size(), 2u);
  EXPECT_EQ(settings.plugin_dirs[0], Poco::Path(dir_).append("plugins").toString());
  EXPECT_EQ(settings.plugin_dirs[1], "/abs");
}

TEST_F(HostConfigTest, RouterResolvesAliases) {
  HostSettings settings = load(std::string(kMinimal) +
                               "[event_bus]\nexchanges.events = e1\nexchanges.audit = e2\n"
                               "router._all = events\nrouter.UserWasDeleted = audit, events\n");
  EXPECT_EQ(settings.event_bus.router.at("_all"), std::vector<std::string>{"events"});
  EXPECT_EQ(settings.event_bus.router.at("UserWasDeleted"),
            (std::vector<std::string>{"audit", "events"}));
}

TEST_F(HostConfigTest, ErrorsNameTheFileTheKeyAndWhatIsAllowed) {
  std::string error = errorOf("[host]\nplugins = local\nbnid = 1.2.3.4:5\n");
  EXPECT_NE(error.find("host.conf"), std::string::npos) << error;
  EXPECT_NE(error.find("[host] bnid"), std::string::npos) << error;
  EXPECT_NE(error.find("The keys of [host] are: bind, plugin_dir"), std::string::npos) << error;

  error = errorOf("[host]\nplugins = local\nbind = nowhere\n");
  EXPECT_NE(error.find("[host] bind"), std::string::npos) << error;
  EXPECT_NE(error.find("HOST:PORT"), std::string::npos) << error;

  error = errorOf("[host]\nplugins = local\nbind = 1.2.3.4:70000\n");
  EXPECT_NE(error.find("1 to 65535"), std::string::npos) << error;

  error = errorOf("[host]\n");
  EXPECT_NE(error.find("[host] plugins"), std::string::npos) << error;

  error = errorOf(std::string(kMinimal) + "[event_bus]\nasync_pass_through = maybe\n");
  EXPECT_NE(error.find("[event_bus] async_pass_through must be true or false"), std::string::npos)
      << error;

  error = errorOf(std::string(kMinimal) + "[event_bus]\nrouter._all = nowhere\n");
  EXPECT_NE(error.find("router._all"), std::string::npos) << error;
  EXPECT_NE(error.find("'nowhere'"), std::string::npos) << error;

  error = errorOf(std::string(kMinimal) + "[http]\nmax_body = -1\n");
  EXPECT_NE(error.find("[http] max_body must be an integer from 1"), std::string::npos) << error;

  error = errorOf(std::string(kMinimal) + "[http]\nthreds = 4\n");
  EXPECT_NE(error.find("[http] threds"), std::string::npos) << error;
}

TEST_F(HostConfigTest, HttpKeysAreReadAndChecked) {
  HostSettings defaults = load(kMinimal);
  EXPECT_EQ(defaults.http.workers, 64);
  EXPECT_EQ(defaults.http.loops, 0u);  // one per usable core
  EXPECT_EQ(defaults.http.max_connections, 10000);
  EXPECT_EQ(defaults.http.max_header_bytes, 16384u);
  EXPECT_EQ(defaults.http.max_headers, 100);
  EXPECT_EQ(defaults.http.keep_alive_seconds, 15);
  EXPECT_EQ(defaults.http.header_timeout_seconds, 10);
  EXPECT_EQ(defaults.http.body_timeout_seconds, 30);
  EXPECT_EQ(defaults.http.write_timeout_seconds, 30);
  EXPECT_EQ(defaults.http.shutdown_grace_seconds, 10);

  HostSettings set = load(std::string(kMinimal) +
                          "[http]\nworkers = 8\nmax_connections = 20000\nmax_header_bytes = 8192\n"
                          "max_headers = 50\nkeep_alive_seconds = 5\nheader_timeout_seconds = 3\n"
                          "body_timeout_seconds = 4\nwrite_timeout_seconds = 6\nloops = 3\n");
  EXPECT_EQ(set.http.workers, 8);
  EXPECT_EQ(set.http.loops, 3u);
  EXPECT_EQ(set.http.max_connections, 20000);
  EXPECT_EQ(set.http.max_header_bytes, 8192u);
  EXPECT_EQ(set.http.max_headers, 50);
  EXPECT_EQ(set.http.keep_alive_seconds, 5);
  EXPECT_EQ(set.http.header_timeout_seconds, 3);
  EXPECT_EQ(set.http.body_timeout_seconds, 4);
  EXPECT_EQ(set.http.write_timeout_seconds, 6);

  std::string error = errorOf(std::string(kMinimal) + "[http]\nworkers = 0\n");
  EXPECT_NE(error.find("host.conf: [http] workers must be an integer from 1 to 4096; found '0'"),
            std::string::npos)
      << error;
  error = errorOf(std::string(kMinimal) + "[http]\nloops = 65\n");
  EXPECT_NE(error.find("host.conf: [http] loops must be an integer from 0 to 64; found '65'"),
            std::string::npos)
      << error;
  error = errorOf(std::string(kMinimal) + "[http]\nmax_connections = lots\n");
  EXPECT_NE(error.find("[http] max_connections must be an integer from 1 to 1000000; found "
                       "'lots'"),
            std::string::npos)
      << error;
  error = errorOf(std::string(kMinimal) + "[http]\nmax_header_bytes = 10\n");
  EXPECT_NE(error.find("[http] max_header_bytes must be an integer from 256"), std::string::npos)
      << error;
  error = errorOf(std::string(kMinimal) + "[http]\nbody_timeout_seconds = 0\n");
  EXPECT_NE(error.find("[http] body_timeout_seconds must be an integer from 1 to 3600"),
            std::string::npos)
      << error;
  // The keys of the thread-per-connection server say what replaced them.
  error = errorOf(std::string(kMinimal) + "[http]\nthreads = 64\n");
  EXPECT_NE(error.find("[http] threads is no longer used"), std::string::npos) << error;
  EXPECT_NE(error.find("rename it to workers"), std::string::npos) << error;
  // The worker queue's bound and the request deadline.
  set = load(std::string(kMinimal) + "[http]\nmax_queued = 32\nrequest_timeout_seconds = 2\n");
  EXPECT_EQ(set.http.max_queued, 32);
  EXPECT_EQ(set.http.request_timeout_seconds, 2);
  EXPECT_EQ(load(kMinimal).http.max_queued, 256);
  EXPECT_EQ(load(kMinimal).http.request_timeout_seconds, 15);
  error = errorOf(std::string(kMinimal) + "[http]\nmax_queued = 0\n");
  EXPECT_NE(error.find("[http] max_queued must be an integer from 1 to 1000000; found '0'"),
            std::string::npos)
      << error;
}

TEST_F(HostConfigTest, TheEventLogHasDefaultsAndChecksItsKeys) {
  const std::string base = "[host]\nplugins = local\n";
  HostSettings defaults = load(base);
  EXPECT_TRUE(defaults.event_log.enabled);
  EXPECT_EQ(defaults.event_log.catch_up_interval, std::chrono::milliseconds(1000));
  EXPECT_EQ(defaults.event_log.relay_delay, std::chrono::milliseconds(10000));
  EXPECT_EQ(defaults.event_log.prune_interval, std::chrono::milliseconds(60000));
  HostSettings set = load(base +
                          "[event_bus]\ncatch_up_interval = 250ms\n[event_log]\nenabled = false\n"
                          "retention_events = 5000\nretention_seconds = 3600\nrelay_delay = 3\n"
                          "prune_interval = 5s\n");
  EXPECT_FALSE(set.event_log.enabled);
  EXPECT_EQ(set.event_log.catch_up_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(set.event_log.retention_events, 5000u);
  EXPECT_EQ(set.event_log.retention_seconds, 3600);
  EXPECT_EQ(set.event_log.relay_delay, std::chrono::milliseconds(3000));
  EXPECT_EQ(set.event_log.prune_interval, std::chrono::milliseconds(5000));
  std::string error = errorOf(base + "[event_bus]\ncatch_up_interval = soon\n");
  EXPECT_NE(error.find("[event_bus] catch_up_interval"), std::string::npos) << error;
  EXPECT_NE(error.find("written like 250ms or 2s"), std::string::npos) << error;
  EXPECT_NE(error.find("'soon'"), std::string::npos) << error;
  error = errorOf(base + "[event_bus]\ncatch_up_interval = 5ms\n");
  EXPECT_NE(error.find("from 10ms"), std::string::npos) << error;
  error = errorOf(base + "[event_log]\nretention_events = 10\n");
  EXPECT_NE(error.find("[event_log] retention_events"), std::string::npos) << error;
  error = errorOf(base + "[event_log]\nprune_interval = 500ms\n");
  EXPECT_NE(error.find("[event_log] prune_interval"), std::string::npos) << error;
  EXPECT_NE(error.find("from 1000ms"), std::string::npos) << error;
  error = errorOf(base + "[event_log]\nprune_interval = 86401s\n");
  EXPECT_NE(error.find("[event_log] prune_interval"), std::string::npos) << error;
  EXPECT_NE(error.find("'86401s'"), std::string::npos) << error;
  error = errorOf(base + "[event_log]\nenable = true\n");
  EXPECT_NE(error.find("enable"), std::string::npos) << error;
}

TEST_F(HostConfigTest, TheLogSectionHasDefaultsAndChecksItsKeys) {
  HostSettings defaults = load(kMinimal);
  EXPECT_EQ(defaults.log.level_name, "information");
  EXPECT_EQ(defaults.log.level, 6);
  EXPECT_EQ(defaults.log.format, LogFormat::kText);
  EXPECT_EQ(defaults.log.file, "");
  EXPECT_FALSE(defaults.log.access);

  HostSettings set =
      load(std::string(kMinimal) +
           "[log]\nlevel = debug\nformat = json\nfile = logs/busbar.log\n"
           "rotation = 2G\nkeep = 3\naccess = true\naccess_file = logs/access.log\n");
  EXPECT_EQ(set.log.level, 7);
  EXPECT_EQ(set.log.format, LogFormat::kJson);
  EXPECT_EQ(set.log.file, Poco::Path(dir_).append("logs/busbar.log").toString());
  EXPECT_EQ(set.log.access_file, Poco::Path(dir_).append("logs/access.log").toString());
  EXPECT_EQ(set.log.rotation, "2048 M");
  EXPECT_EQ(set.log.keep, 3);
  EXPECT_EQ(load(std::string(kMinimal) + "[log]\nrotation = 10k\n").log.rotation, "10 K");
  EXPECT_EQ(load(std::string(kMinimal) + "[log]\nrotation = daily\n").log.rotation, "daily");
  EXPECT_EQ(load(std::string(kMinimal) + "[log]\nrotation = none\n").log.rotation, "never");
  EXPECT_EQ(loadLogSettings(write(std::string(kMinimal) + "[log]\nlevel = error\n")).level, 3);

  EXPECT_NE(errorOf(std::string(kMinimal) + "[log]\nlevel = loud\n")
                .find("[log] level must be one of fatal, critical, error, warning, notice, "
                      "information, debug, trace; found 'loud'"),
            std::string::npos);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[log]\nformat = xml\n").find("[log] format"),
            std::string::npos);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[log]\nrotation = 5T\n")
                .find("[log] rotation must be a size like 100M"),
            std::string::npos);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[log]\naccess_file = a.log\n")
                .find("[log] access_file needs access = true"),
            std::string::npos);
  EXPECT_NE(
      errorOf(std::string(kMinimal) + "[log]\naccess = yes\nfile = a.log\naccess_file = a.log\n")
          .find("must differ from file"),
      std::string::npos);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[log]\ncolour = on\n").find("[log] colour is not"),
            std::string::npos);
}

TEST_F(HostConfigTest, TheAdminListenerIsLoopbackOnAPortOfItsOwn) {
  HostSettings defaults = load(kMinimal);
  EXPECT_EQ(defaults.admin.bind_host, "127.0.0.1");
  EXPECT_EQ(defaults.admin.bind_port, 0);
  HostSettings set = load(std::string(kMinimal) + "[admin]\nbind = 10.0.0.2:9100\n");
  EXPECT_EQ(set.admin.bind_host, "10.0.0.2");
  EXPECT_EQ(set.admin.bind_port, 9100);
  CommandLineOverrides overrides;
  overrides.admin_bind = "127.0.0.1:9200";
  EXPECT_EQ(
      load(std::string(kMinimal) + "[admin]\nbind = 10.0.0.2:9100\n", overrides).admin.bind_port,
      9200);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[admin]\nbind = nowhere\n")
                .find("[admin] bind must be HOST:PORT with a port from 0"),
            std::string::npos);
  overrides.admin_bind = "x:99999";
  EXPECT_NE(errorOf(kMinimal, overrides).find("--admin-bind must be HOST:PORT"), std::string::npos);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[admin]\nbind = 127.0.0.1:8000\n")
                .find("[admin] bind and [host] bind both use port 8000"),
            std::string::npos);
}

TEST_F(HostConfigTest, AListenersTlsKeysAreCheckedWhenTheFileIsRead) {
  EXPECT_FALSE(load(kMinimal).http.tls.enabled);
  EXPECT_FALSE(load(kMinimal).admin.tls.enabled);
  const std::string cert = Poco::Path(dir_).append("server.crt").toString();
  const std::string key = Poco::Path(dir_).append("server.key").toString();
  std::ofstream(cert) << "certificate\n";
  std::ofstream(key) << "key\n";
  ::chmod(key.c_str(), 0600);
  // Relative paths are the config folder's; OpenSSL reads the files later (tls_context.h).
  HostSettings https = load(std::string(kMinimal) +
                            "[http]\ntls = true\ntls_cert_file = server.crt\ntls_key_file = "
                            "server.key\n[admin]\ntls = yes\ntls_cert_file = " +
                            cert + "\ntls_key_file = " + key + "\n");
  EXPECT_TRUE(https.http.tls.enabled);
  EXPECT_EQ(https.http.tls.cert_file, cert);
  EXPECT_EQ(https.http.tls.key_file, key);
  EXPECT_TRUE(https.admin.tls.enabled);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[http]\ntls_cert_file = " + cert + "\n")
                .find("[http] tls_cert_file takes effect with tls = true only"),
            std::string::npos);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[admin]\ntls = true\ntls_cert_file = " + cert + "\n")
                .find("[admin] tls_key_file is required with tls = true: the PEM file of the "
                      "listener's private key; found nothing"),
            std::string::npos);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[http]\ntls = true\ntls_cert_file = absent.crt\n" +
                    "tls_key_file = " + key + "\n")
                .find("[http] tls_cert_file must name a file this server can read; found '" +
                      Poco::Path(dir_).append("absent.crt").toString() + "'"),
            std::string::npos);
  ::chmod(key.c_str(), 0644);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[http]\ntls = true\ntls_cert_file = " + cert +
                    "\ntls_key_file = " + key + "\n")
                .find("(chmod 600 it)"),
            std::string::npos);
}

TEST_F(HostConfigTest, TheShutdownDelayIsReadAndBounded) {
  EXPECT_EQ(load(kMinimal).http.shutdown_delay_seconds, 0);
  EXPECT_EQ(load(std::string(kMinimal) + "[http]\nshutdown_delay_seconds = 5\n")
                .http.shutdown_delay_seconds,
            5);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[http]\nshutdown_delay_seconds = -1\n")
                .find("[http] shutdown_delay_seconds must be an integer from 0 to 3600"),
            std::string::npos);
}

TEST_F(HostConfigTest, UnknownExchangeAliasOnTheCommandLineIsRefused) {
  CommandLineOverrides overrides;
  overrides.exchanges = {"evnets"};
  std::string error =
      errorOf(std::string(kMinimal) + "[event_bus]\nexchanges.events = busbar.events\n", overrides);
  EXPECT_NE(error.find("--exchange evnets"), std::string::npos) << error;
  EXPECT_NE(error.find("known aliases: events"), std::string::npos) << error;
}

TEST_F(HostConfigTest, BadBindOnTheCommandLineNamesTheOption) {
  CommandLineOverrides overrides;
  overrides.bind = "8000";
  EXPECT_NE(errorOf(kMinimal, overrides).find("--bind"), std::string::npos);
}

TEST_F(HostConfigTest, MissingFileIsAClearError) {
  try {
    loadHostSettings(dir_ + "/nope.conf", {}, "/x");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("does not exist"), std::string::npos);
  }
}

TEST_F(HostConfigTest, TheConsistencyObserverIsOnWithAPaceAFullPassAndABound) {
  HostSettings defaults = load(kMinimal);
  EXPECT_TRUE(defaults.consistency.enabled);
  EXPECT_EQ(defaults.consistency.rows_per_second, 1000);
  EXPECT_EQ(defaults.consistency.full_pass, std::chrono::seconds(600));
  EXPECT_EQ(defaults.consistency.bound, std::chrono::milliseconds(3000));
  HostSettings set = load(std::string(kMinimal) +
                          "[consistency]\nenabled = false\nrows_per_second = 250\n"
                          "full_pass = 3600s\nbound = 1500ms\n");
  EXPECT_FALSE(set.consistency.enabled);
  EXPECT_EQ(set.consistency.rows_per_second, 250);
  EXPECT_EQ(set.consistency.full_pass, std::chrono::seconds(3600));
  EXPECT_EQ(set.consistency.bound, std::chrono::milliseconds(1500));
  EXPECT_NE(errorOf(std::string(kMinimal) + "[consistency]\nrows_per_second = 0\n")
                .find("[consistency] rows_per_second"),
            std::string::npos);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[consistency]\nbound = 10ms\n")
                .find("[consistency] bound must be a duration from 100ms"),
            std::string::npos);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[consistency]\nfull_pass = soon\n")
                .find("[consistency] full_pass must be a duration"),
            std::string::npos);
  EXPECT_NE(errorOf(std::string(kMinimal) + "[consistency]\nrate = 5\n")
                .find("[consistency] rate is not"),
            std::string::npos);
}

TEST_F(HostConfigTest, UnknownSectionsAreRefusedUnlessAPluginOwnsThem) {
  std::string file =
      write(std::string(kMinimal) + "[users]\nrepository = composed\n[usres]\nrefresh = reload\n");
  auto config = readIniFile(file);
  try {
    rejectUnknownSections(config, file, {"users"});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("unknown section [usres]. Did you mean users?"),
              std::string::npos)
        << error.what();
  }
  file = write(std::string(kMinimal) + "[users]\nrepository = composed\n");
  EXPECT_NO_THROW(rejectUnknownSections(readIniFile(file), file, {"users"}));
}

// Found by the host_config fuzz target: a section name ending in a dot made the key walk recurse
// until the stack overflowed.
TEST_F(HostConfigTest, ASectionNameEndingInADotIsAnUnknownKeyNotACrash) {
  const std::string error = errorOf(std::string(kMinimal) + "[http.]\nmax_queued = 1\n");
  EXPECT_NE(error.find("[http] . is not a known key"), std::string::npos) << error;
}

TEST_F(HostConfigTest, AnUnknownKeySuggestsTheNearestKnownOneAndListsThemAll) {
  const std::string file = write("[http]\nmax_bdy = 10\nexchange.events = x\nzzz = 1\n");
  ConfigSection section(readIniFile(file), file, "http");
  auto refusal = [&](const std::set<std::string>& known, const std::set<std::string>& prefixes) {
    try {
      section.rejectUnknownKeys(known, prefixes);
    } catch (const ConfigError& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  // Keys are checked in the file's order as Poco lists them: alphabetical.
  EXPECT_EQ(refusal({"exchanges.events", "max_body", "zzz"}, {}),
            file +
                ": [http] exchange.events is not a known key. Did you mean exchanges.events? "
                "The keys of [http] are: exchanges.events, max_body, zzz.");
  EXPECT_EQ(refusal({"max_body", "zzz"}, {"exchanges"}),
            file +
                ": [http] exchange.events is not a known key. Did you mean exchanges.events? "
                "The keys of [http] are: max_body, zzz, exchanges.<name>.");
  EXPECT_EQ(refusal({"max_body", "zzz"}, {"exchange"}),
            file +
                ": [http] max_bdy is not a known key. Did you mean max_body? The keys of [http] "
                "are: max_body, zzz, exchange.<name>.");
  EXPECT_EQ(refusal({"max_body", "max_bdy", "exchange.events"}, {}),
            file +
                ": [http] zzz is not a known key. The keys of [http] are: exchange.events, "
                "max_bdy, max_body.");
}

TEST_F(HostConfigTest, ConfigSectionResolvesPathsAndSecrets) {
  std::string file = write("[storage]\nsqlite.path = ../var/db.sqlite\npassword = fromfile\n");
  ConfigSection section(readIniFile(file), file, "storage");
  EXPECT_EQ(section.getPath("sqlite.path", ""),
            Poco::Path(Poco::Path(dir_).parent()).append("var/db.sqlite").toString());
  ::setenv("BUSBAR_TEST_SECRET_FOR_CONFIG", "fromenv", 1);
  EXPECT_EQ(section.getSecret("password", "BUSBAR_TEST_SECRET_FOR_CONFIG"), "fromenv");
  ::unsetenv("BUSBAR_TEST_SECRET_FOR_CONFIG");
  EXPECT_EQ(section.getSecret("password", "BUSBAR_TEST_SECRET_FOR_CONFIG"), "fromfile");
}

}  // namespace
}  // namespace busbar::host
