#include "ops/parked_event_routes.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "ops/json_text.h"

namespace busbar::host {
namespace {

std::string isoTime(int64_t microseconds) {
  return Poco::DateTimeFormatter::format(Poco::Timestamp(microseconds),
                                         Poco::DateTimeFormat::ISO8601_FRAC_FORMAT);
}

Poco::JSON::Object::Ptr describe(const ParkingLot::Parked& parked) {
  const Event& event = parked.logged.event;
  Poco::JSON::Object::Ptr json = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  json->set("seq", parked.logged.seq);
  json->set("event_id", event.id);
  json->set("type", event.type);
  json->set("origin", event.origin);
  json->set("version", event.version);
  json->set("occurred_on", isoTime(event.occurred_on.epochMicroseconds()));
  json->set("request_id", parked.logged.request_id);
  json->set("principal", parked.logged.principal);
  json->set("error", parked.error);
  json->set("parked_at", isoTime(parked.parked_at));
  json->set("replays", parked.replays);
  json->set("payload", event.payload);
  return json;
}

Poco::JSON::Array::Ptr describe(const std::vector<ParkingLot::Parked>& list) {
  Poco::JSON::Array::Ptr array = new Poco::JSON::Array;
  for (const auto& parked : list) array->add(describe(parked));
  return array;
}

std::string replayed(const ParkingLot::ReplayOutcome& outcome) {
  Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  Poco::JSON::Array delivered;
  for (const auto& id : outcome.delivered) delivered.add(id);
  body.set("delivered", delivered);
  body.set("still_parked", describe(outcome.still_parked));
  return jsonText(body);
}

HttpError notParked(const std::string& event_id) {
  return HttpError(404, "no event " + event_id +
                            " is parked on this server; GET /admin/events/parked lists those "
                            "that are");
}

}  // namespace

void addParkedEventRoutes(Routes& routes, ParkingLot& lot, ReplayParked replay) {
  routes.add("GET", "/admin/events/parked", [&lot](const HttpRequest&, HttpResponse& response) {
    const auto parked = lot.list();
    Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
    body.set("count", parked.size());
    body.set("unsaved", lot.unsaved());
    body.set("parked", describe(parked));
    response.body = jsonText(body);
  });

  routes.add("POST", "/admin/events/parked/replay",
             [replay](const HttpRequest&, HttpResponse& response) {
               response.body = replayed(replay({}));
             });

  routes.add("POST", "/admin/events/parked/{event_id}/replay",
             [&lot, replay](const HttpRequest& request, HttpResponse& response) {
               const std::string& id = request.params.at("event_id");
               if (!lot.find(id)) throw notParked(id);
               response.body = replayed(replay({id}));
             });

  routes.add("DELETE", "/admin/events/parked/{event_id}",
             [&lot](const HttpRequest& request, HttpResponse& response) {
               const std::string& id = request.params.at("event_id");
               if (!lot.drop(id)) throw notParked(id);
               Poco::JSON::Object body;
               body.set("dropped", id);
               response.body = jsonText(body);
             });
}

}  // namespace busbar::host
