#include "topology_admin.h"

#include <functional>

#include "amqp_connection.h"
#include "topology.h"

namespace busbar::amqp {
namespace {

constexpr amqp_channel_t kChannel = 1;
const char* const kConnectionName = "busbar infra";

}  // namespace

std::vector<std::string> AmqpTopologyAdmin::createTopology(
    const std::vector<std::string>& exchanges) {
  AmqpConnection connection(settings_, kConnectionName);
  connection.openChannel(kChannel);
  std::vector<std::string> lines;
  for (const auto& exchange : exchanges) {
    for (auto& line : declareExchangeTopology(connection, kChannel, exchange)) {
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

bool AmqpTopologyAdmin::checkTopology(const std::vector<std::string>& exchanges,
                                      std::vector<std::string>& report) {
  AmqpConnection connection(settings_, kConnectionName);
  connection.openChannel(kChannel);
  bool complete = true;
  // A passive declare of a missing object closes the channel: note it and open it again.
  auto check = [&](const std::string& what, const std::function<void()>& probe) {
    try {
      probe();
      report.push_back(what + ": present");
    } catch (const AmqpChannelClosed& missing) {
      complete = false;
      report.push_back(what + ": MISSING (" + missing.what() + ")");
      connection.openChannel(kChannel);
    }
  };
  for (const auto& exchange : exchanges) {
    const std::string dead = deadLetterName(exchange);
    check("exchange " + exchange,
          [&] { connection.declareFanoutExchange(kChannel, exchange, true); });
    check("exchange " + dead, [&] { connection.declareFanoutExchange(kChannel, dead, true); });
    QueueSpec dead_queue;
    dead_queue.name = dead;
    dead_queue.passive = true;
    check("queue " + dead, [&] { connection.declareQueue(kChannel, dead_queue); });
  }
  return complete;
}

std::vector<std::string> AmqpTopologyAdmin::dropTopology(
    const std::vector<std::string>& exchanges) {
  AmqpConnection connection(settings_, kConnectionName);
  connection.openChannel(kChannel);
  std::vector<std::string> lines;
  for (const auto& exchange : exchanges) {
    const std::string dead = deadLetterName(exchange);
    connection.deleteExchange(kChannel, exchange);
    lines.push_back("deleted exchange " + exchange);
    connection.deleteQueue(kChannel, dead);
    lines.push_back("deleted queue " + dead);
    connection.deleteExchange(kChannel, dead);
    lines.push_back("deleted exchange " + dead);
  }
  return lines;
}

}  // namespace busbar::amqp
