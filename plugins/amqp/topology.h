// The broker objects behind one busbar exchange, and how to declare them.
//
// For an exchange X: X itself (fanout, durable); X.dead (fanout, durable), where consumers send
// what they cannot deliver; and the durable queue X.dead bound to it, so that dead letters are
// kept until someone reads them. Stateless functions over a connection the caller owns.
#pragma once

#include <string>
#include <vector>

#include "amqp_connection.h"

namespace busbar::amqp {

// The dead-letter exchange, and queue, of `exchange`.
std::string deadLetterName(const std::string& exchange);

// Declares X, X.dead and the queue X.dead (a quorum queue with `quorum`) with its binding on
// `channel`. Returns one line per object. Throws AmqpError with the broker's reason (e.g. X exists
// with another type, or X.dead with another queue type).
std::vector<std::string> declareExchangeTopology(AmqpConnection& connection, amqp_channel_t channel,
                                                 const std::string& exchange, bool quorum);

}  // namespace busbar::amqp
