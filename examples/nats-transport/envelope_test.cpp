// The envelope codec: round trips, and who caused the event (the optional "principal").
#include "envelope.h"

#include <gtest/gtest.h>

#include <string>

#include <Poco/DateTimeParser.h>

namespace nats_transport {
namespace {

const char kLogId[] = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

busbar::Event sampleEvent() {
  busbar::Event event;
  event.type = "UserWasCreated";
  event.id = "3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c";
  int zone = 0;
  event.occurred_on = Poco::DateTimeParser::parse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT,
                                                  "2024-05-01T12:34:56.789Z", zone)
                          .timestamp();
  event.origin = "server-a";
  event.version = 7;
  event.payload->set("id", "u1");
  event.payload->set("version", 7);
  return event;
}

Envelope decode(const std::string& body) { return decodeEnvelope(body.data(), body.size()); }

// `body` with `fields` (raw JSON, starting with a comma) added at its end.
std::string withFields(const std::string& body, const std::string& fields) {
  return body.substr(0, body.size() - 1) + fields + "}";
}

TEST(NatsEnvelopeTest, RoundTripsEveryField) {
  const busbar::Event original = sampleEvent();
  Envelope decoded = decode(encodeEnvelope(original, busbar::EventLogSeq{42, kLogId, "req-7"}));
  EXPECT_EQ(decoded.event.type, original.type);
  EXPECT_EQ(decoded.event.id, original.id);
  EXPECT_EQ(decoded.event.occurred_on, original.occurred_on);
  EXPECT_EQ(decoded.event.origin, original.origin);
  EXPECT_EQ(decoded.event.version, original.version);
  EXPECT_EQ(decoded.event.payload->getValue<std::string>("id"), "u1");
  EXPECT_EQ(decoded.logged.seq, 42u);
  EXPECT_EQ(decoded.logged.log_id, kLogId);
  EXPECT_EQ(decoded.logged.request_id, "req-7");
}

TEST(NatsEnvelopeTest, CarriesThePrincipalThatCausedTheEvent) {
  const std::string logged =
      encodeEnvelope(sampleEvent(), busbar::EventLogSeq{42, kLogId, "req-7"}, "deploy");
  EXPECT_NE(logged.find("\"principal\":\"deploy\""), std::string::npos) << logged;
  Envelope decoded = decode(logged);
  EXPECT_EQ(decoded.principal, "deploy");
  EXPECT_EQ(decoded.logged.seq, 42u);
  EXPECT_EQ(decoded.logged.request_id, "req-7");
  // An unlogged event carries it too.
  EXPECT_EQ(decode(encodeEnvelope(sampleEvent(), {}, "ci_runner-2")).principal, "ci_runner-2");
}

TEST(NatsEnvelopeTest, LeavesOutAnEmptyPrincipalAndReadsNoneAsEmpty) {
  // The bytes of a body without a principal are those of a plugin of SDK 1.5.
  EXPECT_EQ(encodeEnvelope(sampleEvent(), {}, ""), encodeEnvelope(sampleEvent()));
  const busbar::EventLogSeq at{42, kLogId, "req-7"};
  EXPECT_EQ(encodeEnvelope(sampleEvent(), at, ""), encodeEnvelope(sampleEvent(), at));
  EXPECT_EQ(encodeEnvelope(sampleEvent(), at, "").find("principal"), std::string::npos);
  EXPECT_EQ(decode(encodeEnvelope(sampleEvent())).principal, "");
  EXPECT_EQ(decode(withFields(encodeEnvelope(sampleEvent()), ",\"principal\":\"\"")).principal, "");
}

// Producers may add fields of their own: one whose "principal" is no token name (another type,
// an e-mail address) still has its events delivered, without a principal.
TEST(NatsEnvelopeTest, ReadsAPrincipalThatIsNoTokenNameAsNone) {
  const std::string body = encodeEnvelope(sampleEvent());
  for (const std::string& value :
       std::vector<std::string>{"7", "null", "true", "[\"deploy\"]", "{\"name\":\"deploy\"}",
                                "\"two words\"", "\"ada@example.org\"", "\"a\\nb\"",
                                "\"caf\u00e9\"", "\"" + std::string(65, 'x') + "\""}) {
    EXPECT_EQ(decode(withFields(body, ",\"principal\":" + value)).principal, "") << value;
  }
  EXPECT_EQ(decode(withFields(body, ",\"principal\":\"" + std::string(64, 'x') + "\"")).principal,
            std::string(64, 'x'));
}

}  // namespace
}  // namespace nats_transport
