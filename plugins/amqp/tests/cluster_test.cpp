// A RabbitMQ cluster of three nodes (RabbitCluster) under writes on four servers: three connect
// to a node of their own first ([amqp] hosts) and consume through exclusive queues, the fourth
// consumes a named queue, a quorum queue the cluster replicates. The node of the first server is
// stopped, then a second node (one of three left: the quorum queue refuses every event), each
// while the writes go on, then both come back. No acknowledged write may be lost, every server
// must equal the database within 2 s once the writes after each stop end, each server's subscribers
// (the event recorder) must get each logged event once and in order, and each server must have
// moved to the next node of its list. Then a node servers are on freezes (SIGSTOP) for 8 s under
// writes: a write on one server is served by another within 2 s throughout, and once the node
// goes on the same checks hold. The fixture (the servers, the event recorder, the audit module,
// the checks) is the fault suites' (chaos_fixture.h).
#include "chaos_fixture.h"
#include "rabbitmq_cluster.h"

namespace busbar::testing {
namespace {

class BrokerCluster : public Chaos {
 protected:
  static void SetUpTestSuite() {
    rabbit_ = new RabbitCluster(3);
    // A frozen node is noticed after two heartbeats: 4 s, within the freeze of the last test.
    startCluster(false, rabbit_->nodes(), "heartbeat = 2\n");
    // A fourth server consumes through a named queue, which the cluster must replicate.
    shared_queue_ = cluster_->exchange() + ".shared";
    servers_.push_back(&cluster_->startServer("events:" + shared_queue_));
  }
  static void TearDownTestSuite() {
    Chaos::TearDownTestSuite();  // the servers go first, then the broker's nodes
    delete rabbit_;
    rabbit_ = nullptr;
  }

  // Whether the consumer and the publisher of `server` are both on node `index` now
  // (busbar_amqp_connected_node).
  static bool onNode(const ServerProcess& server, size_t index) {
    const std::string node = "127.0.0.1:" + std::to_string(rabbit_->nodes().at(index).port);
    const std::string metrics = server.request("GET", "/metrics").body;
    for (const char* connection : {"consumer", "publisher"}) {
      const std::string series = std::string("busbar_amqp_connected_node{connection=\"") +
                                 connection + "\",node=\"" + node + "\"} 1";
      if (metrics.find(series) == std::string::npos) return false;
    }
    return true;
  }

  void expectOnNode(const ServerProcess& server, size_t index, const std::string& when) {
    EXPECT_TRUE(eventually([&] { return onNode(server, index); }, std::chrono::seconds(10)))
        << when << ": server " << server.port() << " is not on node " << index << "\n"
        << linesWith(server.request("GET", "/metrics").body, "busbar_amqp_connected");
  }

  static RabbitCluster* rabbit_;
  static std::string shared_queue_;
};

RabbitCluster* BrokerCluster::rabbit_ = nullptr;
std::string BrokerCluster::shared_queue_;

TEST_F(BrokerCluster, NamedAndDeadLetterQueuesAreQuorumQueuesAndEachServersOwnIsExclusive) {
  const auto types = rabbit_->queueTypes(0);
  const std::string dead = cluster_->exchange() + ".dead";
  ASSERT_EQ(types.count(shared_queue_), 1u) << "no queue " << shared_queue_;
  EXPECT_EQ(types.at(shared_queue_), "quorum");
  ASSERT_EQ(types.count(dead), 1u) << "no queue " << dead;
  EXPECT_EQ(types.at(dead), "quorum");
  // Each server's own queue is server-named (amq.gen-...), exclusive, and a classic queue.
  size_t own = 0;
  for (const auto& [name, type] : types) {
    if (name.rfind("amq.gen-", 0) != 0) continue;
    ++own;
    EXPECT_EQ(type, "classic") << name;
  }
  EXPECT_EQ(own, 3u);
}

TEST_F(BrokerCluster,
       StoppingTheNodeEachServerIsOnThenASecondLosesNothingAndDeliversEachEventOnce) {
  for (size_t i = 0; i < 3; ++i) expectOnNode(*servers_[i], i, "at the start");
  std::vector<std::string> acknowledged;
  auto phase = [&](const std::string& tag, const std::string& name,
                   const std::function<void()>& fault) {
    Writers writers(servers_, 6, tag);
    writers.waitFor(60);
    fault();
    writers.waitFor(60);  // the writes go on through the switch
    writers.stop();
    for (const auto& failure : writers.failures()) ADD_FAILURE() << name << ": " << failure;
    const auto kept = writers.acknowledged();
    acknowledged.insert(acknowledged.end(), kept.begin(), kept.end());
    expectConverged(name);
  };

  phase("first", "the first server's node stopped", [&] { rabbit_->stopNode(0); });
  expectOnNode(*servers_[0], 1, "node 0 stopped");  // its list goes on with node 1
  expectOnNode(*servers_[1], 1, "node 0 stopped");
  expectOnNode(*servers_[2], 2, "node 0 stopped");

  phase("second", "a second node stopped", [&] { rabbit_->stopNode(1); });
  for (size_t i = 0; i < 3; ++i) expectOnNode(*servers_[i], 2, "nodes 0 and 1 stopped");

  phase("back", "the two nodes back", [&] {
    rabbit_->startNode(0);
    rabbit_->startNode(1);
  });

  expectKept(acknowledged);
  expectSubscribersSawEachEventOnceInOrder();
  expectAuditHoldsEveryEvent();
}

TEST_F(BrokerCluster, ANodeServersAreOnFrozenStopsNoOne) {
  // Node 2 freezes (SIGSTOP: a paused VM, a stalled machine): its connections stay open and say
  // nothing, to the servers and to the other nodes. The third server starts there; after the
  // stops above every server is there. Each server on it notices the silence after two heartbeats
  // and connects elsewhere, but its consumer's new queue and binding wait for the frozen node
  // (RabbitMQ changes its metadata on every node) until it goes on; meanwhile the writes go on and
  // reach the other servers through the event log. Once the node goes on, every consumer is back
  // and nothing was lost or delivered twice.
  std::vector<size_t> on_frozen;
  for (size_t i = 0; i < 3; ++i) {
    if (onNode(*servers_[i], 2)) on_frozen.push_back(i);
  }
  ASSERT_FALSE(on_frozen.empty()) << "no server is on node 2";
  // The other two serve: freezing the last node would be another fault.
  for (size_t i : {0, 1}) ASSERT_NO_THROW(rabbit_->queueTypes(i)) << "node " << i;
  const std::string fault = "node 2 frozen for 8 s";
  Writers writers(servers_, 6, "frozen");
  writers.waitFor(60);
  rabbit_->freezeNode(2);
  // Both ways between two servers of the three (the third server is on node 2 in any order).
  Service service = probeFor(*servers_[1], *servers_[2], std::chrono::seconds(8), "frozen");
  // Where their publishers are now: usually on the next node, two heartbeats after the freeze;
  // not always (docs/events.md), so it is shown, not checked.
  for (size_t i : on_frozen) {
    std::cout << "cluster: " << fault << " (127.0.0.1:" << rabbit_->nodes().at(2).port
              << "): server " << servers_[i]->port() << "'s publisher before the node went on:\n"
              << linesWith(servers_[i]->request("GET", "/metrics").body,
                           "busbar_amqp_connected_node{connection=\"publisher\"");
  }
  rabbit_->thawNode(2);
  // Once it goes on, every consumer is connected again (a consumer that left it waits for it to
  // set its new queue up).
  for (size_t i : on_frozen) {
    EXPECT_TRUE(eventually(
        [&] {
          return servers_[i]
                     ->request("GET", "/metrics")
                     .body.find("busbar_amqp_connected{connection=\"consumer\"} 1") !=
                 std::string::npos;
        },
        std::chrono::seconds(10)))
        << fault << ": server " << servers_[i]->port() << "'s consumer is not connected";
  }
  writers.waitFor(60);
  writers.stop();
  for (const auto& failure : writers.failures()) ADD_FAILURE() << fault << ": " << failure;
  expectServed(service, fault);
  expectConverged(fault);
  expectKept(writers.acknowledged());
  expectSubscribersSawEachEventOnceInOrder();
  expectAuditHoldsEveryEvent();
}

}  // namespace
}  // namespace busbar::testing
