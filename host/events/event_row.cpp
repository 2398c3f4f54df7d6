#include "events/event_row.h"

#include <sstream>

#include <Poco/JSON/Parser.h>

#include "busbar/errors.h"

namespace busbar::host {

std::string payloadText(const Event& event) {
  if (!event.payload) return "{}";
  std::ostringstream out;
  event.payload->stringify(out);
  return out.str();
}

Row eventRow(const LoggedEvent& logged) {
  const Event& event = logged.event;
  return {{"event_id", event.id},
          {"seq", static_cast<int64_t>(logged.seq)},
          {"event_type", event.type},
          {"occurred_on", static_cast<int64_t>(event.occurred_on.epochMicroseconds())},
          {"origin", event.origin},
          {"version", event.version},
          {"payload", payloadText(event)},
          {"request_id",
           logged.request_id.empty() ? Value(std::monostate{}) : Value(logged.request_id)}};
}

LoggedEvent toLoggedEvent(const Row& row) {
  LoggedEvent logged;
  logged.seq = static_cast<uint64_t>(asInt(row.at("seq")));
  Event& event = logged.event;
  event.id = asText(row.at("event_id"));
  event.type = asText(row.at("event_type"));
  event.occurred_on = Poco::Timestamp(asInt(row.at("occurred_on")));
  event.origin = asText(row.at("origin"));
  event.version = asInt(row.at("version"));
  const Value& request_id = row.at("request_id");
  if (!isNull(request_id)) logged.request_id = asText(request_id);
  try {
    Poco::JSON::Parser parser;
    event.payload = parser.parse(asText(row.at("payload"))).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception& error) {
    // Only busbar writes this column, from a JSON object; anything else is a damaged row.
    throw StorageError("the event log's row " + std::to_string(logged.seq) +
                       " has a payload that is not a JSON object: " + error.what());
  }
  return logged;
}

}  // namespace busbar::host
