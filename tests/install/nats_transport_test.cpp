// examples/nats-transport as a third party ships it: nats.so built out of tree against the
// installed SDK (install.examples), loaded by the installed busbar, carrying events through a
// real nats-server with JetStream. The servers are real busbar processes; NATS is the run's
// (scripts/services/nats.sh, BUSBAR_TEST_NATS_URL), each test under a stream and subject prefix
// of its own below BUSBAR_TEST_NATS_PREFIX, which `nats.sh cleanup` deletes, except the
// restart test, which runs a nats-server of its own that it may stop.
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include "process_stop.h"
#include "server_process.h"

namespace busbar::testing {
namespace {

const std::string kPrefix = BUSBAR_INSTALL_PREFIX;
const std::string kExamplePlugins = BUSBAR_EXAMPLE_PLUGINS;
// The test modules of this build (event_recorder), built against the same SDK.
const std::string kTestModules = BUSBAR_TEST_MODULES;
constexpr std::chrono::seconds kDeadline{10};

Poco::JSON::Object::Ptr parseObject(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

std::string randomHex() {
  std::random_device random;
  char text[16];
  std::snprintf(text, sizeof text, "%08x", static_cast<unsigned>(random()));
  return text;
}

std::string natsServerBinary() {
  for (const char* path : {"/usr/sbin/nats-server", "/usr/bin/nats-server"}) {
    if (Poco::File(path).exists()) return path;
  }
  throw std::runtime_error("nats-server is not installed (scripts/install-deps installs it)");
}

// The installed busbar, run by the test support's launcher so that it never outlives the test.
class Server {
 public:
  Server(const std::string& config, const std::string& consume, const std::string& dir)
      : port_(freePort()),
        admin_port_(freePort()),
        process_(kPrefix + "/bin/busbar", arguments(config, consume), dir) {}

  // Starts it and waits until GET /health answers; throws with its output when it does not.
  void start() {
    process_.start();
    bool up = eventually(
        [this] {
          if (!process_.running()) return true;
          try {
            return httpRequest(port_, "GET", "/health").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        std::chrono::seconds(20));
    if (!up || !process_.running()) {
      throw std::runtime_error("busbar did not start; its output:\n" + process_.output());
    }
  }

  HttpResult request(const std::string& method, const std::string& path,
                     const std::string& body = "") const {
    return httpRequest(port_, method, path, body);
  }
  HttpResult admin(const std::string& path) const { return httpRequest(admin_port_, "GET", path); }

  // The name of user `id` as this server answers it, "" when it does not have it.
  std::string nameOf(const std::string& id) const {
    HttpResult result = request("GET", "/users/" + id);
    if (result.status != 200) return "";
    return parseObject(result.body)->getValue<std::string>("name");
  }

  // Events this server's subscribers heard (GET /health events.delivered).
  int64_t delivered() const {
    return parseObject(request("GET", "/health").body)
        ->getObject("events")
        ->getValue<int64_t>("delivered");
  }

  void signal(int signal) const { process_.signal(signal); }
  pid_t pid() const { return process_.pid(); }
  int stop() { return process_.stop(); }
  std::string output() const { return process_.output(); }

 private:
  std::vector<std::string> arguments(const std::string& config, const std::string& consume) const {
    std::vector<std::string> args = {"--config",     config,
                                     "--bind",       "127.0.0.1:" + std::to_string(port_),
                                     "--admin-bind", "127.0.0.1:" + std::to_string(admin_port_)};
    if (!consume.empty()) args.insert(args.end(), {"--exchange", consume});
    return args;
  }

  int port_;
  int admin_port_;
  ChildProcess process_;
};

// Servers of one test on the nats transport, under a stream and subject prefix of the test's own.
class NatsTransportTest : public ::testing::Test {
 protected:
  NatsTransportTest()
      : url_(requireEnv("BUSBAR_TEST_NATS_URL")),
        prefix_(requireEnv("BUSBAR_TEST_NATS_PREFIX") + "_" + randomHex()) {}

  // host.conf for servers on NATS at `url` with users (and `modules`), [nats] extras `nats` and
  // more sections `sections`; the SQLite file `database` (relative to the test's folder).
  std::string config(const std::string& name, const std::string& database,
                     const std::string& modules = "", const std::string& event_bus = "",
                     const std::string& nats = "", const std::string& sections = "") {
    return dir_.write(name + ".conf",
                      "[host]\nplugins = nats, sqlite, users" + modules + "\nplugin_dir = " +
                          kExamplePlugins + ", " + kTestModules + ", " + kPrefix +
                          "/lib/busbar/plugins\n"
                          "[event_bus]\ntransport = nats\n"
                          "exchanges.events = busbar.events\n"
                          "router._all = events\n" +
                          event_bus + "[nats]\nurl = " + url_ + "\nstream_prefix = " + prefix_ +
                          "_\nsubject_prefix = " + prefix_ + ".\n" + nats +
                          "[storage]\ndriver = sqlite\nsqlite.path = " + dir_.path() + "/" +
                          database + "\n" + sections);
  }

  // Starts a server with `config` consuming `consume` ("" for nothing); it lives as long as the
  // test.
  Server& start(const std::string& config, const std::string& consume = "events") {
    servers_.push_back(std::make_unique<Server>(config, consume, dir_.path()));
    servers_.back()->start();
    return *servers_.back();
  }

  // Every server's output, for a failure's message.
  std::string outputs() const {
    std::string all;
    for (const auto& server : servers_) all += "---- a server's output:\n" + server->output();
    return all;
  }

  std::string url_;
  std::string prefix_;
  TempDir dir_;
  std::vector<std::unique_ptr<Server>> servers_;
};

// README's scenario over NATS: three servers, one database, a write on one read on the others.
// The event log is on, so events travel with their sequence numbers (SequencedTransport), and the
// deadline is below its catch-up's: what the others show came through NATS.
TEST_F(NatsTransportTest, AWriteOnOneOfThreeServersIsReadOnTheOthers) {
  std::string file = config("cluster", "cluster.db", "", "catch_up_interval = 60s\n");
  Server& one = start(file);
  Server& two = start(file);
  Server& three = start(file);
  ASSERT_EQ(one.request("PUT", "/users/alice", R"({"name":"Alice"})").status, 201);
  EXPECT_TRUE(eventually([&] { return two.nameOf("alice") == "Alice"; }, kDeadline)) << outputs();
  EXPECT_TRUE(eventually([&] { return three.nameOf("alice") == "Alice"; }, kDeadline)) << outputs();
  ASSERT_EQ(three.request("PUT", "/users/alice", R"({"name":"Alicia"})").status, 200);
  EXPECT_TRUE(eventually([&] { return one.nameOf("alice") == "Alicia"; }, kDeadline)) << outputs();
  EXPECT_TRUE(eventually([&] { return two.nameOf("alice") == "Alicia"; }, kDeadline)) << outputs();
  // Each server's subscribers heard both events: its own at once, the other through NATS (the
  // consistency observer, which would also repair the caches in the end, delivers nothing).
  for (Server* server : {&one, &two, &three}) {
    EXPECT_TRUE(eventually([&] { return server->delivered() == 2; }, kDeadline))
        << "delivered " << server->delivered() << "\n"
        << outputs();
  }
  EXPECT_EQ(two.stop(), 0) << two.output();
}

// The ids of the events the server's event_recorder module heard, each once.
std::set<std::string> recordedIds(const Server& server) {
  HttpResult recorded = server.request("GET", "/recorded");
  if (recorded.status != 200) throw std::runtime_error("GET /recorded: " + recorded.body);
  std::set<std::string> ids;
  auto heard = parseObject(recorded.body)->getArray("ids");
  for (size_t i = 0; i < heard->size(); ++i) {
    ids.insert(heard->getElement<std::string>(static_cast<unsigned>(i)));
  }
  return ids;
}

// The names in user `id`'s events, in the order server `server`'s subscribers heard them: the
// event recorder's order of event ids, each looked up in the audit log (which lists by time).
std::vector<std::string> heardNames(const Server& server, const std::string& id) {
  HttpResult audit = server.request("GET", "/audit?limit=1000");
  HttpResult recorded = server.request("GET", "/recorded");
  if (audit.status != 200 || recorded.status != 200) {
    throw std::runtime_error("GET /audit: " + audit.body + "; GET /recorded: " + recorded.body);
  }
  std::map<std::string, Poco::JSON::Object::Ptr> payloads;  // by event id
  auto events = parseObject(audit.body)->getArray("events");
  for (size_t i = 0; i < events->size(); ++i) {
    auto event = events->getObject(static_cast<unsigned>(i));
    payloads[event->getValue<std::string>("id")] = event->getObject("payload");
  }
  std::vector<std::string> names;
  auto ids = parseObject(recorded.body)->getArray("ids");
  for (size_t i = 0; i < ids->size(); ++i) {
    auto payload = payloads.find(ids->getElement<std::string>(static_cast<unsigned>(i)));
    if (payload != payloads.end() && payload->second->getValue<std::string>("id") == id) {
      names.push_back(payload->second->getValue<std::string>("name"));
    }
  }
  return names;
}

// Each server has its own database and hears only what NATS delivers (no pass-through, no event
// log): every server's subscribers hear every event of both producers, each producer's in the
// order it wrote them.
TEST_F(NatsTransportTest, EveryServerHearsEveryEventInEachProducersOrder) {
  const std::string event_bus = "async_pass_through = false\n";
  const std::string no_log = "[event_log]\nenabled = false\n";
  std::vector<Server*> servers;
  for (const char* name : {"a", "b", "c"}) {
    servers.push_back(&start(
        config(name, std::string(name) + ".db", ", audit, event_recorder", event_bus, "", no_log)));
  }
  // The third is frozen while the others write, so that it takes their events in batches, as a
  // server that falls behind does.
  FrozenProcess frozen(servers[2]->pid(), "the third server");
  const int kWrites = 15;
  std::vector<std::string> expected;
  for (int i = 1; i <= kWrites; ++i) {
    expected.push_back("n" + std::to_string(i));
    std::string body = R"({"name":"n)" + std::to_string(i) + R"("})";
    ASSERT_LT(servers[0]->request("PUT", "/users/pa", body).status, 300);
    ASSERT_LT(servers[1]->request("PUT", "/users/pb", body).status, 300);
  }
  frozen.thaw();
  for (Server* server : servers) {
    EXPECT_TRUE(eventually(
        [&] {
          return heardNames(*server, "pa") == expected && heardNames(*server, "pb") == expected;
        },
        kDeadline))
        << "heard pa: " << ::testing::PrintToString(heardNames(*server, "pa"))
        << "\nheard pb: " << ::testing::PrintToString(heardNames(*server, "pb")) << "\n"
        << outputs();
  }
}

// Two servers share the durable consumer `workers` (--exchange events:workers): each event goes
// to one of them. One is frozen (SIGSTOP) while it holds events it took and never acknowledged,
// then killed (SIGKILL): JetStream delivers them again, after ack_wait, to the other.
TEST_F(NatsTransportTest, EventsADeadSharingConsumerTookGoToTheOther) {
  // No event log, so that only NATS carries events; long pull requests, so that the frozen
  // server's is still open when the writes come.
  std::string file =
      config("shared", "shared.db", "", "", "ack_wait_ms = 3000\nfetch_wait_ms = 60000\n",
             "[event_log]\nenabled = false\n");
  Server& frozen = start(file, "events:workers");
  Server& survivor = start(file, "events:workers");
  Server& writer = start(file, "");
  frozen.signal(SIGSTOP);
  const int kWrites = 20;
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_EQ(writer.request("PUT", "/users/w" + std::to_string(i), R"({"name":"W"})").status, 201);
  }
  // The survivor gets its share at once, not the frozen one's (ack_wait has not passed).
  EXPECT_TRUE(eventually([&] { return survivor.delivered() > 0; }, kDeadline)) << outputs();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int64_t before = survivor.delivered();
  EXPECT_LT(before, kWrites) << "the survivor heard every event: the consumer is not shared";
  frozen.signal(SIGKILL);
  EXPECT_TRUE(eventually([&] { return survivor.delivered() == kWrites; }, kDeadline))
      << "the survivor heard " << survivor.delivered() << " of " << kWrites << "\n"
      << outputs();
  for (int i = 0; i < kWrites; ++i) {
    EXPECT_EQ(survivor.nameOf("w" + std::to_string(i)), "W") << "w" << i;
  }
}

// NATS stops and comes back with its store: the servers reconnect by themselves, report not
// ready meanwhile, publish what was written during the outage, and carry what is written after.
TEST_F(NatsTransportTest, ServersReconnectWhenNatsRestarts) {
  int nats_port = freePort();
  url_ = "nats://127.0.0.1:" + std::to_string(nats_port);
  Poco::File(dir_.path() + "/jetstream").createDirectories();
  ChildProcess nats(natsServerBinary(),
                    {"-a", "127.0.0.1", "-p", std::to_string(nats_port), "-js", "-sd",
                     dir_.path() + "/jetstream"},
                    dir_.path());
  auto natsAnswers = [&] {
    try {
      Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", nats_port));
      return true;
    } catch (const Poco::Exception&) {
      return false;
    }
  };
  nats.start();
  ASSERT_TRUE(eventually(natsAnswers, kDeadline)) << nats.output();

  std::string file = config("restart", "restart.db", ", event_recorder", "",
                            "reconnect_wait_ms = 100\n", "[event_log]\nenabled = false\n");
  Server& one = start(file);
  Server& two = start(file);
  ASSERT_EQ(one.request("PUT", "/users/before", R"({"name":"B"})").status, 201);
  ASSERT_TRUE(eventually([&] { return two.nameOf("before") == "B"; }, kDeadline)) << outputs();

  ASSERT_EQ(one.admin("/readyz").status, 200) << one.admin("/readyz").body;
  nats.stop();  // nats-server exits 1 on SIGTERM
  EXPECT_TRUE(eventually([&] { return one.admin("/readyz").status == 503; }, kDeadline))
      << "GET /readyz does not see NATS gone: " << one.admin("/readyz").body;
  ASSERT_EQ(one.request("PUT", "/users/during", R"({"name":"D"})").status, 201);

  nats.start();
  EXPECT_TRUE(eventually([&] { return one.admin("/readyz").status == 200; }, kDeadline))
      << one.admin("/readyz").body << "\n"
      << outputs();
  EXPECT_TRUE(eventually([&] { return two.nameOf("during") == "D"; }, kDeadline)) << outputs();
  ASSERT_EQ(two.request("PUT", "/users/after", R"({"name":"A"})").status, 201);
  EXPECT_TRUE(eventually([&] { return one.nameOf("after") == "A"; }, kDeadline)) << outputs();
  ASSERT_EQ(one.request("PUT", "/users/after", R"({"name":"A2"})").status, 200);
  EXPECT_TRUE(eventually([&] { return two.nameOf("after") == "A2"; }, kDeadline)) << outputs();
  // Every event reached both servers' subscribers, the other's through NATS: at least once (a
  // message whose acknowledgement NATS lost as it stopped comes again).
  for (Server* server : {&one, &two}) {
    EXPECT_TRUE(eventually([&] { return recordedIds(*server).size() == 4; }, kDeadline))
        << "heard " << recordedIds(*server).size() << " of the 4 events\n"
        << outputs();
  }
}

// The installed transport suite, as a third party runs it on its plugin: every contract applies
// to a transport over a broker (none skipped), and the suite's proxy reaches NATS through the
// url [conformance] gives. A short ack wait, so that what a stopped member held comes back soon.
TEST_F(NatsTransportTest, TheInstalledConformanceSuitePasses) {
  const std::string file =
      dir_.write("conformance.conf",
                 "[event_bus]\nexchanges.events = busbar.conformance.events\n"
                 "[nats]\nurl = " +
                     url_ + "\nstream_prefix = " + prefix_ + "_\nsubject_prefix = " + prefix_ +
                     ".\nack_wait_ms = 2000\n"
                     "[conformance]\nbroker = " +
                     Poco::Net::SocketAddress(url_.substr(url_.find("//") + 2)).toString() +
                     "\nthrough_proxy.url = nats://127.0.0.1:{proxy_port}\n");
  std::string output;
  EXPECT_EQ(runShell(kPrefix + "/bin/busbar-conformance transport --plugin nats --config " + file +
                         " --plugin-dir " + kExamplePlugins + " 2>&1",
                     output),
            0)
      << output;
  EXPECT_NE(output.find("[  PASSED  ]"), std::string::npos) << output;
  EXPECT_EQ(output.find("[  FAILED  ]"), std::string::npos) << output;
  EXPECT_EQ(output.find("SKIPPED"), std::string::npos) << output;
}

}  // namespace
}  // namespace busbar::testing
