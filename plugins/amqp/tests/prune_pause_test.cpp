// The relay lease holder frozen inside its prune, once it read the log's head and its first young
// event (what its limit comes from) and before its deletes, while the database is restored from a
// dump and writes go on: once it resumes, its deletes, fenced by the lease row it held
// (EventLogStorage2::prune2, docs/events.md), delete nothing. Unfenced, its limit, read from the
// log before the restore, would delete every event the live servers logged after it.
//
// MariaDB and PostgreSQL only: the holder reaches the database through the proxy, which freezes
// it on its prune's statement. The cluster keeps the fewest events the host allows
// (retention_events = 1000) and prunes every 5 s (prune_interval), so that a prune has something
// to delete and comes soon; it is a cluster of its own, as the pause suite's faults run with the
// default retention. A round freezes the holder for up to about 10 s, whatever
// BUSBAR_CHAOS_PAUSES says; BUSBAR_PAUSE_ROUNDS caps its 20 rounds.
#include <atomic>
#include <mutex>
#include <string>

#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

#include "chaos_fixture.h"

namespace busbar::testing {
namespace {

constexpr uint64_t kRetention = 1000;  // [event_log] retention_events, the least allowed
// Events logged between the dump and the restore: the frozen prune keeps only the newest
// kRetention of them, so its limit lies past the restored head by this less kRetention.
constexpr uint64_t kLoggedAfterTheDump = 2500;
// Events logged after the restore, each under the frozen prune's limit. Fewer than kRetention,
// so that the prune of the server that takes the lease over keeps every one of them.
constexpr uint64_t kLoggedAfterTheRestore = 300;
static_assert(kLoggedAfterTheRestore < kLoggedAfterTheDump - kRetention);
static_assert(kLoggedAfterTheRestore < kRetention);
// The relay prunes every kPruneInterval; the freeze waits for one.
constexpr std::chrono::seconds kPruneInterval{5};
constexpr std::chrono::seconds kPruneWithin = 3 * kPruneInterval;

// The prepared statements a proxied server runs, as the proxy's thread sees them (CommitFinder),
// between lines of the test's own, each with the wall clock's time (to compare with the
// database's log); thread-safe.
class StatementsSeen {
 public:
  void add(const std::string& sql) { line(sql); }
  void mark(const std::string& what) { line("-- " + what); }
  std::string text() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }

 private:
  void line(const std::string& text) {
    const std::string now = Poco::DateTimeFormatter::format(Poco::Timestamp(), "%H:%M:%S.%i");
    std::lock_guard<std::mutex> lock(mutex_);
    text_ += now + " " + text + "\n";
  }

  mutable std::mutex mutex_;
  std::string text_;
};

bool isPrunesDelete(const std::string& sql) {
  return sql.rfind("DELETE FROM busbar_events WHERE seq <", 0) == 0;
}

// What a round leaves as it found it, however it ends: the victim let go (a process left frozen
// would stop the next round and the teardown), the database's statement log off.
class RoundScope {
 public:
  RoundScope(ServerProcess& victim, PrivateDatabase& database)
      : victim_(victim), database_(database) {
    database_.logStatements(true);
  }
  ~RoundScope() {
    victim_.signal(SIGCONT);
    try {
      database_.logStatements(false);
    } catch (const std::exception& error) {
      ADD_FAILURE() << "the database's statement log stays on: " << error.what();
    }
  }

 private:
  ServerProcess& victim_;
  PrivateDatabase& database_;
};

class FrozenPrunes : public Chaos {
 protected:
  static void SetUpTestSuite() {
    startCluster(true, {}, "",
                 "retention_events = " + std::to_string(kRetention) +
                     "\nprune_interval = " + std::to_string(kPruneInterval.count()) + "s\n");
  }

  static uint64_t head() {
    return std::stoull(cluster_->query("SELECT seq FROM busbar_event_head WHERE id = 1"));
  }

  static std::string leaseRowHolder() {
    std::string holder = cluster_->query("SELECT holder FROM busbar_event_relay WHERE id = 1");
    while (!holder.empty() && holder.back() == '\n') holder.pop_back();
    return holder;
  }

  static std::string serverIdOf(ServerProcess& server) {
    return parseJson(server.request("GET", "/health").body)->getValue<std::string>("server_id");
  }

  // Waits until no event of the log waits for a broker's confirmation: a prune keeps every event
  // from the first unconfirmed one, which would keep what this test needs deletable.
  void waitUntilEveryEventIsConfirmed(const std::string& when) {
    std::string left;
    const bool confirmed = eventually(
        [&] {
          left = cluster_->query("SELECT COUNT(*) FROM busbar_events WHERE published <> 1");
          return std::stoull(left) == 0;
        },
        std::chrono::seconds(20));
    ASSERT_TRUE(confirmed) << when << ": " << left << " events still unconfirmed after 20 s";
  }

  // Makes `server` the relay lease holder: the others are frozen until it has taken the lease
  // (after the lease timeout), then go on.
  void makeLeaseHolder(ServerProcess& server) {
    const std::string id = serverIdOf(server);
    if (leaseRowHolder() == id) return;
    std::vector<std::unique_ptr<FrozenProcess>> others;
    for (ServerProcess* other : servers_) {
      if (other != &server)
        others.push_back(std::make_unique<FrozenProcess>(other->pid(), "a server"));
    }
    const bool took = eventually([&] { return leaseRowHolder() == id; }, std::chrono::seconds(20));
    others.clear();
    ASSERT_TRUE(took) << id << " did not take the relay lease within 20 s; the lease row says "
                      << leaseRowHolder();
  }

  // The deletes of the event log, the restore's drops of tables and the lease's writes (every
  // holder's beats) that reached `database` in this round, each with its time and session.
  static std::string changesLogged(const PrivateDatabase& database) {
    return database.loggedStatements(
        {"DELETE FROM busbar_events", "DROP TABLE IF EXISTS", "UPDATE busbar_event_relay"});
  }

  // Writes new users on `on` until the log's head passes `seq`.
  void logUntil(std::vector<ServerProcess*> on, uint64_t seq, const std::string& tag,
                std::vector<std::string>& acknowledged) {
    Writers writers(std::move(on), 6, tag);
    const bool logged = eventually([&] { return head() >= seq; }, std::chrono::seconds(60));
    writers.stop();
    for (const auto& id : writers.acknowledged()) acknowledged.push_back(id);
    ASSERT_TRUE(logged) << tag << ": the log's head reached " << head() << ", not " << seq
                        << ", in 60 s";
  }
};

TEST_F(FrozenPrunes, AHolderFrozenInItsPruneAcrossARestoreDeletesNothingLoggedAfterIt) {
  ASSERT_NE(cluster_->storage(), "sqlite") << "the proxy is in front of a database server only";
  ServerProcess& victim = *servers_[0];
  const std::string victim_id = serverIdOf(victim);
  const std::string dump = cluster_->folder() + "/dump";
  const std::string fault = "relay lease holder frozen in its prune across a restore";
  for (int round = 0; round < pauseRounds(20); ++round) {
    const std::string tag = "prunefence" + std::to_string(round);
    std::vector<std::string> lost_to_the_restore;
    std::vector<std::string> acknowledged;
    makeLeaseHolder(victim);
    if (HasFailure()) return;
    // When each statement that changes data reached the database, for a failure to show whether
    // the holder's delete came before or after the restore. On from here: a session applies the
    // new setting only once it is idle again after the reload.
    PrivateDatabase& database = *cluster_->privateDatabase();
    RoundScope scope(victim, database);
    // What the restore puts back: every event confirmed, the lease row of this moment.
    waitUntilEveryEventIsConfirmed("before the dump");
    if (HasFailure()) return;
    const uint64_t restored_head = head();
    cluster_->dumpDatabase(dump);
    logUntil(servers_, restored_head + kLoggedAfterTheDump, tag, lost_to_the_restore);
    waitUntilEveryEventIsConfirmed("before the prune");
    if (HasFailure()) return;

    // The young-events read is the prune's second of four; the holder's limit is set from the
    // log's head by then. What the holder runs from then on, for a failure to show where its
    // prune went: while it is frozen, only what its other threads sent before they stopped.
    auto ran = std::make_shared<StatementsSeen>();
    auto deleted_while_frozen = std::make_shared<std::atomic<bool>>(false);
    freezeOnStatement(victim, "AND logged_at >=", kPruneWithin,
                      [ran, deleted_while_frozen](const std::string& sql) {
                        ran->add(sql);
                        if (isPrunesDelete(sql)) *deleted_while_frozen = true;
                        return false;
                      });
    if (HasFailure()) return;
    const auto frozen_at = Clock::now();
    TcpProxy& proxy = *proxy_;
    ran->mark("frozen; restoring");
    cluster_->restoreDatabase(dump);
    ran->mark("restored");
    // Even rounds resume the holder once another server took the lease over (the fence's holder
    // decides); odd rounds as soon as the live servers' events are confirmed, mostly before the
    // lease timeout, when the restored lease row still names the holder with an earlier beat
    // (the beat decides). The line printed below says which.
    if (round % 2 == 0) {
      const bool taken_over =
          eventually([&] { return leaseRowHolder() != victim_id; }, std::chrono::seconds(20));
      ASSERT_TRUE(taken_over) << fault << ": no server took the relay lease over within 20 s";
    }
    logUntil({servers_[1], servers_[2]}, restored_head + kLoggedAfterTheRestore, tag + "-after",
             acknowledged);
    waitUntilEveryEventIsConfirmed("after the restore");
    const uint64_t head_before_resuming = head();
    const std::string holder_at_resume = leaseRowHolder();
    // The prune's delete statement, then the lease read of the relay's next round, which it sends
    // only once the prune returned (the delete ran or was refused).
    auto deleted = std::make_shared<std::atomic<bool>>(false);
    auto returned = std::make_shared<std::atomic<bool>>(false);
    EXPECT_FALSE(deleted_while_frozen->load())
        << fault << ": the holder's prune deleted while it was frozen (the freeze came late):\n"
        << ran->text();
    ran->mark("logged after the restore; resuming the holder");
    proxy.afterStatement(
        [ran](const std::string& sql) {
          ran->add(sql);
          return isPrunesDelete(sql);
        },
        [deleted, returned, &proxy] {
          *deleted = true;
          proxy.afterStatement(
              [](const std::string& sql) {
                return sql.rfind("SELECT * FROM", 0) == 0 &&
                       sql.find("busbar_event_relay") != std::string::npos;
              },
              [returned] { *returned = true; });
        });
    victim.signal(SIGCONT);
    if (HasFailure()) return;
    const auto out = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - frozen_at);
    const bool prune_returned =
        eventually([&] { return returned->load(); }, std::chrono::seconds(10));
    proxy.afterStatement(nullptr, nullptr);
    // Checked before the guarantee, not instead of it: a holder whose prune went unseen may still
    // have deleted what it must not.
    EXPECT_TRUE(prune_returned) << fault << ": the resumed holder "
                                << (deleted->load() ? "sent its prune's delete but no relay round "
                                                      "followed"
                                                    : "sent no delete of its prune")
                                << " within 10 s: " << healthOf(victim) << "\nits relay's lines:\n"
                                << linesWith(victim.output(), "event relay")
                                << "the statements it ran since it was frozen:\n"
                                << ran->text() << "what reached the database:\n"
                                << changesLogged(database);
    // The new holder's own prune keeps the newest kRetention events: all of these.
    ASSERT_LT(head_before_resuming - restored_head, kRetention);
    const uint64_t kept = std::stoull(cluster_->query(
        "SELECT COUNT(*) FROM busbar_events WHERE seq > " + std::to_string(restored_head)));
    EXPECT_EQ(kept, head_before_resuming - restored_head)
        << fault << ": events numbered after the restore (seq " << restored_head + 1 << " to "
        << head_before_resuming << ") were deleted by the late prune; what reached the database:\n"
        << changesLogged(database);
    if (!prune_returned) return;
    std::cout << "prune fence: " << fault << " on " << cluster_->storage() << ": round " << round
              << ", restored at seq " << restored_head << ", " << kept
              << " events logged after the restore kept, frozen " << out.count()
              << " s, the lease row at resume "
              << (holder_at_resume == victim_id ? "the holder's own from the dump"
                                                : "another server's")
              << "\n";

    expectConverged(fault, kConvergeWithin + out, OutMember{&victim, out});
    expectKept(acknowledged);
    expectEachUsersVersionsInSeqOrder();
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace busbar::testing
