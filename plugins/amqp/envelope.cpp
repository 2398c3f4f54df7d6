#include "envelope.h"

#include <cctype>
#include <limits>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>

#include "json_guard.h"
#include "rfc3339.h"

namespace busbar::amqp {
namespace {

bool isEventTypeName(const std::string& type) {
  if (type.empty() || type.size() > kMaxTypeLength) return false;
  if (!std::isalpha(static_cast<unsigned char>(type[0]))) return false;
  for (char c : type) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

bool hasControlCharacter(const std::string& text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return true;
  }
  return false;
}

Poco::Dynamic::Var requireField(const Poco::JSON::Object& envelope, const char* name) {
  if (!envelope.has(name)) throw EnvelopeError(std::string("envelope lacks \"") + name + "\"");
  return envelope.get(name);
}

std::string requireString(const Poco::JSON::Object& envelope, const char* name) {
  Poco::Dynamic::Var value = requireField(envelope, name);
  if (!value.isString()) {
    throw EnvelopeError(std::string("envelope \"") + name + "\" must be a string");
  }
  return value.extract<std::string>();
}

// A JSON integer from 0 to 2^63-1 in the field `name`.
int64_t requireNonNegative(const Poco::JSON::Object& envelope, const char* name) {
  Poco::Dynamic::Var value = requireField(envelope, name);
  const std::string field = std::string("envelope \"") + name + "\"";
  if (!value.isInteger() || value.type() == typeid(bool)) {
    throw EnvelopeError(field + " must be an integer");
  }
  if (!value.isSigned()) {
    auto unsigned_value = value.convert<uint64_t>();
    if (unsigned_value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw EnvelopeError(field + " is larger than a signed 64-bit integer");
    }
    return static_cast<int64_t>(unsigned_value);
  }
  auto number = value.convert<int64_t>();
  if (number < 0) throw EnvelopeError(field + " must not be negative");
  return number;
}

// "seq" and "log" come together or not at all.
EventLogSeq readLogged(const Poco::JSON::Object& envelope) {
  const bool has_seq = envelope.has("seq");
  if (has_seq != envelope.has("log")) {
    throw EnvelopeError(
        "envelope \"seq\" and \"log\" go together: both (a logged event) or "
        "neither");
  }
  EventLogSeq logged;
  if (!has_seq) return logged;
  int64_t seq = requireNonNegative(envelope, "seq");
  if (seq == 0) throw EnvelopeError("envelope \"seq\" must be at least 1");
  logged.seq = static_cast<uint64_t>(seq);
  logged.log_id = requireString(envelope, "log");
  if (!isCanonicalUuid(logged.log_id)) {
    throw EnvelopeError("envelope \"log\" must be a UUID (8-4-4-4-12 hex digits)");
  }
  return logged;
}

// "request_id" is optional: 1 to 64 visible ASCII characters, no quote or backslash.
std::string readRequestId(const Poco::JSON::Object& envelope) {
  if (!envelope.has("request_id")) return "";
  const std::string id = requireString(envelope, "request_id");
  bool visible = !id.empty() && id.size() <= kMaxRequestIdLength;
  for (char c : id) visible = visible && c > 0x20 && c < 0x7F && c != '"' && c != '\\';
  if (!visible) {
    throw EnvelopeError("envelope \"request_id\" must be 1 to " +
                        std::to_string(kMaxRequestIdLength) +
                        " visible ASCII characters without quotes or backslashes");
  }
  return id;
}

// "principal" is optional, and "" in it means none, as its absence does. busbar reads a token
// name there (1 to 64 letters, digits, '_' or '-', as host.conf names tokens), which can be logged
// and stored as it is; a value of another type or form is read as none rather than refused,
// because producers may add fields of their own and one may already write a principal of its own
// form: its events keep flowing, without one.
std::string readPrincipal(const Poco::JSON::Object& envelope) {
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

bool isCanonicalUuid(const std::string& text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position != (text[i] == '-')) return false;
    if (!dash_position && !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

std::string encodeEnvelope(const Event& event, const EventLogSeq& at,
                           const std::string& principal) {
  Poco::JSON::Object envelope(Poco::JSON_PRESERVE_KEY_ORDER);
  envelope.set("type", event.type);
  envelope.set("id", event.id);
  envelope.set("occurred_on", formatRfc3339(event.occurred_on));
  envelope.set("origin", event.origin);
  envelope.set("version", static_cast<Poco::Int64>(event.version));
  envelope.set("payload",
               event.payload ? event.payload : Poco::JSON::Object::Ptr(new Poco::JSON::Object));
  if (at.seq > 0) {
    envelope.set("seq", static_cast<Poco::UInt64>(at.seq));
    envelope.set("log", at.log_id);
  }
  if (!at.request_id.empty()) envelope.set("request_id", at.request_id);
  if (!principal.empty()) envelope.set("principal", principal);
  std::ostringstream out;
  envelope.stringify(out);
  return out.str();
}

Envelope decodeEnvelope(const std::string& body, const EnvelopeLimits& limits) {
  if (body.size() > limits.max_bytes) {
    throw EnvelopeError("envelope is " + std::to_string(body.size()) +
                        " bytes, more than the limit of " + std::to_string(limits.max_bytes));
  }
  if (auto offset = findInvalidUtf8(body)) {
    throw EnvelopeError("envelope is not valid UTF-8 (at byte " + std::to_string(*offset) + ")");
  }
  if (jsonNestingDepth(body, limits.max_depth) > limits.max_depth) {
    throw EnvelopeError("envelope nests objects and arrays deeper than " +
                        std::to_string(limits.max_depth) + " levels");
  }

  size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && body[first] != '{') {
    throw EnvelopeError("envelope must be a JSON object");
  }
  Poco::Dynamic::Var parsed;
  try {
    Poco::JSON::Parser parser;
    parsed = parser.parse(body);
  } catch (const Poco::Exception& error) {
    throw EnvelopeError("envelope is not JSON: " + error.displayText());
  } catch (const std::exception& error) {
    throw EnvelopeError(std::string("envelope is not JSON: ") + error.what());
  }
  if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw EnvelopeError("envelope must be a JSON object");
  }
  auto envelope = parsed.extract<Poco::JSON::Object::Ptr>();

  Event event;
  event.type = requireString(*envelope, "type");
  if (!isEventTypeName(event.type)) {
    throw EnvelopeError(
        "envelope \"type\" must start with a letter and hold only letters, digits, "
        "'_', '.' or '-', at most " +
        std::to_string(kMaxTypeLength) + " characters");
  }
  event.id = requireString(*envelope, "id");
  if (!isCanonicalUuid(event.id)) {
    throw EnvelopeError("envelope \"id\" must be a UUID (8-4-4-4-12 hex digits)");
  }
  std::string occurred_on = requireString(*envelope, "occurred_on");
  try {
    event.occurred_on = parseRfc3339(occurred_on);
  } catch (const std::invalid_argument& error) {
    throw EnvelopeError(std::string("envelope \"occurred_on\" is not RFC 3339: ") + error.what());
  }
  event.origin = requireString(*envelope, "origin");
  if (event.origin.empty() || event.origin.size() > kMaxOriginLength ||
      hasControlCharacter(event.origin)) {
    throw EnvelopeError("envelope \"origin\" must be 1 to " + std::to_string(kMaxOriginLength) +
                        " bytes without control characters");
  }
  event.version = requireNonNegative(*envelope, "version");
  Poco::Dynamic::Var payload = requireField(*envelope, "payload");
  if (payload.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw EnvelopeError("envelope \"payload\" must be a JSON object");
  }
  event.payload = payload.extract<Poco::JSON::Object::Ptr>();
  EventLogSeq logged = readLogged(*envelope);
  logged.request_id = readRequestId(*envelope);
  std::string principal = readPrincipal(*envelope);
  return Envelope{std::move(event), std::move(logged), std::move(principal)};
}

}  // namespace busbar::amqp
