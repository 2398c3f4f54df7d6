// Chaos: the faults a cluster meets in production, each injected for real, round after round.
// After each fault heals, every server's users must equal the database's within 2 s, no write a
// client saw acknowledged may be missing, each server's subscribers must have got each logged
// event once and in sequence order, the audit example must hold every logged event, and the
// broker must have carried every logged event at least once.
//
// One cluster per run (three servers, a database reader, the event recorder and the audit
// module), on the backend BUSBAR_TEST_STORAGE names; MariaDB and PostgreSQL run a server of the
// cluster's own, so that it can be restarted and restored. BUSBAR_CHAOS_ROUNDS caps the rounds
// of each fault (CI's sanitizer build runs fewer). The fixture is in chaos_fixture.h.
#include <sstream>

#include "chaos_fixture.h"

namespace busbar::testing {
namespace {

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

TEST_F(Chaos, ReloadsUnderWritesFailNoWriteAndDeliverEachEventOnce) {
  // A reload hands a server over to a new process of the same server_id, which consumes, numbers
  // and relays beside the old one for a moment; every write is answered, and no subscriber of
  // either process sees an event twice or misses one from its preload on.
  for (int round = 0; round < rounds(20); ++round) {
    ServerProcess& reloaded = *servers_[static_cast<size_t>(round) % servers_.size()];
    Writers writers(servers_, 6, "reload" + std::to_string(round));
    writers.waitFor(30);
    const pid_t old_pid = reloaded.pid();
    reloaded.signal(SIGHUP);
    ASSERT_EQ(reloaded.followHandover(), 0) << reloaded.failureReport();
    EXPECT_NE(reloaded.pid(), old_pid);
    writers.waitFor(30);
    writers.stop();
    // A write the database refuses for a deadlock is answered 503 at any time, reload or not;
    // any other failure is the reload's.
    EXPECT_EQ(writers.failures(), std::vector<std::string>{}) << reloaded.failureReport();
    if (writers.conflicts() > 0) {
      std::cout << "reload round " << round << ": " << writers.conflicts()
                << " writes refused for a transaction conflict (503, nothing written)\n";
    }
    expectConverged("reload (handover) under writes");
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
    // A write while it is away is refused with what is wrong and when to send it again.
    HttpResult away;
    EXPECT_TRUE(eventually(
        [&] {
          try {
            away = servers_[2]->request("PUT", "/users/dbaway" + std::to_string(round),
                                        R"({"name":"the database is away"})");
          } catch (const std::exception& error) {
            away.body = error.what();
          }
          return away.status == 503;
        },
        std::chrono::seconds(10)))
        << away.status << " " << away.body;
    EXPECT_NE(away.body.find("\"error\":\"storage unavailable: "), std::string::npos) << away.body;
    EXPECT_EQ(away.headers.count("Retry-After") == 1 ? away.headers.at("Retry-After") : "(none)",
              "1");
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
    expectRestoreRound(
        "restore" + std::to_string(round), "database restored from an older dump",
        [&] { cluster_->dumpDatabase(dump); }, [&] { cluster_->restoreDatabase(dump); });
  }
}

TEST_F(Chaos, AModuleTableRestoredSecondsAfterTheLogTables) {
  // A restore one table at a time, the users table last and long after the log's (a large
  // table, pg_restore -j): the servers see the log go back, reload, and must read the users
  // table again when it arrives.
  constexpr auto kModuleTableLate = std::chrono::seconds(5);
  const std::string log_dump = cluster_->folder() + "/log-tables";
  const std::string users_dump = cluster_->folder() + "/users-table";
  for (int round = 0; round < rounds(2); ++round) {
    expectRestoreRound(
        "late-table" + std::to_string(round), "module table restored late",
        [&] {
          cluster_->dumpTables(log_dump,
                               {"busbar_events", "busbar_event_head", "busbar_event_relay"});
          cluster_->dumpTables(users_dump, {"users"});
        },
        [&] {
          cluster_->restoreTables(log_dump);
          std::this_thread::sleep_for(kModuleTableLate);
          cluster_->restoreTables(users_dump);
        });
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
