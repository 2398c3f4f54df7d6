#include "outgoing_message.h"

#include "envelope.h"

namespace busbar::amqp {

OutgoingMessage messageForEvent(const std::string& exchange, const Event& event,
                                const EventLogSeq& at, const std::string& principal) {
  OutgoingMessage message;
  message.exchange = exchange;
  message.body = encodeEnvelope(event, at, principal);
  message.type = event.type;
  message.message_id = event.id;
  message.app_id = event.origin;
  message.timestamp = static_cast<uint64_t>(event.occurred_on.epochTime());
  return message;
}

}  // namespace busbar::amqp
