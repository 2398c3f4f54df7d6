#include "topology_admin.h"

#include <functional>

#include "amqp_connection.h"
#include "topology.h"

namespace busbar::amqp {
namespace {

constexpr amqp_channel_t kTopologyChannel = 1;
const char* const kConnectionName = "busbar infra";

}  // namespace

std::vector<std::string> AmqpTopologyAdmin::createTopology(
    const std::vector<std::string>& exchanges) {
  AmqpConnection connection(settings_, kConnectionName);
  connection.openChannel(kTopologyChannel);
  std::vector<std::string> lines;
  for (const auto& exchange : exchanges) {
    for (auto& line :
         declareExchangeTopology(connection, kTopologyChannel, exchange, settings_.quorum_queues)) {
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

bool AmqpTopologyAdmin::checkTopology(const std::vector<std::string>& exchanges,
                                      std::vector<std::string>& report) {
  AmqpConnection connection(settings_, kConnectionName);
  connection.openChannel(kTopologyChannel);
  bool complete = true;
  // A passive declare of a missing object closes the channel: note it and open it again.
  auto check = [&](const std::string& what, const std::function<void()>& probe) {
    try {
      probe();
      report.push_back(what + ": present");
    } catch (const AmqpChannelClosed& missing) {
      complete = false;
      report.push_back(what + ": MISSING (" + missing.what() + ")");
      connection.openChannel(kTopologyChannel);
    }
  };
  for (const auto& exchange : exchanges) {
    const std::string dead = deadLetterName(exchange);
    check("exchange " + exchange,
          [&] { connection.declareFanoutExchange(kTopologyChannel, exchange, true); });
    check("exchange " + dead,
          [&] { connection.declareFanoutExchange(kTopologyChannel, dead, true); });
    QueueSpec dead_queue;
    dead_queue.name = dead;
    dead_queue.passive = true;
    check("queue " + dead, [&] { connection.declareQueue(kTopologyChannel, dead_queue); });
  }
  return complete;
}

std::vector<std::string> AmqpTopologyAdmin::dropTopology(
    const std::vector<std::string>& exchanges) {
  AmqpConnection connection(settings_, kConnectionName);
  connection.openChannel(kTopologyChannel);
  std::vector<std::string> lines;
  for (const auto& exchange : exchanges) {
    const std::string dead = deadLetterName(exchange);
    connection.deleteExchange(kTopologyChannel, exchange);
    lines.push_back("deleted exchange " + exchange);
    connection.deleteQueue(kTopologyChannel, dead);
    lines.push_back("deleted queue " + dead);
    connection.deleteExchange(kTopologyChannel, dead);
    lines.push_back("deleted exchange " + dead);
  }
  return lines;
}

}  // namespace busbar::amqp
