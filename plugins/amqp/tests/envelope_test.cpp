// The envelope codec: round trips, the exact wire form, and hostile input.
#include <gtest/gtest.h>

#include <string>

#include "envelope.h"
#include "rfc3339.h"

namespace busbar::amqp {
namespace {

Event sampleEvent() {
  Event event;
  event.type = "UserWasCreated";
  event.id = "3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c";
  event.occurred_on = parseRfc3339("2024-05-01T12:34:56.789Z");
  event.origin = "server-a";
  event.version = 7;
  event.payload->set("id", "u1");
  event.payload->set("name", "Ada \xC3\x9F");  // non-ASCII survives
  event.payload->set("email", "ada@example.org");
  event.payload->set("version", 7);
  return event;
}

// A valid envelope with `field` replaced by `json_value` (raw JSON), or removed when empty.
std::string envelopeWith(const std::string& field, const std::string& json_value) {
  const std::pair<const char*, const char*> fields[] = {
      {"type", "\"UserWasCreated\""},
      {"id", "\"3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c\""},
      {"occurred_on", "\"2024-05-01T12:34:56.789Z\""},
      {"origin", "\"server-a\""},
      {"version", "3"},
      {"payload", "{\"id\":\"u1\"}"}};
  std::string out = "{";
  for (const auto& [name, value] : fields) {
    std::string chosen = name == field ? json_value : value;
    if (chosen.empty()) continue;
    if (out.size() > 1) out += ",";
    out += "\"" + std::string(name) + "\":" + chosen;
  }
  return out + "}";
}

std::string decodeError(const std::string& body, const EnvelopeLimits& limits = {}) {
  try {
    decodeEnvelope(body, limits);
  } catch (const EnvelopeError& error) {
    return error.what();
  }
  return "accepted";
}

TEST(EnvelopeTest, EncodesTheDocumentedWireForm) {
  EXPECT_EQ(encodeEnvelope(sampleEvent()),
            "{\"type\":\"UserWasCreated\",\"id\":\"3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c\","
            "\"occurred_on\":\"2024-05-01T12:34:56.789Z\",\"origin\":\"server-a\",\"version\":7,"
            "\"payload\":{\"email\":\"ada@example.org\",\"id\":\"u1\",\"name\":\"Ada \xC3\x9F\","
            "\"version\":7}}");
}

TEST(EnvelopeTest, RoundTripsEveryField) {
  Event original = sampleEvent();
  Event decoded = decodeEnvelope(encodeEnvelope(original)).event;
  EXPECT_EQ(decoded.type, original.type);
  EXPECT_EQ(decoded.id, original.id);
  EXPECT_EQ(decoded.occurred_on, original.occurred_on);
  EXPECT_EQ(decoded.origin, original.origin);
  EXPECT_EQ(decoded.version, original.version);
  EXPECT_EQ(decoded.payload->getValue<std::string>("name"), "Ada \xC3\x9F");
  EXPECT_EQ(decoded.payload->getValue<int>("version"), 7);
}

TEST(EnvelopeTest, CarriesTheEventLogPositionOfALoggedEvent) {
  const std::string log = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
  std::string body = encodeEnvelope(sampleEvent(), EventLogSeq{42, log, ""});
  EXPECT_NE(body.find(",\"seq\":42,\"log\":\"" + log + "\"}"), std::string::npos) << body;
  Envelope decoded = decodeEnvelope(body);
  EXPECT_EQ(decoded.logged.seq, 42u);
  EXPECT_EQ(decoded.logged.log_id, log);
  EXPECT_EQ(decoded.event.id, sampleEvent().id);
}

TEST(EnvelopeTest, CarriesTheRequestIdOfTheRequestThatEmittedTheEvent) {
  const std::string log = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
  std::string body = encodeEnvelope(sampleEvent(), EventLogSeq{42, log, "req-7f3a"});
  EXPECT_NE(body.find(",\"seq\":42,\"log\":\"" + log + "\",\"request_id\":\"req-7f3a\"}"),
            std::string::npos)
      << body;
  EXPECT_EQ(decodeEnvelope(body).logged.request_id, "req-7f3a");
  // Optional: none written without one, none read from an envelope without it.
  EXPECT_EQ(encodeEnvelope(sampleEvent(), EventLogSeq{42, log, ""}).find("request_id"),
            std::string::npos);
  EXPECT_EQ(decodeEnvelope(encodeEnvelope(sampleEvent())).logged.request_id, "");
}

TEST(EnvelopeTest, RejectsARequestIdThatCouldNotBeLoggedAsItIs) {
  const std::string body = encodeEnvelope(sampleEvent());
  auto with = [&](const std::string& fields) {
    return body.substr(0, body.size() - 1) + fields + "}";
  };
  const std::string rule =
      "envelope \"request_id\" must be 1 to 64 visible ASCII characters without quotes or "
      "backslashes";
  EXPECT_EQ(decodeError(with(",\"request_id\":\"\"")), rule);
  EXPECT_EQ(decodeError(with(",\"request_id\":\"two words\"")), rule);
  EXPECT_EQ(decodeError(with(",\"request_id\":\"" + std::string(65, 'x') + "\"")), rule);
  EXPECT_EQ(decodeError(with(",\"request_id\":\"caf\u00e9\"")), rule);
  EXPECT_EQ(decodeError(with(",\"request_id\":7")), "envelope \"request_id\" must be a string");
  EXPECT_EQ(decodeError(with(",\"request_id\":\"" + std::string(64, 'x') + "\"")), "accepted");
}

TEST(EnvelopeTest, CarriesThePrincipalThatCausedTheEvent) {
  const std::string log = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
  std::string logged = encodeEnvelope(sampleEvent(), EventLogSeq{42, log, "req-7f3a"}, "deploy");
  EXPECT_NE(logged.find(",\"request_id\":\"req-7f3a\",\"principal\":\"deploy\"}"),
            std::string::npos)
      << logged;
  Envelope decoded = decodeEnvelope(logged);
  EXPECT_EQ(decoded.principal, "deploy");
  EXPECT_EQ(decoded.logged.request_id, "req-7f3a");
  // An unlogged event carries it too.
  std::string unlogged = encodeEnvelope(sampleEvent(), {}, "ci_runner-2");
  EXPECT_NE(unlogged.find(",\"principal\":\"ci_runner-2\"}"), std::string::npos) << unlogged;
  EXPECT_EQ(decodeEnvelope(unlogged).principal, "ci_runner-2");
}

TEST(EnvelopeTest, LeavesOutAnEmptyPrincipalAndReadsNoneAsEmpty) {
  const std::string log = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
  // The bytes of an envelope without a principal are those of an SDK 1.5 busbar.
  EXPECT_EQ(encodeEnvelope(sampleEvent(), {}, ""), encodeEnvelope(sampleEvent()));
  EXPECT_EQ(encodeEnvelope(sampleEvent(), EventLogSeq{42, log, "r"}, ""),
            encodeEnvelope(sampleEvent(), EventLogSeq{42, log, "r"}));
  EXPECT_EQ(encodeEnvelope(sampleEvent(), {}, "").find("principal"), std::string::npos);
  EXPECT_EQ(decodeEnvelope(encodeEnvelope(sampleEvent())).principal, "");
  const std::string body = encodeEnvelope(sampleEvent());
  EXPECT_EQ(decodeEnvelope(body.substr(0, body.size() - 1) + ",\"principal\":\"\"}").principal, "");
}

// Producers may add fields of their own: one whose "principal" is no token name (another type,
// an e-mail address) still has its events delivered, without a principal.
TEST(EnvelopeTest, ReadsAPrincipalThatIsNoTokenNameAsNone) {
  const std::string body = encodeEnvelope(sampleEvent());
  auto principalOf = [&](const std::string& value) {
    return decodeEnvelope(body.substr(0, body.size() - 1) + ",\"principal\":" + value + "}")
        .principal;
  };
  for (const std::string& value :
       std::vector<std::string>{"7", "null", "true", "[\"deploy\"]", "{\"name\":\"deploy\"}",
                                "\"two words\"", "\"ada@example.org\"", "\"a\\nb\"",
                                "\"caf\u00e9\"", "\"" + std::string(65, 'x') + "\""}) {
    EXPECT_EQ(principalOf(value), "") << value;
  }
  EXPECT_EQ(principalOf("\"" + std::string(64, 'x') + "\""), std::string(64, 'x'));
  EXPECT_EQ(principalOf("\"ci_runner-2\""), "ci_runner-2");
}

TEST(EnvelopeTest, RejectsAHalfOrWrongEventLogPosition) {
  const std::string body = encodeEnvelope(sampleEvent());
  auto with = [&](const std::string& fields) {
    return body.substr(0, body.size() - 1) + fields + "}";
  };
  EXPECT_EQ(decodeError(with(",\"seq\":3")),
            "envelope \"seq\" and \"log\" go together: both (a logged event) or neither");
  EXPECT_EQ(decodeError(with(",\"log\":\"0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\"")),
            "envelope \"seq\" and \"log\" go together: both (a logged event) or neither");
  EXPECT_EQ(decodeError(with(",\"seq\":0,\"log\":\"0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\"")),
            "envelope \"seq\" must be at least 1");
  EXPECT_EQ(decodeError(with(",\"seq\":\"3\",\"log\":\"0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\"")),
            "envelope \"seq\" must be an integer");
  EXPECT_EQ(decodeError(with(",\"seq\":3,\"log\":\"main\"")),
            "envelope \"log\" must be a UUID (8-4-4-4-12 hex digits)");
}

TEST(EnvelopeTest, AcceptsWhatOtherLanguagesWrite) {
  // Offsets, other fraction lengths, extra fields and whitespace are fine.
  Envelope envelope = decodeEnvelope(
      " {\"payload\":{},\"version\":0,\"origin\":\"php-worker\",\"extra\":[1,2],"
      "\"occurred_on\":\"2024-05-01T14:34:56+02:00\",\"id\":\"3F1C2A4E-8B7D-4C1E-9A2B-"
      "5D6E7F8A9B0C\","
      "\"type\":\"Order.Placed\"}\n");
  const Event& event = envelope.event;
  EXPECT_EQ(envelope.logged.seq, 0u);  // not logged: applied by version
  EXPECT_EQ(event.type, "Order.Placed");
  EXPECT_EQ(event.occurred_on, parseRfc3339("2024-05-01T12:34:56Z"));
  EXPECT_EQ(event.version, 0);
  EXPECT_EQ(event.payload->size(), 0u);
}

TEST(EnvelopeTest, RejectsMissingFields) {
  for (const char* field : {"type", "id", "occurred_on", "origin", "version", "payload"}) {
    EXPECT_EQ(decodeError(envelopeWith(field, "")), std::string("envelope lacks \"") + field + "\"")
        << field;
  }
}

TEST(EnvelopeTest, RejectsWrongTypes) {
  EXPECT_EQ(decodeError(envelopeWith("type", "42")), "envelope \"type\" must be a string");
  EXPECT_EQ(decodeError(envelopeWith("id", "null")), "envelope \"id\" must be a string");
  EXPECT_EQ(decodeError(envelopeWith("occurred_on", "1714566896")),
            "envelope \"occurred_on\" must be a string");
  EXPECT_EQ(decodeError(envelopeWith("origin", "[\"a\"]")), "envelope \"origin\" must be a string");
  EXPECT_EQ(decodeError(envelopeWith("version", "\"3\"")),
            "envelope \"version\" must be an integer");
  EXPECT_EQ(decodeError(envelopeWith("version", "3.5")), "envelope \"version\" must be an integer");
  EXPECT_EQ(decodeError(envelopeWith("version", "true")),
            "envelope \"version\" must be an integer");
  EXPECT_EQ(decodeError(envelopeWith("payload", "[]")),
            "envelope \"payload\" must be a JSON object");
  EXPECT_EQ(decodeError(envelopeWith("payload", "\"{}\"")),
            "envelope \"payload\" must be a JSON object");
}

TEST(EnvelopeTest, RejectsBadValues) {
  EXPECT_NE(decodeError(envelopeWith("type", "\"\"")).find("\"type\" must start with a letter"),
            std::string::npos);
  EXPECT_NE(decodeError(envelopeWith("type", "\"_all\"")).find("\"type\""), std::string::npos);
  EXPECT_NE(decodeError(envelopeWith("type", "\"User Was Created\"")).find("\"type\""),
            std::string::npos);
  EXPECT_NE(decodeError(envelopeWith("type", "\"" + std::string(129, 'a') + "\"")).find("\"type\""),
            std::string::npos);
  EXPECT_EQ(decodeError(envelopeWith("id", "\"not-a-uuid\"")),
            "envelope \"id\" must be a UUID (8-4-4-4-12 hex digits)");
  EXPECT_EQ(decodeError(envelopeWith("id", "\"3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0g\"")),
            "envelope \"id\" must be a UUID (8-4-4-4-12 hex digits)");
  EXPECT_NE(decodeError(envelopeWith("origin", "\"\"")).find("\"origin\" must be 1 to 255"),
            std::string::npos);
  EXPECT_NE(decodeError(envelopeWith("origin", "\"a\\nb\"")).find("\"origin\""), std::string::npos);
  EXPECT_NE(decodeError(envelopeWith("origin", "\"" + std::string(256, 'o') + "\"")).find("origin"),
            std::string::npos);
  EXPECT_EQ(decodeError(envelopeWith("version", "-1")),
            "envelope \"version\" must not be negative");
  EXPECT_EQ(decodeError(envelopeWith("version", "18446744073709551615")),
            "envelope \"version\" is larger than a signed 64-bit integer");
}

TEST(EnvelopeTest, RejectsBadTimestamps) {
  const char* bad[] = {"\"2024-05-01\"",
                       "\"2024-05-01 12:34:56Z\"",
                       "\"2024-05-01T12:34:56\"",
                       "\"2024-13-01T12:34:56Z\"",
                       "\"2023-02-29T12:34:56Z\"",
                       "\"2024-05-01T24:00:00Z\"",
                       "\"2024-05-01T12:60:00Z\"",
                       "\"2024-05-01T12:34:56.Z\"",
                       "\"2024-05-01T12:34:56Zjunk\"",
                       "\"yesterday\"",
                       "\"2024-05-01T12:34:56+2:00\"",
                       "\"1013-12-04T03:00:00.123Z\"",   // before 1970 (found by the fuzzer)
                       "\"9999-12-31T23:59:59-00:30\"",  // after 9999 in UTC
                       "\"\""};
  for (const char* value : bad) {
    std::string error = decodeError(envelopeWith("occurred_on", value));
    EXPECT_EQ(error.rfind("envelope \"occurred_on\" is not RFC 3339: ", 0), 0u)
        << value << " -> " << error;
  }
  EXPECT_EQ(decodeError(envelopeWith("occurred_on", "\"2024-02-29T23:59:59.999999Z\"")),
            "accepted");
  EXPECT_EQ(decodeError(envelopeWith("occurred_on", "\"1970-01-01T00:00:00Z\"")), "accepted");
}

TEST(EnvelopeTest, RejectsWhatIsNotAJsonObject) {
  EXPECT_EQ(decodeError("").rfind("envelope is not JSON", 0), 0u);
  EXPECT_EQ(decodeError("{\"type\":").rfind("envelope is not JSON", 0), 0u);
  EXPECT_EQ(decodeError("{not json}").rfind("envelope is not JSON", 0), 0u);
  EXPECT_EQ(decodeError("not json"), "envelope must be a JSON object");
  EXPECT_EQ(decodeError(" [1,2,3]"), "envelope must be a JSON object");
  EXPECT_EQ(decodeError("\"just a string\""), "envelope must be a JSON object");
  EXPECT_EQ(decodeError("null"), "envelope must be a JSON object");
}

TEST(EnvelopeTest, RejectsInvalidUtf8) {
  std::string body = envelopeWith("origin", "\"caf\xC3\"");  // cut-off sequence
  EXPECT_EQ(decodeError(body).rfind("envelope is not valid UTF-8 (at byte ", 0), 0u);
  EXPECT_EQ(
      decodeError(envelopeWith("origin", "\"\xC0\xAF\"")).rfind("envelope is not valid UTF-8", 0),
      0u);  // overlong '/'
  EXPECT_EQ(decodeError(envelopeWith("origin", "\"\xED\xA0\x80\""))
                .rfind("envelope is not valid UTF-8", 0),
            0u);  // a UTF-16 surrogate
  EXPECT_EQ(decodeError(envelopeWith("origin", "\"\xF4\x90\x80\x80\""))
                .rfind("envelope is not valid UTF-8", 0),
            0u);  // above U+10FFFF
  EXPECT_EQ(decodeError(envelopeWith("origin", "\"\xFF\"")).rfind("envelope is not valid UTF-8", 0),
            0u);
  EXPECT_EQ(decodeError(envelopeWith("origin", "\"\xF0\x9F\x9A\x8C\"")), "accepted");  // 4 bytes
}

TEST(EnvelopeTest, RejectsHugeBodies) {
  std::string big =
      envelopeWith("payload", "{\"blob\":\"" + std::string(2 * 1024 * 1024, 'x') + "\"}");
  EXPECT_EQ(decodeError(big).rfind("envelope is " + std::to_string(big.size()) +
                                       " bytes, more than the limit of 1048576",
                                   0),
            0u);
  EnvelopeLimits small;
  small.max_bytes = 64;
  EXPECT_NE(decodeError(envelopeWith("type", "\"A\""), small).find("more than the limit of 64"),
            std::string::npos);
}

TEST(EnvelopeTest, RejectsDeepNestingBeforeParsing) {
  std::string deep(100000, '[');
  EXPECT_EQ(decodeError(envelopeWith("payload", "{\"a\":" + deep + "}")),
            "envelope nests objects and arrays deeper than 32 levels");
  std::string thirty_one_levels = std::string(30, '[') + std::string(30, ']');
  EXPECT_EQ(decodeError(envelopeWith("payload", "{\"a\":" + thirty_one_levels + "}")), "accepted");
  // Brackets inside strings do not count.
  EXPECT_EQ(decodeError(envelopeWith("payload", "{\"a\":\"" + std::string(100, '[') + "\\\"\"}")),
            "accepted");
}

TEST(EnvelopeTest, CanonicalUuid) {
  EXPECT_TRUE(isCanonicalUuid("3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c"));
  EXPECT_FALSE(isCanonicalUuid("3f1c2a4e8b7d4c1e9a2b5d6e7f8a9b0c"));
  EXPECT_FALSE(isCanonicalUuid("{3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0}"));
}

TEST(Rfc3339Test, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(formatRfc3339(Poco::Timestamp(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(formatRfc3339(parseRfc3339("2024-05-01T12:34:56.789123Z")), "2024-05-01T12:34:56.789Z");
  EXPECT_EQ(formatRfc3339(parseRfc3339("2024-05-01T00:30:00-01:30")), "2024-05-01T02:00:00.000Z");
}

}  // namespace
}  // namespace busbar::amqp
