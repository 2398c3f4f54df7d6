// The chaos suites' cluster and checks: three servers, a database reader, the event recorder and
// the audit module on one database and one exchange, writers that load them, and the checks every
// fault round ends with (every server equals the database within 2 s, no acknowledged write is
// missing, each subscriber got each logged event once and in sequence order, the audit log holds
// every logged event). BUSBAR_CHAOS_ROUNDS caps the rounds of each fault; each fault's rounds and
// worst time to converge are printed, and appended to the CSV file BUSBAR_CHAOS_REPORT when set.
#pragma once

#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <Poco/Environment.h>
#include <Poco/JSON/Array.h>

#include "amqp_cluster.h"
#include "busbar/abi.h"
#include "process_stop.h"
#include "tcp_proxy.h"
#include "writers.h"

namespace busbar::testing {

using Clock = std::chrono::steady_clock;
inline constexpr std::chrono::milliseconds kConvergeWithin{2000};
// The sanitizer build runs two to three times slower: it checks memory and undefined behaviour
// under the same faults, with twice the time; the default build holds the bound.
#if defined(BUSBAR_SANITIZES_ADDRESS)
inline constexpr int kSlowdown = 2;
#else
inline constexpr int kSlowdown = 1;
#endif
// A write on one live server is served by the other live servers within this while a member is
// frozen or cut off (docs/events.md).
inline constexpr std::chrono::milliseconds kServedWithin{2000 * kSlowdown};
// The consistency observer's bound in the fault suites: the longest propagation bound of
// docs/events.md (a write of a server cut off from the broker, 3 s), twice on the sanitizer build.
#if defined(BUSBAR_SANITIZES_ADDRESS)
inline constexpr int kObserverBoundSeconds = 6;
#else
inline constexpr int kObserverBoundSeconds = 3;
#endif

inline int rounds(int full) {
  const char* cap = std::getenv("BUSBAR_CHAOS_ROUNDS");
  int most = cap != nullptr ? std::atoi(cap) : 0;
  return most > 0 ? std::min(full, most) : full;
}

// The rounds of a pause fault (pause_test.cpp, prune_pause_test.cpp): `full`, capped by
// BUSBAR_PAUSE_ROUNDS and BUSBAR_CHAOS_ROUNDS.
inline int pauseRounds(int full) {
  const char* cap = std::getenv("BUSBAR_PAUSE_ROUNDS");
  const int most = cap != nullptr ? std::atoi(cap) : 0;
  return rounds(most > 0 ? std::min(full, most) : full);
}

inline std::string serverId(const ServerProcess& server) {
  return Poco::Environment::nodeName() + ":" + std::to_string(server.port());
}

// Sets a broker-wide memory alarm (publishers are blocked, consumers are not) until it goes.
class MemoryAlarm {
 public:
  MemoryAlarm() { rabbitmqctl({"-q", "set_vm_memory_high_watermark", "0"}); }
  ~MemoryAlarm() { clear(); }
  void clear() {
    if (cleared_) return;
    cleared_ = true;
    rabbitmqctl({"-q", "set_vm_memory_high_watermark", "0.4"});
  }

 private:
  bool cleared_ = false;
};

// Asks the broker to close the AMQP connection named `name` (as busbar names them).
inline void closeConnection(const std::string& name) {
  std::istringstream lines(rabbitmqctl({"-q", "list_connections", "pid", "client_properties"}));
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"" + name + "\"") == std::string::npos) continue;
    std::string pid = line.substr(0, line.find_first_of(" \t"));
    rabbitmqctl({"-q", "close_connection", pid, "closed by the chaos test"});
    return;
  }
  throw std::runtime_error("no broker connection named '" + name + "'");
}

// The end of a server's log: what it did last.
// GET /health of a server that differs: where its event log's follower, sequencer and relay
// stand (a follower stuck on the database says nothing in the log).
inline std::string healthOf(const ServerProcess& server) {
  try {
    return server.request("GET", "/health").body;
  } catch (const std::exception& error) {
    return std::string("unanswered (") + error.what() + ")";
  }
}

inline std::string tail(const std::string& log) {
  return log.size() > 20000 ? log.substr(log.size() - 20000) : log;
}

// The lines of `log` that contain `text`.
inline std::string linesWith(const std::string& log, const std::string& text) {
  std::istringstream lines(log);
  std::string found;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(text) != std::string::npos) found += line + "\n";
  }
  return found;
}

// What a server's consistency observer counted (GET /health).
struct ObserverFigures {
  uint64_t samples = 0;
  uint64_t inconsistencies = 0;
};

// The member a fault took out and for how long: while it catches up it serves rows older than the
// observer's bound when it was out longer than that, and its observer rightly counts them.
struct OutMember {
  const ServerProcess* server = nullptr;
  std::chrono::milliseconds out{0};
};

// What the live servers did while one member was out.
struct Service {
  int probes = 0;
  int late = 0;  // not served by the other live server within kServedWithin
  std::chrono::milliseconds worst{0};
  std::chrono::milliseconds worst_write{0};  // of the PUTs alone
  std::string first_late;
};

struct Worst {
  int rounds = 0;
  std::chrono::milliseconds converge{0};
};

class Chaos : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { startCluster(false); }

  // The cluster; with `first_through_proxy` (mysql and postgresql), the first server reaches the
  // database through proxy_, which the test may partition or watch. With `broker_nodes` (a
  // RabbitCluster's), the servers use that cluster, the Nth server connecting to node N first,
  // and the observer queue lives on the last node.
  // `amqp` adds keys to every server's [amqp] section, `event_log` to its [event_log] section.
  static void startCluster(bool first_through_proxy,
                           const std::vector<BrokerAddress>& broker_nodes = {},
                           const std::string& amqp = "", const std::string& event_log = "") {
    ClusterOptions options;
    options.broker_nodes = broker_nodes;
    options.event_bus = "async_pass_through = true\ncatch_up_interval = 1s\n";
    options.amqp = "queue_capacity = 20\n" + amqp;  // small: a blocked broker overflows it at once
    options.sections = "[event_log]\nrelay_delay = 2s\n" + event_log +
                       "[event_recorder]\n[audit]\n[consistency]\nbound = " +
                       std::to_string(kObserverBoundSeconds) + "s\n";
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
  static void TearDownTestSuite() {
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
    std::cout << "chaos: consistency observers on " << cluster_->storage() << ": "
              << observed.samples << " rows compared, " << observed.inconsistencies
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

  void SetUp() override {
    for (ServerProcess* server : servers_) {
      if (!server->running()) server->start();
    }
  }

  // Freezes `victim` (SIGSTOP), which reaches the database through proxy_, the moment it has sent
  // a prepared statement whose SQL holds `statement`: every thread of it is stopped before the
  // proxy forwards the answer, so the statement's thread goes no further. From then on, `watch`
  // (when given) sees every prepared statement the proxy forwards, those the other threads sent
  // before they stopped included. Fails, with the victim let go, when it sends no such statement
  // within `within` or its threads did not all stop.
  void freezeOnStatement(ServerProcess& victim, const std::string& statement,
                         std::chrono::seconds within, CommitFinder::Matcher watch = nullptr) {
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

  // The server that holds the relay lease, as its /health says.
  ServerProcess* leaseHolder() {
    for (ServerProcess* server : servers_) {
      auto health = parseJson(server->request("GET", "/health").body);
      auto relay = health->getObject("event_log")->getObject("relay");
      if (relay && relay->getValue<bool>("holds_lease")) return server;
    }
    return nullptr;
  }

  // Writes a new user on `from` and waits for `to` to serve it; records how long it took.
  void probe(ServerProcess& from, ServerProcess& to, const std::string& id, Service& service,
             std::chrono::milliseconds within = kServedWithin) {
    const auto started = Clock::now();
    bool served = false;
    try {
      const bool written = from.request("PUT", "/users/" + id, R"({"name":"probe"})").status == 201;
      service.worst_write =
          std::max(service.worst_write,
                   std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started));
      if (written) {
        served =
            eventually([&] { return to.request("GET", "/users/" + id).status == 200; }, within);
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

  // Probes between `a` and `b`, both ways in turn, for `length`.
  Service probeFor(ServerProcess& a, ServerProcess& b, std::chrono::seconds length,
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

  void expectServed(const Service& service, const std::string& fault,
                    std::chrono::milliseconds within = kServedWithin) {
    std::cout << "probes: " << fault << " on " << cluster_->storage() << ": " << service.probes
              << " probes, worst " << service.worst.count() << " ms (the PUT alone "
              << service.worst_write.count() << " ms)\n";
    EXPECT_EQ(service.late, 0) << fault << ": " << service.late << " of " << service.probes
                               << " probes were not served within " << within.count()
                               << " ms; the first: " << service.first_late;
  }

  // Waits until every server's users equal the database's; fails after `within` (2 s). Records
  // the time. `member`: the one the fault took out (expectObserversCountedNothing).
  void expectConverged(const std::string& fault, std::chrono::milliseconds within = kConvergeWithin,
                       OutMember member = {}) {
    auto started = Clock::now();
    std::string expected;
    auto converged = [&] {
      expected = allUsersOf(*reader_);
      for (ServerProcess* server : servers_) {
        if (allUsersOf(*server) != expected) return false;
      }
      return true;
    };
    bool ok = eventually(converged, within);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    Worst& worst = worst_[fault];
    ++worst.rounds;
    worst.converge = std::max(worst.converge, took);
    if (ok) {
      expectObserversCountedNothing(fault, member);
      return;
    }
    for (ServerProcess* server : servers_) {
      std::string held = allUsersOf(*server);
      EXPECT_EQ(held, expected) << fault << ": server " << server->port()
                                << " differs from the database after " << within.count() << " ms\n"
                                << tail(server->output()) << "\nits /health: " << healthOf(*server);
    }
    FAIL() << fault << ": not converged within " << within.count() << " ms";
  }

  // Every server's consistency observer agrees with the comparison above: since the last look it
  // found no row that stayed stale past its bound (a server restarted by the fault counts from its
  // restart). The member that was out longer than the bound is excused: what it counted while it
  // caught up is reported, not failed (its bound is 2 s plus the time out, docs/events.md).
  void expectObserversCountedNothing(const std::string& fault, OutMember member = {}) {
    for (ServerProcess* server : servers_) {
      if (!server->running()) continue;
      auto tables = parseJson(server->request("GET", "/health").body)
                        ->getObject("consistency")
                        ->getObject("tables");
      ASSERT_TRUE(tables && tables->getObject("users")) << "no users cache observed";
      const ObserverFigures now{tables->getObject("users")->getValue<uint64_t>("samples"),
                                tables->getObject("users")->getValue<uint64_t>("inconsistencies")};
      ObserverFigures& last = observed_[server->port()];
      uint64_t counted = now.inconsistencies - std::min(now.inconsistencies, last.inconsistencies);
      if (now.samples < last.samples) {  // restarted since
        observed_before_restarts_.samples += last.samples;
        observed_before_restarts_.inconsistencies += last.inconsistencies;
        counted = now.inconsistencies;
      }
      last = now;
      if (server == member.server && member.out > std::chrono::seconds(kObserverBoundSeconds)) {
        excused_inconsistencies_ += counted;
        continue;
      }
      // Which member lagged, and where its event log and its broker consumer stood.
      const auto index = std::find(servers_.begin(), servers_.end(), server) - servers_.begin();
      EXPECT_EQ(counted, 0u) << fault << ": the consistency observer of server " << server->port()
                             << " (servers_[" << index << "]"
                             << (index == 0 && proxy_ ? ", behind the database proxy" : "")
                             << ") counted rows stale for more than " << kObserverBoundSeconds
                             << " s:\n"
                             << linesWith(server->output(), "cache inconsistent")
                             << "its event log lines:\n"
                             << linesWith(server->output(), "event ")
                             << "its broker consumer's lines:\n"
                             << linesWith(server->output(), "consumer")
                             << "its /health now: " << healthOf(*server);
    }
  }

  // Every acknowledged write is in the database.
  // A user written before the dump, then changed and a second one added after it: the restore
  // takes both changes away on every server, and writes go on from the restored state.
  void expectRestoreRound(const std::string& tag, const std::string& fault,
                          const std::function<void()>& dump, const std::function<void()>& restore) {
    ASSERT_EQ(servers_[0]->request("PUT", "/users/" + tag, R"({"name":"before the dump"})").status,
              201);
    expectConverged(fault);
    dump();
    ASSERT_EQ(servers_[1]->request("PUT", "/users/" + tag, R"({"name":"after the dump"})").status,
              200);
    ASSERT_EQ(servers_[1]->request("PUT", "/users/" + tag + "-new", R"({"name":"lost"})").status,
              201);
    expectConverged(fault);
    restore();
    expectConverged(fault);
    for (ServerProcess* server : servers_) {
      EXPECT_EQ(
          parseJson(server->request("GET", "/users/" + tag).body)->getValue<std::string>("name"),
          "before the dump");
      EXPECT_EQ(server->request("GET", "/users/" + tag + "-new").status, 404);
    }
    ASSERT_EQ(
        servers_[2]->request("PUT", "/users/" + tag, R"({"name":"after the restore"})").status,
        200);
    expectConverged(fault);
  }

  void expectKept(const std::vector<std::string>& acknowledged) {
    std::string users = allUsersOf(*reader_);
    size_t missing = 0;
    for (const auto& id : acknowledged) {
      if (users.find("\"id\":\"" + id + "\"") != std::string::npos) continue;
      if (++missing <= 10)
        ADD_FAILURE() << "acknowledged write of " << id << " is not in the database";
    }
    EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged writes";
  }

  // The log's event ids by seq.
  static std::map<std::string, uint64_t> logged() {
    std::map<std::string, uint64_t> seq_of;
    std::istringstream rows(cluster_->query("SELECT seq, event_id FROM busbar_events"));
    for (std::string row; std::getline(rows, row);) {
      auto bar = row.find('|');
      if (bar == std::string::npos) continue;
      seq_of[row.substr(bar + 1)] = std::stoull(row.substr(0, bar));
    }
    return seq_of;
  }

  // Each server's subscribers got each logged event once, in sequence order, each key's versions
  // in their order, and since its first one every later event of the log. The relay prunes the
  // log's oldest events past `[event_log] retention_events` (a long run writes more than that):
  // the events a server got before the oldest one the log keeps may be gone from it, and only
  // those.
  // `within`: how long a server may take to apply the log's head (a member that was frozen for
  // a minute has a minute of events to apply after it goes on).
  void expectSubscribersSawEachEventOnceInOrder(
      std::chrono::milliseconds within = kConvergeWithin) {
    auto seq_of = logged();
    uint64_t head = 0;
    uint64_t oldest = std::numeric_limits<uint64_t>::max();
    for (const auto& [id, seq] : seq_of) {
      head = std::max(head, seq);
      oldest = std::min(oldest, seq);
    }
    const bool pruned = !seq_of.empty() && oldest > 1;
    for (ServerProcess* server : servers_) {
      Poco::JSON::Object::Ptr body;
      Poco::JSON::Array::Ptr ids;
      auto recorded = [&] {
        body = parseJson(server->request("GET", "/recorded").body);
        ids = body->getArray("ids");
        if (ids->size() == 0) return true;
        auto last =
            seq_of.find(ids->getElement<std::string>(static_cast<unsigned>(ids->size() - 1)));
        return last != seq_of.end() && last->second == head;
      };
      // A refreshed cache may equal the database before the deliveries after it have run.
      eventually(recorded, within);
      std::set<std::string> seen;
      uint64_t previous = 0;
      std::vector<uint64_t> seqs;
      size_t pruned_before_first = 0;
      // Each key's versions rise in the order this subscriber got them (docs/events.md's ordering
      // guarantee), checked on what was delivered, not on the log.
      auto keys = body->getArray("keys");
      auto versions = body->getArray("versions");
      ASSERT_EQ(keys->size(), ids->size());
      ASSERT_EQ(versions->size(), ids->size());
      std::map<std::string, int64_t> last_version;
      size_t out_of_version_order = 0;
      for (size_t i = 0; i < ids->size(); ++i) {
        std::string id = ids->getElement<std::string>(static_cast<unsigned>(i));
        EXPECT_TRUE(seen.insert(id).second)
            << "server " << server->port() << " saw " << id << " twice";
        const auto key = keys->getElement<std::string>(static_cast<unsigned>(i));
        const auto version = versions->getElement<int64_t>(static_cast<unsigned>(i));
        if (!key.empty()) {
          auto [last, first] = last_version.emplace(key, version);
          if (!first && version <= last->second && ++out_of_version_order <= 10) {
            ADD_FAILURE() << "server " << server->port() << "'s subscriber got version " << version
                          << " of " << key << " after version " << last->second;
          }
          last->second = version;
        }
        auto found = seq_of.find(id);
        if (found == seq_of.end() && pruned && seqs.empty()) {
          ++pruned_before_first;
          continue;
        }
        ASSERT_NE(found, seq_of.end())
            << "server " << server->port() << " saw " << id << " (its event number " << i
            << "), which is not in the event log"
            << (seqs.empty() ? "" : " although an event it saw earlier is");
        EXPECT_GT(found->second, previous)
            << "server " << server->port() << " saw seq " << found->second << " after " << previous;
        previous = found->second;
        seqs.push_back(found->second);
      }
      if (pruned_before_first > 0) {
        std::cout << "server " << server->port() << ": its first " << pruned_before_first
                  << " events are pruned from the log (it keeps seq " << oldest << " on)\n";
      }
      EXPECT_EQ(out_of_version_order, 0u)
          << "server " << server->port() << "'s subscriber got versions out of their order";
      if (seqs.empty()) continue;
      // Nothing skipped since the first: from there on the log's events, every one.
      EXPECT_EQ(seqs.back(), head) << "server " << server->port() << " is behind the log";
      EXPECT_EQ(seqs.size(), seqs.back() - seqs.front() + 1)
          << "server " << server->port() << " skipped events between seq " << seqs.front()
          << " and " << seqs.back();
    }
  }

  // In the log, each user's versions come in increasing seq order: the order every subscriber
  // gets them in (expectSubscribersSawEachEventOnceInOrder).
  void expectEachUsersVersionsInSeqOrder() {
    std::map<std::string, int64_t> last;  // user id -> version at the highest seq so far
    std::istringstream rows(cluster_->query(
        "SELECT seq, version, payload FROM busbar_events WHERE seq IS NOT NULL ORDER BY seq"));
    size_t out_of_order = 0;
    for (std::string row; std::getline(rows, row);) {
      auto first = row.find('|');
      auto second = row.find('|', first + 1);
      if (first == std::string::npos || second == std::string::npos) continue;
      auto payload = parseJson(row.substr(second + 1));
      if (!payload->has("id")) continue;
      const std::string user = payload->getValue<std::string>("id");
      const int64_t version = std::stoll(row.substr(first + 1, second - first - 1));
      auto found = last.find(user);
      if (found != last.end() && version <= found->second && ++out_of_order <= 10) {
        ADD_FAILURE() << "user " << user << ": version " << version << " at seq "
                      << row.substr(0, first) << " comes after version " << found->second;
      }
      last[user] = version;
    }
    EXPECT_EQ(out_of_order, 0u) << "versions numbered out of their order";
  }

  // The audit module (run on every server, one table) holds every logged event.
  void expectAuditHoldsEveryEvent() {
    std::set<std::string> audited;
    std::istringstream rows(cluster_->query("SELECT event_id FROM audit_log"));
    for (std::string row; std::getline(rows, row);) audited.insert(row);
    for (const auto& [id, seq] : logged()) {
      EXPECT_EQ(audited.count(id), 1u) << "the audit log lacks event " << seq << " (" << id << ")";
    }
  }

  static inline AmqpCluster* cluster_ = nullptr;
  static inline std::vector<ServerProcess*> servers_;
  static inline ServerProcess* reader_ = nullptr;
  static inline std::string observer_queue_;
  static inline std::map<std::string, Worst> worst_;
  // The observers' figures over the suite: per server port, the last seen since its start, and
  // what servers that restarted had counted before.
  static inline std::map<int, ObserverFigures> observed_;
  static inline ObserverFigures observed_before_restarts_;
  static inline uint64_t excused_inconsistencies_ = 0;
  static inline std::unique_ptr<TcpProxy> proxy_;  // before the first server (startCluster)
};

}  // namespace busbar::testing
