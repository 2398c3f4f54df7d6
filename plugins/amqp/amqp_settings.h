// AmqpSettings: the [amqp] section of host.conf, read and validated.
//
// Plain value type.
#pragma once

#include <cstddef>

#include "busbar/config.h"
#include "connection_settings.h"

namespace busbar::amqp {

struct AmqpSettings {
  ConnectionSettings connection;
  bool auto_setup = true;         // declare exchanges and dead-letter topology at start
  int retries = 3;                // deliveries of a failing event before it is dead-lettered
  size_t queue_capacity = 10000;  // events waiting to be published
};

// Reads `section`. On a missing, malformed or unknown key throws ConfigError naming it.
AmqpSettings readAmqpSettings(const ConfigSection& section);

}  // namespace busbar::amqp
