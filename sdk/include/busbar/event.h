// Event: a domain event, the unit that buses and transports carry.
//
// Value type; copies are independent except for the payload, which is shared and must not be
// modified once the event is dispatched. Wire format: docs/events.md.
#pragma once

#include <cstdint>
#include <string>

#include <Poco/JSON/Object.h>
#include <Poco/Timestamp.h>

namespace busbar {

struct Event {
  std::string type;             // e.g. "UserWasCreated"
  std::string id;               // a UUID; dispatch fills a version 7 one (time-ordered) when empty
  Poco::Timestamp occurred_on;  // when the change happened (UTC); defaults to construction time
  std::string origin;           // server_id of the server that dispatched it; filled by dispatch
  int64_t version = 0;          // version of the aggregate after the change
  Poco::JSON::Object::Ptr payload = new Poco::JSON::Object;
};

}  // namespace busbar
