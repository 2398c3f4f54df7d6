// The chaos fixture's cluster, the faults it injects and the probes between its servers
// (chaos_fixture.h).
#include "chaos_fixture.h"

#include <atomic>
#include <fstream>

#include <Poco/Environment.h>

namespace busbar::testing {

std::string serverId(const ServerProcess& server) {
  return Poco::Environment::nodeName() + ":" + std::to_string(server.port());
}

std::string healthOf(const ServerProcess& server) {
  try {
    return server.request("GET", "/health").body;
  } catch (const std::exception& error) {
    return std::string("unanswered (") + error.what() + ")";
  }
}

std::string tail(const std::string& log) {
  return log.size() > 20000 ? log.substr(log.size() - 20000) : log;
}

std::string linesWith(const std::string& log, const std::string& text) {
  std::istringstream lines(log);
  std::string found;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(text) != std::string::npos) found += line + "\n";
  }
  return found;
}

void Chaos::startCluster(bool first_through_proxy, const std::vector<BrokerAddress>& broker_nodes,
                         const std::string& amqp, const std::string& event_log) {
  ClusterOptions options;
  options.broker_nodes = broker_nodes;
  options.event_bus = "async_pass_through = true\ncatch_up_interval = 1s\n";
  options.amqp = "queue_capacity = 20\n" + amqp;  // small: a blocked broker overflows it at once
  options.sections =
      "[event_log]\nrelay_delay = 2s\n" + event_log +
      "[event_recorder]\n[audit]\n[consistency]\nbound = " + std::to_string(kObserverBoundSeconds) +
      "s\n";
  options.modules = {"event_recorder", "audit"};
  options.private_database = true;
  cluster_ = new AmqpCluster(options);
  observer_queue_ = cluster_->exchange() + ".observer";
  RawAmqpClient observer(cluster_->broker());
  observer.declareExchange(cluster_->exchange());
  observer.declareDurableQueueBoundTo(observer_queue_, cluster_->exchange());
  const bool proxied = first_through_proxy && cluster_->privateDatabase() != nullptr;
  if (proxied) {
    auto keys = cluster_->privateDatabase()->storageKeys();
    proxy_ = std::make_unique<TcpProxy>(keys.at("host"), std::stoi(keys.at("port")),
                                        cluster_->storage() == "mysql"
                                            ? CommitFinder::Protocol::kMysql
                                            : CommitFinder::Protocol::kPostgresql);
    proxy_->start();
    servers_.push_back(&cluster_->startServerThrough(proxy_->port()));
  }
  while (servers_.size() < 3) servers_.push_back(&cluster_->startServer());
  reader_ = &cluster_->startDatabaseReader();
}

void Chaos::TearDownTestSuite() {
  std::ostringstream report;
  for (const auto& [fault, worst] : worst_) {
    report << fault << "," << cluster_->storage() << "," << worst.rounds << ","
           << worst.converge.count() << "\n";
    std::cout << "chaos: " << fault << " on " << cluster_->storage() << ": " << worst.rounds
              << " rounds, worst time to converge " << worst.converge.count() << " ms\n";
  }
  if (const char* file = std::getenv("BUSBAR_CHAOS_REPORT")) {
    std::ofstream(file, std::ios::app) << report.str();
  }
  ObserverFigures observed = observed_before_restarts_;
  for (const auto& [port, figures] : observed_) {
    observed.samples += figures.samples;
    observed.inconsistencies += figures.inconsistencies;
  }
  // Nothing counted means something only if the observers compared rows.
  EXPECT_GT(observed.samples, 0u) << "the consistency observers compared no row";
  std::cout << "chaos: consistency observers on " << cluster_->storage() << ": " << observed.samples
            << " rows compared, " << observed.inconsistencies
            << " inconsistent past the bound, of which " << excused_inconsistencies_
            << " counted by a member catching up after it was out longer than the bound\n";
  if (const char* file = std::getenv("BUSBAR_CHAOS_OBSERVER_REPORT")) {
    std::ofstream(file, std::ios::app) << cluster_->storage() << "," << observed.samples << ","
                                       << observed.inconsistencies << "\n";
  }
  // A process may run suites of both fixtures (pause.<backend>): each reports its own faults.
  worst_.clear();
  observed_.clear();
  observed_before_restarts_ = {};
  excused_inconsistencies_ = 0;
  delete cluster_;
  cluster_ = nullptr;
  servers_.clear();
  proxy_.reset();
}

void Chaos::SetUp() {
  for (ServerProcess* server : servers_) {
    if (!server->running()) server->start();
  }
}

void Chaos::freezeOnStatement(ServerProcess& victim, const std::string& statement,
                              std::chrono::seconds within, CommitFinder::Matcher watch) {
  ASSERT_TRUE(proxy_) << "needs the victim behind the proxy (mysql or postgresql)";
  const pid_t pid = victim.pid();
  auto frozen = std::make_shared<std::atomic<bool>>(false);
  auto stopped = std::make_shared<std::atomic<bool>>(false);
  TcpProxy& proxy = *proxy_;
  proxy.afterStatement(
      [statement](const std::string& sql) { return sql.find(statement) != std::string::npos; },
      [frozen, stopped, pid, watch, &proxy] {
        // On the proxy's thread: the answer, and whatever the victim sends meanwhile, waits.
        *stopped = stopProcess(pid);
        proxy.afterStatement(watch, nullptr);
        *frozen = true;
      });
  const bool done = eventually([&] { return frozen->load(); }, within);
  if (!done) proxy.afterStatement(nullptr, nullptr);
  if (!done || !stopped->load()) {
    // The hook may have fired after the wait ended: let the victim go either way.
    eventually([&] { return frozen->load(); }, std::chrono::seconds(1));
    victim.signal(SIGCONT);
  }
  ASSERT_TRUE(done) << "the victim sent no statement with \"" << statement << "\" in "
                    << within.count() << " s";
  ASSERT_TRUE(stopped->load()) << "the victim's threads did not all stop within 5 s of SIGSTOP";
}

ServerProcess* Chaos::leaseHolder() {
  for (ServerProcess* server : servers_) {
    auto health = parseJson(server->request("GET", "/health").body);
    auto relay = health->getObject("event_log")->getObject("relay");
    if (relay && relay->getValue<bool>("holds_lease")) return server;
  }
  return nullptr;
}

void Chaos::probe(ServerProcess& from, ServerProcess& to, const std::string& id, Service& service,
                  std::chrono::milliseconds within) {
  const auto started = Clock::now();
  bool served = false;
  try {
    const bool written = from.request("PUT", "/users/" + id, R"({"name":"probe"})").status == 201;
    service.worst_write =
        std::max(service.worst_write,
                 std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started));
    if (written) {
      served = eventually([&] { return to.request("GET", "/users/" + id).status == 200; }, within);
    }
  } catch (const std::exception&) {
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  ++service.probes;
  service.worst = std::max(service.worst, took);
  if (!served || took > within) {
    if (service.late++ == 0) {
      service.first_late = id + " written on " + std::to_string(from.port()) + ", not on " +
                           std::to_string(to.port()) + " after " + std::to_string(took.count()) +
                           " ms";
    }
  }
}

Service Chaos::probeFor(ServerProcess& a, ServerProcess& b, std::chrono::seconds length,
                        const std::string& tag) {
  Service service;
  const auto until = Clock::now() + length;
  for (int n = 0; Clock::now() < until; ++n) {
    const bool forth = n % 2 == 0;
    probe(forth ? a : b, forth ? b : a, tag + "-probe-" + std::to_string(n), service);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return service;
}

void Chaos::expectServed(const Service& service, const std::string& fault,
                         std::chrono::milliseconds within) {
  std::cout << "probes: " << fault << " on " << cluster_->storage() << ": " << service.probes
            << " probes, worst " << service.worst.count() << " ms (the PUT alone "
            << service.worst_write.count() << " ms)\n";
  EXPECT_EQ(service.late, 0) << fault << ": " << service.late << " of " << service.probes
                             << " probes were not served within " << within.count()
                             << " ms; the first: " << service.first_late;
}

}  // namespace busbar::testing
