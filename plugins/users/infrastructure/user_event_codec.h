// Conversion between user changes and SDK events (payloads as in docs/events.md).
#pragma once

#include "busbar/event.h"
#include "domain/user_events.h"

namespace busbar::users {

// The event that reports `change`; id, origin and time are stamped by the event bus.
Event toEvent(const UserChange& change);

// The change an event reports. On a type that is not a user event or a payload that does not
// hold a valid user, throws std::invalid_argument saying what is wrong.
UserChange fromEvent(const Event& event);

// {"id","name","email","version"}: the user as the HTTP API and the events show it.
Poco::JSON::Object::Ptr userToJson(const User& user);

}  // namespace busbar::users
