// What an operator relies on, on the real binary: the Prometheus text promtool accepts, the
// probes, the admin listener that the public port never serves, JSON logs an operator's pipeline
// can parse line by line with request ids in them, readiness that goes false as soon as
// shutdown begins, and a reload whose new process applies [log] (or is refused for a bad one).
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>

#include "busbar/abi.h"
#include "notify_socket.h"
#include "sqlite_server.h"

namespace busbar::testing {
namespace {

std::string readWhole(const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The value of the sample `series` (name and labels, as the text writes them), or -1.
double sampleOf(const std::string& metrics, const std::string& series) {
  const std::string line_start = series + " ";
  for (size_t at = metrics.find(line_start); at != std::string::npos;
       at = metrics.find(line_start, at + 1)) {
    if (at != 0 && metrics[at - 1] != '\n') continue;
    return std::stod(metrics.substr(at + line_start.size()));
  }
  return -1;
}

HttpResult withRequestId(int port, const std::string& method, const std::string& path,
                         const std::string& body, const std::string& request_id) {
  return httpRequest(port, method, path, body, "application/json", {{"X-Request-Id", request_id}});
}

class OperationsTest : public ::testing::Test {
 protected:
  std::unique_ptr<ServerProcess> startServer(const std::string& extra = "") {
    auto server =
        std::make_unique<ServerProcess>(dir_.write("host.conf", sqliteConfig(dir_.path(), extra)));
    server->start();
    return server;
  }

  TempDir dir_;
};

// The start line says how many event loops serve: [http] loops when set, else one per core the
// process can keep busy.
TEST_F(OperationsTest, TheEventLoopsAreAsManyAsHttpLoopsSays) {
  auto server = startServer("[http]\nloops = 3\n");
  // The line comes once the listener serves, which start() waits for: it may follow shortly.
  EXPECT_TRUE(eventually([&] {
    return server->output().find(", 3 event loops") != std::string::npos;
  })) << server->output();
  EXPECT_EQ(server->request("GET", "/users").status, 200);
  EXPECT_EQ(server->stop(), 0) << server->failureReport();
}

TEST_F(OperationsTest, MetricsPassPromtoolAndCountRequestsByRouteTemplate) {
  auto server = startServer();
  ASSERT_EQ(server->request("PUT", "/users/alice", R"({"name":"A"})").status, 201);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(server->request("GET", "/users/alice").status, 200);
  ASSERT_EQ(server->request("GET", "/users/nobody").status, 404);
  ASSERT_EQ(server->request("GET", "/nowhere").status, 404);

  HttpResult metrics = server->request("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.headers.at("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string file = dir_.write("metrics.txt", metrics.body);
  std::string lint;
  EXPECT_EQ(runShell("promtool check metrics < " + file, lint), 0)
      << "promtool (Debian package prometheus; scripts/install-deps installs it):\n"
      << lint;
  EXPECT_EQ(lint, "") << lint;

  const std::string& text = metrics.body;
  const std::string users = R"(listener="public",method="GET",route="/users/{id}")";
  EXPECT_EQ(sampleOf(text, "busbar_http_requests_total{" + users + R"(,status="2xx"})"), 3);
  EXPECT_EQ(sampleOf(text, "busbar_http_requests_total{" + users + R"(,status="4xx"})"), 1);
  EXPECT_EQ(sampleOf(text, "busbar_http_request_duration_seconds_count{" + users + "}"), 4);
  EXPECT_EQ(
      sampleOf(
          text,
          R"(busbar_http_requests_total{listener="public",method="PUT",route="/users/{id}",status="2xx"})"),
      1);
  EXPECT_EQ(
      sampleOf(
          text,
          R"m(busbar_http_requests_total{listener="public",method="GET",route="(unmatched)",status="4xx"})m"),
      1);
  // No series per user: the route template, never the path.
  EXPECT_EQ(text.find("alice"), std::string::npos);
  EXPECT_EQ(sampleOf(text, R"(busbar_cache_rows{module="users"})"), 1);
  EXPECT_EQ(sampleOf(text, "busbar_events_dispatched_total"), 1);
  EXPECT_EQ(sampleOf(text, "busbar_event_log_applied_seq"), 1);
  EXPECT_EQ(sampleOf(text, "busbar_ready"), 1);
  EXPECT_EQ(sampleOf(text, R"(busbar_plugin_info{kind="module",name="users",version="1.0.0"})"), 1);
  EXPECT_EQ(sampleOf(text, R"(busbar_plugin_info{kind="storage",name="sqlite",version="1.0.0"})"),
            1);
  EXPECT_NE(text.find("\nbusbar_build_info{abi=\"" BUSBAR_STRINGIFY(
                BUSBAR_ABI_MAJOR) "." BUSBAR_STRINGIFY(BUSBAR_ABI_MINOR) "\",build_signature=\""),
            std::string::npos);
  EXPECT_GE(sampleOf(text, "busbar_db_pool_sessions_open"), 1);
  EXPECT_GT(sampleOf(text, "process_open_fds"), 0);
  EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_F(OperationsTest, AdminRoutesAnswerOnlyOnTheAdminListener) {
  auto server = startServer();
  const std::vector<std::pair<std::string, std::string>> admin_routes = {
      {"GET", "/admin"},
      {"POST", "/admin/metrics/reset"},
      {"POST", "/admin/resync"},
      {"GET", "/admin/plugins"},
      {"GET", "/admin/config"}};
  for (const auto& [method, path] : admin_routes) {
    EXPECT_EQ(server->request(method, path).status, 404) << method << " " << path;
    const int status = server->adminRequest(method, path).status;
    EXPECT_TRUE(status == 200 || status == 202) << method << " " << path << ": " << status;
  }
  // The resync asked for above runs in the background, and the server is not ready until it is
  // done.
  EXPECT_TRUE(eventually([&] { return server->request("GET", "/readyz").status == 200; }))
      << server->request("GET", "/readyz").body;
  for (const char* probe : {"/metrics", "/livez", "/readyz", "/health"}) {
    EXPECT_EQ(server->request("GET", probe).status, 200) << probe;
    EXPECT_EQ(server->adminRequest("GET", probe).status, 200) << probe;
  }

  auto plugins = parseObject(server->adminRequest("GET", "/admin/plugins").body);
  EXPECT_EQ(plugins->getArray("plugins")->size(), 3u);
  auto config = parseObject(server->adminRequest("GET", "/admin/config").body);
  EXPECT_EQ(config->getObject("effective")->getValue<std::string>("admin_bind"),
            "127.0.0.1:" + std::to_string(server->adminPort()));

  // A reset answers the families it zeroed; an unknown one is a 404 that lists the rest.
  auto reset =
      server->adminRequest("POST", "/admin/metrics/reset?metric=busbar_event_apply_lag_seconds");
  EXPECT_EQ(reset.body, R"({"reset":["busbar_event_apply_lag_seconds"]})");
  auto unknown = server->adminRequest("POST", "/admin/metrics/reset?metric=busbar_ready");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("busbar_event_apply_lag_seconds"), std::string::npos);

  // A forced resync reloads the caches in the background; the counter tells when it is done.
  auto resyncs = [&] {
    return sampleOf(server->request("GET", "/metrics").body, "busbar_event_log_resyncs_total");
  };
  const double before = resyncs();
  EXPECT_EQ(server->adminRequest("POST", "/admin/resync").status, 202);
  EXPECT_TRUE(eventually([&] { return resyncs() == before + 1; })) << server->output();
  EXPECT_NE(server->output().find("an operator asked for it (POST /admin/resync)"),
            std::string::npos);
  EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_F(OperationsTest, JsonLogsParseLineByLineAndCarryRequestIds) {
  const std::string log_file = dir_.path() + "/logs/busbar.log";
  auto server =
      startServer("[log]\nformat = json\nlevel = debug\nfile = " + log_file + "\naccess = true\n");
  HttpResult created =
      withRequestId(server->port(), "PUT", "/users/bob", R"({"name":"B"})", "write-bob-1");
  ASSERT_EQ(created.status, 201);
  EXPECT_EQ(created.headers.at("X-Request-Id"), "write-bob-1");
  HttpResult read = server->request("GET", "/users/bob");
  const std::string generated = read.headers.at("X-Request-Id");
  EXPECT_EQ(generated.size(), 16u) << generated;
  EXPECT_EQ(generated.find_first_not_of("0123456789abcdef"), std::string::npos) << generated;
  EXPECT_EQ(server->stop(), 0) << server->output();

  const std::string text = readWhole(log_file);
  ASSERT_FALSE(text.empty()) << server->output();
  std::istringstream lines(text);
  std::string line;
  int parsed = 0;
  bool access_write = false;
  bool access_read = false;
  bool applied = false;
  bool stopped = false;
  while (std::getline(lines, line)) {
    Poco::JSON::Object::Ptr entry;
    ASSERT_NO_THROW(entry = parseObject(line)) << "not a JSON object: " << line;
    ++parsed;
    for (const char* field : {"time", "level", "logger", "server_id"}) {
      EXPECT_TRUE(entry->has(field)) << field << " missing: " << line;
    }
    const std::string logger = entry->getValue<std::string>("logger");
    const std::string request_id =
        entry->has("request_id") ? entry->getValue<std::string>("request_id") : "";
    if (logger == "busbar.access") {
      if (request_id == "write-bob-1") {
        access_write = entry->getValue<std::string>("method") == "PUT" &&
                       entry->getValue<std::string>("target") == "/users/bob" &&
                       entry->getValue<int>("status") == 201;
      }
      if (request_id == generated) access_read = entry->getValue<int>("status") == 200;
      continue;
    }
    EXPECT_TRUE(entry->has("message")) << line;
    const std::string message = entry->getValue<std::string>("message");
    if (logger == "busbar.events" && request_id == "write-bob-1" &&
        message.rfind("applied UserWasCreated ", 0) == 0) {
      applied = true;
    }
    if (message.find("stopped cleanly") != std::string::npos) stopped = true;
  }
  EXPECT_GT(parsed, 10);
  EXPECT_TRUE(access_write) << text;
  EXPECT_TRUE(access_read) << text;
  EXPECT_TRUE(applied) << text;
  EXPECT_TRUE(stopped) << text;
  // The log went to the file: standard error keeps only what comes before [log] is read.
  EXPECT_EQ(server->output().find("stopped cleanly"), std::string::npos) << server->output();
}

TEST_F(OperationsTest, ReadinessGoesFalseAsSoonAsShutdownBeginsBeforeConnectionsClose) {
  auto server = startServer("[http]\nshutdown_delay_seconds = 3\n");
  ASSERT_EQ(server->request("GET", "/readyz").status, 200);
  server->signal(SIGTERM);
  HttpResult draining;
  ASSERT_TRUE(eventually([&] {
    draining = server->request("GET", "/readyz");
    return draining.status == 503;
  })) << server->output();
  auto body = parseObject(draining.body);
  EXPECT_EQ(body->getValue<std::string>("status"), "not ready");
  ASSERT_EQ(body->getArray("failing")->size(), 1u);
  EXPECT_EQ(body->getArray("failing")->getElement<std::string>(0), "not_draining");
  // Still serving meanwhile: alive, and answering what clients still send.
  EXPECT_EQ(server->request("GET", "/livez").status, 200);
  EXPECT_EQ(server->request("GET", "/users/nobody").status, 404);
  auto health = parseObject(server->request("GET", "/health").body);
  EXPECT_EQ(health->getValue<std::string>("status"), "not ready");
  ASSERT_TRUE(eventually([&] { return !server->running(); })) << server->output();
  EXPECT_EQ(server->stop(), 0) << server->output();
  EXPECT_NE(server->output().find("stopped cleanly"), std::string::npos) << server->output();
}

TEST_F(OperationsTest, ASecondStopSignalEndsTheProcessAtOnce) {
  auto server = startServer("[http]\nshutdown_delay_seconds = 30\n");
  server->signal(SIGTERM);
  ASSERT_TRUE(eventually([&] { return server->request("GET", "/readyz").status == 503; }));
  server->signal(SIGINT);  // an operator's second Ctrl-C, 30 s before the drain would end
  ASSERT_TRUE(eventually([&] { return !server->running(); }, std::chrono::seconds(5)))
      << server->output();
  EXPECT_NE(server->output().find("a second stop signal (Interrupt) while stopping: the process "
                                  "ends now"),
            std::string::npos)
      << server->output();
  EXPECT_EQ(server->output().find("stopped cleanly"), std::string::npos) << server->output();
}

// A handler stuck past the grace period (on a backend that never answers) does not hold the stop:
// the process ends on its own shortly after, saying why.
TEST_F(OperationsTest, AStopWithAStuckHandlerEndsAtItsDeadline) {
  std::string config = sqliteConfig(dir_.path(), "[http]\nshutdown_grace_seconds = 1\n[stall]\n");
  const std::string plugins = "plugins = local, sqlite, users\n";
  config.replace(config.find(plugins), plugins.size(),
                 "plugins = local, sqlite, users, stall\nplugin_dir = " + buildDir() +
                     "/lib/busbar/plugins, " + buildDir() + "/test-modules\n");
  // The process ends with its worker still in the handler, by design: on the ThreadSanitizer
  // build that is not a thread leak to report.
  std::map<std::string, std::string> environment;
#if defined(BUSBAR_SANITIZES_THREAD)
  const char* options = std::getenv("TSAN_OPTIONS");
  environment["TSAN_OPTIONS"] =
      std::string(options != nullptr ? std::string(options) + ":" : "") + "report_thread_leaks=0";
#endif
  ServerProcess server(dir_.write("host.conf", config), {}, environment);
  server.start();
  std::thread stuck([&] {
    try {
      server.request("GET", "/stall");  // an hour; cut when the grace period ends
    } catch (const std::exception&) {
    }
  });
  ASSERT_TRUE(eventually([&] {
    return server.request("GET", "/metrics")
               .body.find("busbar_http_worker_jobs_started_total{listener=\"public\"} 1") !=
           std::string::npos;
  }));
  const auto signalled = std::chrono::steady_clock::now();
  server.signal(SIGTERM);
  // 0 s of drain, 1 s of grace, 10 s for the rest.
  ASSERT_TRUE(eventually([&] { return !server.running(); }, std::chrono::seconds(16)))
      << server.output();
  EXPECT_GE(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(11));
  stuck.join();
  EXPECT_EQ(server.stop(), 1) << server.output();
  EXPECT_NE(server.output().find("the stop did not end within 11 s"), std::string::npos)
      << server.output();
  EXPECT_NE(server.output().find("it still waits for the end of the handlers still running on "
                                 "the HTTP workers (1 running); the process ends now"),
            std::string::npos)
      << server.output();
}

TEST_F(OperationsTest, AReloadAppliesTheLogSectionAndRefusesABadOne) {
  const std::string base = sqliteConfig(dir_.path());
  const std::string config = dir_.write("host.conf", base + "[log]\nlevel = information\n");
  ServerProcess server(config);
  server.start();
  ASSERT_EQ(server.request("PUT", "/users/carol", R"({"name":"C"})").status, 201);
  EXPECT_EQ(server.output().find("applied UserWasCreated"), std::string::npos);

  // The new process reads the whole config, [log] with it.
  dir_.write("host.conf", base + "[log]\nlevel = debug\n");
  server.signal(SIGHUP);
  ASSERT_EQ(server.followHandover(), 0) << server.failureReport();
  ASSERT_EQ(withRequestId(server.port(), "PUT", "/users/carol", R"({"name":"C2"})", "after-reload")
                .status,
            200);
  EXPECT_TRUE(eventually([&] {
    return server.output().find("applied UserWasUpdated") != std::string::npos;
  })) << server.output();
  EXPECT_NE(server.output().find("request_id=after-reload"), std::string::npos);

  dir_.write("host.conf", base + "[log]\nlevel = loud\n");
  server.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] {
    return server.output().find("reload failed, this process serves on") != std::string::npos;
  })) << server.output();
  EXPECT_NE(server.output().find("[log] level must be one of"), std::string::npos);
  EXPECT_EQ(server.request("GET", "/users/carol").status, 200);
  EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST_F(OperationsTest, SystemdHearsReadyWatchdogAndStopping) {
  NotifySocket systemd(dir_.path() + "/notify");
  const std::string& received = systemd.receive();
  auto receive = [&] { return systemd.receive(); };
  ServerProcess server(dir_.write("host.conf", sqliteConfig(dir_.path())), {},
                       {{"NOTIFY_SOCKET", systemd.path()}, {"WATCHDOG_USEC", "600000"}});
  server.start();
  EXPECT_TRUE(eventually([&] {
    return receive().find("WATCHDOG=1|WATCHDOG=1|") != std::string::npos;
  })) << received;
  EXPECT_EQ(
      received.rfind("READY=1\nSTATUS=serving on 127.0.0.1:" + std::to_string(server.port()), 0),
      0u)
      << received;
  EXPECT_EQ(server.stop(), 0) << server.output();
  receive();
  EXPECT_NE(received.find("STOPPING=1"), std::string::npos) << received;
}

}  // namespace
}  // namespace busbar::testing
