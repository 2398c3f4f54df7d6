#include "envelope.h"

#include <limits>
#include <sstream>

#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>

namespace nats_transport {
namespace {

constexpr const char* kTimeFormat = "%Y-%m-%dT%H:%M:%S.%iZ";

Poco::Dynamic::Var field(const Poco::JSON::Object& envelope, const char* name) {
  if (!envelope.has(name)) throw EnvelopeError(std::string("envelope lacks \"") + name + "\"");
  return envelope.get(name);
}

std::string stringField(const Poco::JSON::Object& envelope, const char* name, size_t max_length) {
  Poco::Dynamic::Var value = field(envelope, name);
  if (!value.isString()) {
    throw EnvelopeError(std::string("envelope \"") + name + "\" must be a string");
  }
  std::string text = value.extract<std::string>();
  if (text.size() > max_length) {
    throw EnvelopeError(std::string("envelope \"") + name + "\" is longer than " +
                        std::to_string(max_length) + " bytes");
  }
  return text;
}

// A JSON integer from `min` to 2^63-1.
int64_t integerField(const Poco::JSON::Object& envelope, const char* name, int64_t min) {
  Poco::Dynamic::Var value = field(envelope, name);
  const std::string what = std::string("envelope \"") + name + "\"";
  if (!value.isInteger() || value.type() == typeid(bool)) {
    throw EnvelopeError(what + " must be an integer");
  }
  if (!value.isSigned() &&
      value.convert<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    throw EnvelopeError(what + " is larger than a signed 64-bit integer");
  }
  int64_t number = value.convert<int64_t>();
  if (number < min) throw EnvelopeError(what + " must be at least " + std::to_string(min));
  return number;
}

// "principal" is optional, and "" in it means none, as its absence does. busbar reads a token
// name there (1 to 64 letters, digits, '_' or '-', as host.conf names tokens), which can be logged
// and stored as it is; a value of another type or form is read as none rather than refused,
// because producers may add fields of their own and one may already write a principal of its own
// form: its events keep flowing, without one.
std::string principalField(const Poco::JSON::Object& envelope) {
  if (!envelope.has("principal")) return "";
  const Poco::Dynamic::Var value = envelope.get("principal");
  if (!value.isString()) return "";
  std::string principal = value.extract<std::string>();
  if (principal.size() > kMaxPrincipalLength) return "";
  for (char c : principal) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-')) {
      return "";
    }
  }
  return principal;
}

}  // namespace

std::string encodeEnvelope(const busbar::Event& event, const busbar::EventLogSeq& at,
                           const std::string& principal) {
  Poco::JSON::Object body;
  body.set("type", event.type);
  body.set("id", event.id);
  body.set("occurred_on", Poco::DateTimeFormatter::format(event.occurred_on, kTimeFormat));
  body.set("origin", event.origin);
  body.set("version", event.version);
  body.set("payload", event.payload);
  if (at.seq > 0) {
    body.set("seq", at.seq);
    body.set("log", at.log_id);
    if (!at.request_id.empty()) body.set("request_id", at.request_id);
  }
  if (!principal.empty()) body.set("principal", principal);
  std::ostringstream out;
  body.stringify(out);
  return out.str();
}

Envelope decodeEnvelope(const char* body, size_t size) {
  if (size > kMaxEnvelopeBytes) {
    throw EnvelopeError("envelope is " + std::to_string(size) + " bytes, more than " +
                        std::to_string(kMaxEnvelopeBytes));
  }
  Poco::JSON::Object::Ptr object;
  try {
    Poco::JSON::Parser parser;
    parser.setDepth(kMaxEnvelopeDepth);
    Poco::Dynamic::Var parsed = parser.parse(std::string(body, size));
    if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
      throw EnvelopeError("envelope is not a JSON object");
    }
    object = parsed.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& error) {
    throw EnvelopeError("envelope is not valid JSON: " + error.displayText());
  }

  Envelope envelope;
  busbar::Event& event = envelope.event;
  event.type = stringField(*object, "type", 128);
  if (event.type.empty()) throw EnvelopeError("envelope \"type\" is empty");
  event.id = stringField(*object, "id", 64);
  if (event.id.empty()) throw EnvelopeError("envelope \"id\" is empty");
  event.origin = stringField(*object, "origin", 255);
  event.version = integerField(*object, "version", 0);
  std::string occurred_on = stringField(*object, "occurred_on", 64);
  Poco::DateTime when;
  int zone = 0;
  if (!Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, occurred_on, when,
                                      zone)) {
    throw EnvelopeError("envelope \"occurred_on\" is not an RFC 3339 time: '" + occurred_on + "'");
  }
  when.makeUTC(zone);
  event.occurred_on = when.timestamp();
  Poco::Dynamic::Var payload = field(*object, "payload");
  if (payload.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw EnvelopeError("envelope \"payload\" must be a JSON object");
  }
  event.payload = payload.extract<Poco::JSON::Object::Ptr>();

  if (object->has("seq") != object->has("log")) {
    throw EnvelopeError(
        "envelope \"seq\" and \"log\" go together: both (a logged event) or neither");
  }
  if (object->has("seq")) {
    envelope.logged.seq = static_cast<uint64_t>(integerField(*object, "seq", 1));
    envelope.logged.log_id = stringField(*object, "log", 64);
    if (object->has("request_id")) {
      envelope.logged.request_id = stringField(*object, "request_id", 64);
    }
  }
  envelope.principal = principalField(*object);
  return envelope;
}

}  // namespace nats_transport
