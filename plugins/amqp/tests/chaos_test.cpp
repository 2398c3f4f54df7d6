// Chaos: the faults a cluster meets in production, each injected for real, round after round.
// After each fault heals, every server's users must equal the database's within 2 s, no write a
// client saw acknowledged may be missing, each server's subscribers must have got each logged
// event once and in sequence order, the audit example must hold every logged event, and the
// broker must have carried every logged event at least once.
//
// One cluster per run (three servers, a database reader, the event recorder and the audit
// module), on the backend BUSBAR_TEST_STORAGE names; MariaDB and PostgreSQL run a server of the
// cluster's own, so that it can be restarted and restored. BUSBAR_CHAOS_ROUNDS caps the rounds
// of each fault (CI's sanitizer build runs fewer). Each fault's rounds and worst time to
// converge are printed, and appended to the CSV file BUSBAR_CHAOS_REPORT when it is set.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <Poco/Environment.h>
#include <Poco/JSON/Array.h>

#include "amqp_cluster.h"

namespace busbar::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kConvergeWithin{2000};

int rounds(int full) {
  const char* cap = std::getenv("BUSBAR_CHAOS_ROUNDS");
  int most = cap != nullptr ? std::atoi(cap) : 0;
  return most > 0 ? std::min(full, most) : full;
}

std::string serverId(const ServerProcess& server) {
  return Poco::Environment::nodeName() + ":" + std::to_string(server.port());
}

// Writes users of unique ids on a set of servers from several threads until stopped, and keeps
// the ids whose writes were acknowledged (2xx).
class Writers {
 public:
  Writers(std::vector<ServerProcess*> servers, int threads, const std::string& prefix)
      : servers_(std::move(servers)) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t, prefix] {
        ServerProcess& server = *servers_[static_cast<size_t>(t) % servers_.size()];
        for (int n = 0; !stopping_; ++n) {
          std::string id = prefix + "-" + std::to_string(t) + "-" + std::to_string(n);
          try {
            HttpResult result = server.request("PUT", "/users/" + id, R"({"name":"chaos"})");
            if (result.status / 100 == 2) {
              std::lock_guard<std::mutex> lock(mutex_);
              acknowledged_.push_back(id);
            }
          } catch (const std::exception&) {
            // The server is down: the write is not acknowledged, nothing to check.
          }
          ++attempts_;
          // A steady load rather than a flood: the checks read every user back each round.
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      });
    }
  }
  ~Writers() { stop(); }
  void stop() {
    stopping_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  // Waits until `count` more writes were attempted.
  void waitFor(int count) {
    int target = attempts_ + count;
    eventually([&] { return attempts_ >= target; }, std::chrono::seconds(30));
  }
  std::vector<std::string> acknowledged() {
    std::lock_guard<std::mutex> lock(mutex_);
    return acknowledged_;
  }

 private:
  std::vector<ServerProcess*> servers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> attempts_{0};
  std::mutex mutex_;
  std::vector<std::string> acknowledged_;
};

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
void closeConnection(const std::string& name) {
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
std::string tail(const std::string& log) {
  return log.size() > 20000 ? log.substr(log.size() - 20000) : log;
}

struct Worst {
  int rounds = 0;
  std::chrono::milliseconds converge{0};
};

class Chaos : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ClusterOptions options;
    options.event_bus = "async_pass_through = true\ncatch_up_interval = 1s\n";
    options.amqp = "queue_capacity = 20\n";  // small: a blocked broker overflows it at once
    options.sections = "[event_log]\nrelay_delay = 2s\n[event_recorder]\n[audit]\n";
    options.modules = {"event_recorder", "audit"};
    options.private_database = true;
    cluster_ = new AmqpCluster(options);
    observer_queue_ = cluster_->exchange() + ".observer";
    RawAmqpClient observer(cluster_->broker());
    observer.declareExchange(cluster_->exchange());
    observer.declareDurableQueueBoundTo(observer_queue_, cluster_->exchange());
    for (int i = 0; i < 3; ++i) servers_.push_back(&cluster_->startServer());
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
    delete cluster_;
    cluster_ = nullptr;
    servers_.clear();
  }

  void SetUp() override {
    for (ServerProcess* server : servers_) {
      if (!server->running()) server->start();
    }
  }

  // Waits until every server's users equal the database's; fails after 2 s. Records the time.
  void expectConverged(const std::string& fault) {
    auto started = Clock::now();
    std::string expected;
    auto converged = [&] {
      expected = allUsersOf(*reader_);
      for (ServerProcess* server : servers_) {
        if (allUsersOf(*server) != expected) return false;
      }
      return true;
    };
    bool ok = eventually(converged, kConvergeWithin);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    Worst& worst = worst_[fault];
    ++worst.rounds;
    worst.converge = std::max(worst.converge, took);
    if (ok) return;
    for (ServerProcess* server : servers_) {
      std::string held = allUsersOf(*server);
      EXPECT_EQ(held, expected) << fault << ": server " << server->port()
                                << " differs from the database after 2 s\n"
                                << tail(server->output());
    }
    FAIL() << fault << ": not converged within 2 s";
  }

  // Every acknowledged write is in the database.
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

  // Each server's subscribers got each logged event once, in sequence order, and since its
  // first one every later event of the log.
  void expectSubscribersSawEachEventOnceInOrder() {
    auto seq_of = logged();
    uint64_t head = 0;
    for (const auto& [id, seq] : seq_of) head = std::max(head, seq);
    for (ServerProcess* server : servers_) {
      Poco::JSON::Array::Ptr ids;
      auto recorded = [&] {
        ids = parseJson(server->request("GET", "/recorded").body)->getArray("ids");
        return ids->size() == 0 ||
               seq_of[ids->getElement<std::string>(static_cast<unsigned>(ids->size() - 1))] == head;
      };
      // A refreshed cache may equal the database before the deliveries after it have run.
      eventually(recorded, kConvergeWithin);
      std::set<std::string> seen;
      uint64_t previous = 0;
      std::vector<uint64_t> seqs;
      for (size_t i = 0; i < ids->size(); ++i) {
        std::string id = ids->getElement<std::string>(static_cast<unsigned>(i));
        EXPECT_TRUE(seen.insert(id).second)
            << "server " << server->port() << " saw " << id << " twice";
        auto found = seq_of.find(id);
        ASSERT_NE(found, seq_of.end()) << id << " is not in the event log";
        EXPECT_GT(found->second, previous)
            << "server " << server->port() << " saw seq " << found->second << " after " << previous;
        previous = found->second;
        seqs.push_back(found->second);
      }
      if (seqs.empty()) continue;
      // Nothing skipped since the first: from there on the log's events, every one.
      EXPECT_EQ(seqs.back(), head) << "server " << server->port() << " is behind the log";
      EXPECT_EQ(seqs.size(), seqs.back() - seqs.front() + 1)
          << "server " << server->port() << " skipped events between seq " << seqs.front()
          << " and " << seqs.back();
    }
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

  static AmqpCluster* cluster_;
  static std::vector<ServerProcess*> servers_;
  static ServerProcess* reader_;
  static std::string observer_queue_;
  static std::map<std::string, Worst> worst_;
};

AmqpCluster* Chaos::cluster_ = nullptr;
std::vector<ServerProcess*> Chaos::servers_;
ServerProcess* Chaos::reader_ = nullptr;
std::string Chaos::observer_queue_;
std::map<std::string, Worst> Chaos::worst_;

TEST_F(Chaos, KillMinus9OfAWriterUnderLoad) {
  ServerProcess& victim = *servers_[0];
  for (int round = 0; round < rounds(20); ++round) {
    Writers writers({servers_[0], servers_[1]}, 8, "kill" + std::to_string(round));
    writers.waitFor(40);
    victim.kill();
    writers.waitFor(20);  // the others go on writing while it is dead
    writers.stop();
    victim.start();
    expectConverged("kill -9 of a writer under load");
    expectKept(writers.acknowledged());
    if (HasFailure()) return;
  }
  expectSubscribersSawEachEventOnceInOrder();
  expectAuditHoldsEveryEvent();
}

TEST_F(Chaos, ABrokerMemoryAlarmWithATinyPublishQueue) {
  for (int round = 0; round < rounds(3); ++round) {
    std::vector<std::string> acknowledged;
    {
      MemoryAlarm alarm;
      for (int i = 0; i < 300; ++i) {
        std::string id = "alarm" + std::to_string(round) + "-" + std::to_string(i);
        if (servers_[0]->request("PUT", "/users/" + id, R"({"name":"blocked"})").status == 201) {
          acknowledged.push_back(id);
        }
      }
      EXPECT_EQ(acknowledged.size(), 300u);  // writes never wait for the broker
    }
    expectConverged("broker memory alarm with a publish queue of 20");
    expectKept(acknowledged);
  }
  expectSubscribersSawEachEventOnceInOrder();
}

TEST_F(Chaos, ThePublishersConnectionClosedByTheBroker) {
  for (int round = 0; round < rounds(3); ++round) {
    Writers writers({servers_[0]}, 4, "pubclose" + std::to_string(round));
    writers.waitFor(30);
    closeConnection("busbar publisher " + serverId(*servers_[0]));
    writers.waitFor(30);
    writers.stop();
    expectConverged("publisher connection closed by the broker");
    expectKept(writers.acknowledged());
  }
  expectSubscribersSawEachEventOnceInOrder();
}

TEST_F(Chaos, AConsumersConnectionClosedByTheBroker) {
  for (int round = 0; round < rounds(3); ++round) {
    Writers writers({servers_[0]}, 4, "conclose" + std::to_string(round));
    writers.waitFor(30);
    closeConnection("busbar consumer " + serverId(*servers_[1]));
    writers.waitFor(30);
    writers.stop();
    expectConverged("consumer connection closed by the broker");
    expectKept(writers.acknowledged());
  }
  expectSubscribersSawEachEventOnceInOrder();
}

TEST_F(Chaos, ABrokerRestartUnderWrites) {
  for (int round = 0; round < rounds(2); ++round) {
    Writers writers({servers_[0], servers_[1]}, 4, "broker" + std::to_string(round));
    writers.waitFor(30);
    {
      BrokerOutage outage;
      writers.waitFor(30);
    }
    writers.waitFor(30);
    writers.stop();
    expectConverged("broker restart under writes");
    expectKept(writers.acknowledged());
  }
  expectSubscribersSawEachEventOnceInOrder();
}

TEST_F(Chaos, ADatabaseRestartUnderWrites) {
  PrivateDatabase* database = cluster_->privateDatabase();
  ASSERT_NE(database, nullptr) << "needs a database server (mysql or postgresql)";
  for (int round = 0; round < rounds(2); ++round) {
    Writers writers({servers_[0], servers_[1]}, 4, "dbrestart" + std::to_string(round));
    writers.waitFor(30);
    database->stop();
    writers.waitFor(30);  // these fail with 503: the database is away
    database->start();
    writers.waitFor(30);
    writers.stop();
    expectConverged("database restart under writes");
    expectKept(writers.acknowledged());
  }
  expectSubscribersSawEachEventOnceInOrder();
  expectAuditHoldsEveryEvent();
}

TEST_F(Chaos, ADatabaseRestoredFromAnOlderDump) {
  const std::string dump = cluster_->folder() + "/dump";
  for (int round = 0; round < rounds(2); ++round) {
    const std::string tag = "restore" + std::to_string(round);
    ASSERT_EQ(servers_[0]->request("PUT", "/users/" + tag, R"({"name":"before the dump"})").status,
              201);
    expectConverged("database restored from an older dump");
    cluster_->dumpDatabase(dump);
    // After the dump: a newer version and a new user, which the restore takes away.
    ASSERT_EQ(servers_[1]->request("PUT", "/users/" + tag, R"({"name":"after the dump"})").status,
              200);
    ASSERT_EQ(servers_[1]->request("PUT", "/users/" + tag + "-new", R"({"name":"lost"})").status,
              201);
    expectConverged("database restored from an older dump");
    cluster_->restoreDatabase(dump);
    expectConverged("database restored from an older dump");
    for (ServerProcess* server : servers_) {
      EXPECT_EQ(
          parseJson(server->request("GET", "/users/" + tag).body)->getValue<std::string>("name"),
          "before the dump");
      EXPECT_EQ(server->request("GET", "/users/" + tag + "-new").status, 404);
    }
    // And writes go on from the restored state.
    ASSERT_EQ(
        servers_[2]->request("PUT", "/users/" + tag, R"({"name":"after the restore"})").status,
        200);
    expectConverged("database restored from an older dump");
  }
}

TEST_F(Chaos, TheBrokerCarriedEveryLoggedEvent) {
  // Whatever the faults above lost on the way, the relay published again from the log: the
  // observer queue, bound to the exchange from the start, holds every logged event at least once.
  // (After a restore, the log's rows of the lost history are gone, so only ids still logged count.)
  auto seq_of = logged();
  std::set<std::string> carried;
  RawAmqpClient client(cluster_->broker());
  bool complete = eventually(
      [&] {
        while (auto message = client.get(observer_queue_)) {
          carried.insert(parseJson(message->body)->getValue<std::string>("id"));
        }
        for (const auto& [id, seq] : seq_of) {
          if (carried.count(id) == 0) return false;
        }
        return true;
      },
      std::chrono::seconds(15));
  std::vector<uint64_t> missing;
  for (const auto& [id, seq] : seq_of) {
    if (carried.count(id) == 0) missing.push_back(seq);
  }
  std::sort(missing.begin(), missing.end());
  std::string some;
  for (size_t i = 0; i < missing.size() && i < 20; ++i) some += " " + std::to_string(missing[i]);
  if (complete) return;
  // What the log and the servers say of them, for the one who has to find out why.
  std::string rows;
  if (!missing.empty()) {
    std::string first;
    for (size_t i = 0; i < missing.size() && i < 20; ++i) {
      first += (i == 0 ? "" : ",") + std::to_string(missing[i]);
    }
    rows = cluster_->query(
        "SELECT seq, published, logged_at, origin, event_type FROM busbar_events"
        " WHERE seq IN (" +
        first + ") ORDER BY seq");
  }
  std::string servers;
  for (ServerProcess* server : servers_) {
    servers +=
        "\n" + std::to_string(server->port()) + ": " + server->request("GET", "/health").body;
    std::istringstream output(server->output());
    for (std::string line; std::getline(output, line);) {
      for (const char* about : {"relay", "publish", "dropped", "lost"}) {
        if (line.find(about) != std::string::npos) {
          servers += "\n  " + line;
          break;
        }
      }
    }
  }
  ADD_FAILURE() << missing.size() << " of " << seq_of.size()
                << " logged events never reached the broker, seq" << some
                << "\nthe first rows (seq|published|logged_at|origin|event_type):\n"
                << rows << "unpublished in the log: "
                << cluster_->query("SELECT COUNT(*) FROM busbar_events WHERE published = 0")
                << servers;
}

}  // namespace
}  // namespace busbar::testing
