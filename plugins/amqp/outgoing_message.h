// OutgoingMessage: one message to publish, with the AMQP properties the wire format defines.
//
// Plain value type; owns its bytes so that it can wait in a queue and be published again after
// a reconnect.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "busbar/event.h"
#include "busbar/transport.h"

namespace busbar::amqp {

inline constexpr const char* kJsonContentType = "application/json";

struct OutgoingMessage {
  std::string exchange;
  std::string body;
  std::string type;        // AMQP property type: the event type
  std::string message_id;  // the event id
  std::string app_id;      // the event origin
  uint64_t timestamp = 0;  // seconds since the epoch
  std::map<std::string, std::string> string_headers;
  std::map<std::string, int64_t> integer_headers;
  // Told once whether the broker confirmed the message (null: nobody asks; a drop of such a
  // message makes the subscribers resynchronize instead).
  PublishSettled settled;
};

// The persistent message that carries `event`, logged `at` when at.seq > 0 and caused by
// `principal` ("" for nobody), to `exchange` (docs/events.md).
OutgoingMessage messageForEvent(const std::string& exchange, const Event& event,
                                const EventLogSeq& at = {}, const std::string& principal = "");

}  // namespace busbar::amqp
