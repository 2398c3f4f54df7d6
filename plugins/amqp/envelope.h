// The envelope: how an Event travels as an AMQP message body (docs/events.md).
//
// {"type","id","occurred_on","origin","version","payload"} as UTF-8 JSON, and for a logged event
// "seq" and "log" (its place in the event log), "request_id" (the HTTP request that emitted it)
// when there was one, and "principal" (the bearer token that request carried) when there was
// one. Decoding treats the body as hostile: it bounds size and nesting, requires valid UTF-8,
// checks every field's type and form, and says in its error which rule the body broke.
// Stateless; safe from any thread.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "busbar/event.h"
#include "busbar/transport.h"

namespace busbar::amqp {

// A body is not a valid envelope; what() names the field and the rule.
class EnvelopeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bounds on what decodeEnvelope accepts.
struct EnvelopeLimits {
  size_t max_bytes = 1024 * 1024;  // whole body
  size_t max_depth = 32;           // nesting of objects and arrays, the envelope itself is 1
};

// Longest accepted type and origin; AMQP short strings (type, app_id) hold 255 bytes.
inline constexpr size_t kMaxTypeLength = 128;
inline constexpr size_t kMaxOriginLength = 255;
// Longest accepted request id (X-Request-Id, as the host accepts it).
inline constexpr size_t kMaxRequestIdLength = 64;
// Longest accepted principal (a [token.<name>] name, as the host accepts it).
inline constexpr size_t kMaxPrincipalLength = 64;

// An event as it travels; `logged.seq` is 0 for an event that is not in an event log,
// `logged.request_id` "" when the envelope has none, and `principal` (who caused the event,
// EventContext::principal) "" when the envelope has none.
struct Envelope {
  Event event;
  EventLogSeq logged;
  std::string principal;
};

// The JSON body for `event`, logged `at` when at.seq > 0, with at.request_id and `principal` when
// they are not empty. Fields in wire order; occurred_on in RFC 3339 UTC with ms.
std::string encodeEnvelope(const Event& event, const EventLogSeq& at = {},
                           const std::string& principal = "");

// The event in `body`. On a body that breaks any rule throws EnvelopeError with the reason.
Envelope decodeEnvelope(const std::string& body, const EnvelopeLimits& limits = {});

// True when `text` is a UUID in canonical form (8-4-4-4-12 hex digits).
bool isCanonicalUuid(const std::string& text);

}  // namespace busbar::amqp
