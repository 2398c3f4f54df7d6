#include "rabbitmq_cluster.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "free_port.h"
#include "process_stop.h"

namespace busbar::testing {

RabbitCluster::RabbitCluster(int nodes, const std::string& tls_ca,
                             const IssuedCertificate& tls_server)
    : folder_(dir_.path() + "/rabbitmq") {
  // The nodes run as the broker's user, who must reach their folders under the test's own.
  ::chmod(dir_.path().c_str(), 0755);
  std::string pairs;
  for (int i = 0; i < nodes; ++i) {
    BrokerAddress node;
    node.host = "127.0.0.1";
    node.port = freePort();
    node.vhost = "/";
    node.user = "guest";
    node.password = "guest";
    nodes_.push_back(node);
    pairs += " " + std::to_string(node.port) + ":" + std::to_string(freePort());
    if (!tls_ca.empty()) {
      node.port = freePort();
      tls_nodes_.push_back(node);
      pairs += ":" + std::to_string(node.port);
    }
  }
  const std::string tls =
      tls_ca.empty() ? ""
                     : " --tls '" + tls_ca + "," + tls_server.cert + "," + tls_server.key + "'";
  try {
    script("start '" + folder_ + "'" + tls + pairs);
  } catch (...) {
    // The nodes that did start go before their folders do.
    try {
      script("stop '" + folder_ + "'");
    } catch (const std::exception&) {
    }
    throw;
  }
}

RabbitCluster::~RabbitCluster() {
  for (size_t index : std::set<size_t>(frozen_)) {
    try {
      thawNode(index);
    } catch (const std::exception&) {
      // Its process is gone: nothing to thaw.
    }
  }
  try {
    script("stop '" + folder_ + "'");
  } catch (const std::exception&) {
    // The nodes carry the run's prefix in their environment: scripts/test ends what is left.
  }
}

void RabbitCluster::stopNode(size_t index) {
  script("stop-node '" + folder_ + "' " + std::to_string(nodes_.at(index).port));
}

void RabbitCluster::freezeNode(size_t index) {
  frozen_.insert(index);  // first: a node whose threads did not all stop is let go all the same
  signalNode(index, SIGSTOP);
}

void RabbitCluster::thawNode(size_t index) {
  signalNode(index, SIGCONT);
  frozen_.erase(index);
}

void RabbitCluster::signalNode(size_t index, int signal) const {
  const std::string file = folder_ + "/" + std::to_string(nodes_.at(index).port) + "/pid";
  std::ifstream in(file);
  pid_t pid = 0;
  if (!(in >> pid) || pid <= 0 || ::kill(pid, 0) != 0) {
    throw std::runtime_error("node " + std::to_string(index) + " has no running process (" + file +
                             ")");
  }
  if (signal != SIGSTOP) {
    ::kill(pid, signal);
  } else if (!stopProcess(pid)) {
    throw std::runtime_error("node " + std::to_string(index) +
                             ": not every thread stopped within 5 s of SIGSTOP");
  }
}

void RabbitCluster::startNode(size_t index) {
  script("start-node '" + folder_ + "' " + std::to_string(nodes_.at(index).port));
}

std::string RabbitCluster::rabbitmqctl(size_t index, const std::string& args) const {
  std::string output;
  const std::string command = "rabbitmqctl -n n" + std::to_string(nodes_.at(index).port) +
                              "@localhost -q --no-table-headers " + args + " </dev/null";
  if (runShell(command + " 2>&1", output) != 0) {
    throw std::runtime_error(command + " failed:\n" + output);
  }
  return output;
}

std::map<std::string, std::string> RabbitCluster::queueTypes(size_t index) const {
  std::map<std::string, std::string> types;
  std::istringstream lines(rabbitmqctl(index, "list_queues name type"));
  for (std::string name, type; lines >> name >> type;) types[name] = type;
  return types;
}

void RabbitCluster::script(const std::string& args) const {
  std::string output;
  const std::string command = sourceDir() + "/scripts/services/rabbitmq-cluster.sh " + args;
  if (runShell(command + " 2>&1", output) != 0) {
    throw std::runtime_error(command + " failed:\n" + output);
  }
}

}  // namespace busbar::testing
