#include "topology.h"

namespace busbar::amqp {

std::string deadLetterName(const std::string& exchange) { return exchange + ".dead"; }

std::vector<std::string> declareExchangeTopology(AmqpConnection& connection, amqp_channel_t channel,
                                                 const std::string& exchange, bool quorum) {
  const std::string dead = deadLetterName(exchange);
  connection.declareFanoutExchange(channel, exchange, false);
  connection.declareFanoutExchange(channel, dead, false);
  QueueSpec dead_queue;
  dead_queue.name = dead;
  dead_queue.durable = true;
  dead_queue.quorum = quorum;
  connection.declareQueue(channel, dead_queue);
  connection.bindQueue(channel, dead, dead);
  return {"declared exchange " + exchange + " (fanout, durable)",
          "declared exchange " + dead + " (fanout, durable) for dead letters",
          "declared queue " + dead + (quorum ? " (quorum)" : " (durable)") + " bound to exchange " +
              dead};
}

}  // namespace busbar::amqp
