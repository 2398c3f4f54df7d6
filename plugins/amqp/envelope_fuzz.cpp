// Fuzz target: a message body off the broker, through the envelope decoder. A body it accepts is
// encoded again and must decode to the same event; one it refuses says why with EnvelopeError and
// nothing else.
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "envelope.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

std::string payloadText(const busbar::Event& event) {
  if (!event.payload) return "";
  std::ostringstream out;
  event.payload->stringify(out);
  return out.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  busbar::amqp::EnvelopeLimits limits;
  limits.max_bytes = 64 * 1024;
  busbar::amqp::Envelope decoded;
  try {
    decoded = busbar::amqp::decodeEnvelope(body, limits);
  } catch (const busbar::amqp::EnvelopeError&) {
    return 0;
  }
  const std::string again =
      busbar::amqp::encodeEnvelope(decoded.event, decoded.logged, decoded.principal);
  const busbar::amqp::Envelope round = busbar::amqp::decodeEnvelope(again);
  check(round.event.id == decoded.event.id);
  check(round.event.type == decoded.event.type);
  check(round.event.origin == decoded.event.origin);
  check(round.event.version == decoded.event.version);
  // The wire keeps milliseconds.
  check(std::abs(round.event.occurred_on - decoded.event.occurred_on) < 1000);
  check(round.logged.seq == decoded.logged.seq);
  check(round.logged.log_id == decoded.logged.log_id);
  check(round.logged.request_id == decoded.logged.request_id);
  check(round.principal == decoded.principal);
  check(payloadText(round.event) == payloadText(decoded.event));
  return 0;
}
