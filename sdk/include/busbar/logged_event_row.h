// A logged event as a row of columns, for storage plugins that keep the event log in tables: the
// columns busbar_events holds for an event (event_id, seq, event_type, occurred_on in us, origin,
// version, payload as JSON text, request_id, NULL without one; since SDK 1.6 (toRow2) principal,
// NULL without one), which the host's own tables that keep a copy of an event
// (busbar_parked_events) hold too.
//
// Inline, so that it costs a plugin no library. Stateless; safe from any thread.
#pragma once

#include <sstream>
#include <string>

#include <Poco/JSON/Parser.h>

#include "busbar/errors.h"
#include "busbar/event_log_storage.h"
#include "busbar/storage.h"

namespace busbar::event_row {

// The event's payload as the JSON text of the payload column ("{}" without one).
inline std::string payloadText(const Event& event) {
  if (!event.payload) return "{}";
  std::ostringstream out;
  event.payload->stringify(out);
  return out.str();
}

// The event's columns, seq and request_id included.
inline Row toRow(const LoggedEvent& logged) {
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

// Since SDK 1.6: the event's columns, principal included (a name of its own: toRow({...}) of
// plugins of SDK 1.3 to 1.5 stays unambiguous).
inline Row toRow2(const LoggedEvent2& logged) {
  Row row = toRow(LoggedEvent{logged.seq, logged.event, logged.request_id});
  row["principal"] = logged.principal.empty() ? Value(std::monostate{}) : Value(logged.principal);
  return row;
}

// The event in `row`, which holds the columns toRow() gives. On a payload that is not a JSON
// object, or a column missing or of another type, throws StorageError: only busbar writes these
// rows, so the row is damaged.
inline LoggedEvent fromRow(const Row& row) {
  LoggedEvent logged;
  try {
    logged.seq = static_cast<uint64_t>(asInt(row.at("seq")));
    Event& event = logged.event;
    event.id = asText(row.at("event_id"));
    event.type = asText(row.at("event_type"));
    event.occurred_on = Poco::Timestamp(asInt(row.at("occurred_on")));
    event.origin = asText(row.at("origin"));
    event.version = asInt(row.at("version"));
    const Value& request_id = row.at("request_id");
    if (!isNull(request_id)) logged.request_id = asText(request_id);
  } catch (const std::out_of_range& missing) {
    throw StorageError("an event log row lacks a column: " + std::string(missing.what()));
  }
  try {
    Poco::JSON::Parser parser;
    logged.event.payload =
        parser.parse(asText(row.at("payload"))).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception& error) {
    throw StorageError("the event log's row " + std::to_string(logged.seq) +
                       " has a payload that is not a JSON object: " + error.what());
  }
  return logged;
}

// Since SDK 1.6: the event in `row`, with its principal when the row has that column (a row
// without it, or NULL there: none). Throws as fromRow() does.
inline LoggedEvent2 fromRow2(const Row& row) {
  LoggedEvent logged = fromRow(row);
  LoggedEvent2 attributed{logged.seq, std::move(logged.event), std::move(logged.request_id), {}};
  auto principal = row.find("principal");
  if (principal != row.end() && !isNull(principal->second)) {
    attributed.principal = asText(principal->second);
  }
  return attributed;
}

}  // namespace busbar::event_row
