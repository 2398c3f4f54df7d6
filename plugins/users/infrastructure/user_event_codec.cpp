#include "infrastructure/user_event_codec.h"

#include <limits>
#include <stdexcept>

#include <Poco/Exception.h>

namespace busbar::users {
namespace {

std::string requireString(const Poco::JSON::Object& payload, const std::string& field,
                          const std::string& type) {
  if (!payload.has(field) || !payload.get(field).isString()) {
    throw std::invalid_argument(type + " payload needs a string '" + field + "'");
  }
  return payload.getValue<std::string>(field);
}

int64_t requireVersion(const Poco::JSON::Object& payload, const std::string& type) {
  if (!payload.has("version") || !payload.get("version").isInteger()) {
    throw std::invalid_argument(type + " payload needs an integer 'version'");
  }
  Poco::Int64 version = 0;
  try {
    version = payload.getValue<Poco::Int64>("version");
  } catch (const Poco::RangeException&) {
    version = 0;  // an unsigned integer past Int64's range: refused below
  }
  if (version < 1) {
    throw std::invalid_argument(type + " payload 'version' must be an integer from 1 to " +
                                std::to_string(std::numeric_limits<Poco::Int64>::max()) +
                                "; found " + payload.get("version").toString());
  }
  return version;
}

}  // namespace

Poco::JSON::Object::Ptr userToJson(const User& user) {
  Poco::JSON::Object::Ptr json = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  json->set("id", user.id);
  json->set("name", user.name);
  if (user.email) {
    json->set("email", *user.email);
  } else {
    json->set("email", Poco::Dynamic::Var());
  }
  json->set("version", user.version);
  return json;
}

Event toEvent(const UserChange& change) {
  Event event;
  event.version = change.user.version;
  switch (change.kind) {
    case UserChangeKind::kCreated:
      event.type = kUserWasCreated;
      event.payload = userToJson(change.user);
      break;
    case UserChangeKind::kUpdated:
      event.type = kUserWasUpdated;
      event.payload = userToJson(change.user);
      break;
    case UserChangeKind::kDeleted:
      event.type = kUserWasDeleted;
      event.payload = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
      event.payload->set("id", change.user.id);
      event.payload->set("version", change.user.version);
      break;
  }
  return event;
}

UserChange fromEvent(const Event& event) {
  if (!event.payload) throw std::invalid_argument(event.type + " has no payload");
  const Poco::JSON::Object& payload = *event.payload;
  UserChange change;
  if (event.type == kUserWasCreated) {
    change.kind = UserChangeKind::kCreated;
  } else if (event.type == kUserWasUpdated) {
    change.kind = UserChangeKind::kUpdated;
  } else if (event.type == kUserWasDeleted) {
    change.kind = UserChangeKind::kDeleted;
  } else {
    throw std::invalid_argument("'" + event.type + "' is not a user event");
  }
  change.user.id = requireString(payload, "id", event.type);
  if (auto problem = checkUserId(change.user.id); !problem.empty()) {
    throw std::invalid_argument(event.type + ": " + problem);
  }
  change.user.version = requireVersion(payload, event.type);
  if (change.kind == UserChangeKind::kDeleted) return change;

  change.user.name = requireString(payload, "name", event.type);
  if (auto problem = checkUserName(change.user.name); !problem.empty()) {
    throw std::invalid_argument(event.type + ": " + problem);
  }
  if (payload.has("email") && !payload.isNull("email")) {
    change.user.email = requireString(payload, "email", event.type);
    if (auto problem = checkUserEmail(*change.user.email); !problem.empty()) {
      throw std::invalid_argument(event.type + ": " + problem);
    }
  }
  return change;
}

}  // namespace busbar::users
