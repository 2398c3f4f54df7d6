// RabbitCluster: a RabbitMQ cluster of one test's own, three nodes (by default) of this machine on
// free loopback ports, started by scripts/services/rabbitmq-cluster.sh, that the test may stop and
// start node by node without disturbing the broker the other suites share.
//
// Needs root (the nodes run as the broker's user), as scripts/test and CI run. Not thread-safe;
// one test thread drives it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "raw_amqp_client.h"
#include "server_process.h"
#include "test_certificates.h"

namespace busbar::testing {

class RabbitCluster {
 public:
  // Starts `nodes` nodes and joins them into one cluster; returns once every node serves. With a
  // `tls_server` certificate, every node also serves amqps with it and asks each client for a
  // certificate the CA `tls_ca` signed. Throws std::runtime_error with the script's output when
  // it fails.
  explicit RabbitCluster(int nodes = 3, const std::string& tls_ca = "",
                         const IssuedCertificate& tls_server = {});
  // Stops every node; their folders go with the object.
  ~RabbitCluster();
  RabbitCluster(const RabbitCluster&) = delete;
  RabbitCluster& operator=(const RabbitCluster&) = delete;

  // Each node's AMQP address (vhost "/", user guest), in the order they were started.
  const std::vector<BrokerAddress>& nodes() const { return nodes_; }
  // The same nodes' amqps addresses (empty without TLS).
  const std::vector<BrokerAddress>& tlsNodes() const { return tls_nodes_; }

  // Stops node `index` as an operator does (`rabbitmqctl stop`); returns once it is gone.
  void stopNode(size_t index);
  // Starts node `index` again (it rejoins the cluster); returns once it serves.
  void startNode(size_t index);
  // Freezes node `index` as a paused VM or a stalled machine does (SIGSTOP to its Erlang VM): its
  // connections stay open and say nothing, to clients and to the other nodes alike.
  void freezeNode(size_t index);
  // Lets a frozen node go on (SIGCONT).
  void thawNode(size_t index);

  // The type ("classic", "quorum") of each queue of vhost "/" by name, as node `index` (which must
  // serve) lists them.
  std::map<std::string, std::string> queueTypes(size_t index) const;

  // What `rabbitmqctl -q --no-table-headers ARGS` prints for node `index`; throws when it fails.
  std::string rabbitmqctl(size_t index, const std::string& args) const;

 private:
  // Runs the script with `args`; throws with its output when it fails.
  void script(const std::string& args) const;
  // Sends `signal` to node `index`'s Erlang VM (its pid file); SIGSTOP returns once every thread
  // of it stopped (stopProcess). Throws when it is not running or its threads did not stop.
  void signalNode(size_t index, int signal) const;

  TempDir dir_;
  std::string folder_;  // the nodes' folders, under dir_
  std::vector<BrokerAddress> nodes_;
  std::vector<BrokerAddress> tls_nodes_;
  std::set<size_t> frozen_;  // thawed before the nodes stop
};

}  // namespace busbar::testing
