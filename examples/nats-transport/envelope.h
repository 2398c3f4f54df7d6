// The envelope: how an Event travels as a JetStream message body, the JSON of docs/events.md.
//
// {"type","id","occurred_on","origin","version","payload"}, for a logged event "seq" and "log"
// (its place in the event log) and "request_id" when the request that emitted it had one, and
// "principal" (the bearer token that request carried) when there was one. The same fields as the
// amqp transport's body, so that a reader of one understands the other.
// Decoding treats the body as hostile: it bounds size and nesting and checks every field.
// Stateless; safe from any thread.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include <busbar/event.h>
#include <busbar/transport.h>

namespace nats_transport {

// A body is not a valid envelope; what() names the field and the rule.
class EnvelopeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr size_t kMaxEnvelopeBytes = 1024 * 1024;
inline constexpr size_t kMaxEnvelopeDepth = 32;
// Longest accepted principal: a [token.<name>] name, as busbar accepts it.
inline constexpr size_t kMaxPrincipalLength = 64;

// An event as it travels; `logged.seq` is 0 for an event that is in no event log, and
// `principal` (who caused the event, busbar::EventContext::principal) "" when the body has none.
struct Envelope {
  busbar::Event event;
  busbar::EventLogSeq logged;
  std::string principal;
};

// The JSON body for `event`, logged `at` when at.seq > 0, caused by `principal` when it is not
// empty ("" leaves the field out).
std::string encodeEnvelope(const busbar::Event& event, const busbar::EventLogSeq& at = {},
                           const std::string& principal = "");

// The event in `body`, `size` bytes. On a body that breaks a rule throws EnvelopeError saying
// which.
Envelope decodeEnvelope(const char* body, size_t size);

}  // namespace nats_transport
