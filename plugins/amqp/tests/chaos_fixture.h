// The chaos suites' cluster and checks: three servers, a database reader, the event recorder and
// the audit module on one database and one exchange, writers that load them, and the checks every
// fault round ends with (every server equals the database within 2 s, no acknowledged write is
// missing, each subscriber got each logged event once and in sequence order, the audit log holds
// every logged event). BUSBAR_CHAOS_ROUNDS caps the rounds of each fault; each fault's rounds and
// worst time to converge are printed, and appended to the CSV file BUSBAR_CHAOS_REPORT when set.
// The cluster, its faults and probes are in chaos_fixture.cpp, the checks in chaos_checks.cpp.
#pragma once

#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

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

// The name busbar gives `server` in its broker connections and logs: host:port.
std::string serverId(const ServerProcess& server);

// GET /health of a server that differs: where its event log's follower, sequencer and relay
// stand (a follower stuck on the database says nothing in the log).
std::string healthOf(const ServerProcess& server);

// The end of a server's log: what it did last.
std::string tail(const std::string& log);

// The lines of `log` that contain `text`.
std::string linesWith(const std::string& log, const std::string& text);

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
                           const std::string& amqp = "", const std::string& event_log = "");
  static void TearDownTestSuite();

  void SetUp() override;

  // Freezes `victim` (SIGSTOP), which reaches the database through proxy_, the moment it has sent
  // a prepared statement whose SQL holds `statement`: every thread of it is stopped before the
  // proxy forwards the answer, so the statement's thread goes no further. From then on, `watch`
  // (when given) sees every prepared statement the proxy forwards, those the other threads sent
  // before they stopped included. Fails, with the victim let go, when it sends no such statement
  // within `within` or its threads did not all stop.
  void freezeOnStatement(ServerProcess& victim, const std::string& statement,
                         std::chrono::seconds within, CommitFinder::Matcher watch = nullptr);

  // The server that holds the relay lease, as its /health says.
  ServerProcess* leaseHolder();

  // Writes a new user on `from` and waits for `to` to serve it; records how long it took.
  void probe(ServerProcess& from, ServerProcess& to, const std::string& id, Service& service,
             std::chrono::milliseconds within = kServedWithin);

  // Probes between `a` and `b`, both ways in turn, for `length`.
  Service probeFor(ServerProcess& a, ServerProcess& b, std::chrono::seconds length,
                   const std::string& tag);

  // No probe of `service` waited past `within`; prints the worst.
  void expectServed(const Service& service, const std::string& fault,
                    std::chrono::milliseconds within = kServedWithin);

  // Waits until every server's users equal the database's; fails after `within` (2 s). Records
  // the time. `member`: the one the fault took out (expectObserversCountedNothing).
  void expectConverged(const std::string& fault, std::chrono::milliseconds within = kConvergeWithin,
                       OutMember member = {});

  // Every server's consistency observer agrees with the comparison above: since the last look it
  // found no row that stayed stale past its bound (a server restarted by the fault counts from its
  // restart). The member that was out longer than the bound is excused: what it counted while it
  // caught up is reported, not failed (its bound is 2 s plus the time out, docs/events.md).
  void expectObserversCountedNothing(const std::string& fault, OutMember member = {});

  // A user written before the dump, then changed and a second one added after it: the restore
  // takes both changes away on every server, and writes go on from the restored state.
  void expectRestoreRound(const std::string& tag, const std::string& fault,
                          const std::function<void()>& dump, const std::function<void()>& restore);

  // Every acknowledged write is in the database.
  void expectKept(const std::vector<std::string>& acknowledged);

  // The log's event ids by seq.
  static std::map<std::string, uint64_t> logged();

  // Each server's subscribers got each logged event once, in sequence order, each key's versions
  // in their order, and since its first one every later event of the log. The relay prunes the
  // log's oldest events past `[event_log] retention_events` (a long run writes more than that):
  // the events a server got before the oldest one the log keeps may be gone from it, and only
  // those.
  // `within`: how long a server may take to apply the log's head (a member that was frozen for
  // a minute has a minute of events to apply after it goes on).
  void expectSubscribersSawEachEventOnceInOrder(std::chrono::milliseconds within = kConvergeWithin);

  // In the log, each user's versions come in increasing seq order: the order every subscriber
  // gets them in (expectSubscribersSawEachEventOnceInOrder).
  void expectEachUsersVersionsInSeqOrder();

  // The audit module (run on every server, one table) holds every logged event.
  void expectAuditHoldsEveryEvent();

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
