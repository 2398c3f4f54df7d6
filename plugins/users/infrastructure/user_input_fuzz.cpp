// Fuzz target: the JSON that reaches the users module from outside, through the code that serves
// it. The first byte picks the way in, the rest is the JSON:
// - even: the body of PUT /users/u1, through the registered route. Bad input must be refused with
//   BadRequest (HTTP 400), never with another error (a 500); a body that is taken must come back
//   in the answer and in GET as the same user, and putting the answer's fields again must keep it.
// - odd: the payload of a user event from the bus (type picked by the byte), through fromEvent.
//   A payload that is not a user must be refused with std::invalid_argument (the event is then
//   set aside); one that is taken must turn back into an event that reads the same.
#include <Poco/JSON/Parser.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

#include "application/user_service.h"
#include "busbar/errors.h"
#include "busbar/http.h"
#include "infrastructure/in_memory_user_repository.h"
#include "infrastructure/user_event_codec.h"
#include "infrastructure/user_routes.h"

namespace {

using busbar::users::User;

void check(bool condition) {
  if (!condition) std::abort();
}

// The routes the module registers, by "METHOD pattern".
class RouteTable : public busbar::Routes {
 public:
  void add(const std::string& method, const std::string& pattern,
           busbar::RouteHandler handler) override {
    handlers[method + " " + pattern] = std::move(handler);
  }
  void add(const std::string& method, const std::string& pattern, busbar::RouteHandler handler,
           const busbar::RouteOptions&) override {
    add(method, pattern, std::move(handler));
  }
  std::map<std::string, busbar::RouteHandler> handlers;
};

busbar::HttpResponse call(RouteTable& routes, const std::string& route, const std::string& body) {
  busbar::HttpRequest request;
  request.method = route.substr(0, route.find(' '));
  request.path = "/users/u1";
  request.params["id"] = "u1";
  request.body = body;
  busbar::HttpResponse response;
  routes.handlers.at(route)(request, response);
  return response;
}

Poco::JSON::Object::Ptr parseObject(const std::string& json) {
  Poco::JSON::Parser parser;
  return parser.parse(json).extract<Poco::JSON::Object::Ptr>();
}

User userFromAnswer(const std::string& json) {
  auto object = parseObject(json);
  User user;
  user.id = object->getValue<std::string>("id");
  user.name = object->getValue<std::string>("name");
  if (!object->isNull("email")) user.email = object->getValue<std::string>("email");
  user.version = object->getValue<int64_t>("version");
  return user;
}

void putBody(const std::string& body) {
  busbar::users::InMemoryUserRepository repository;
  busbar::users::UserService service(repository);
  RouteTable routes;
  busbar::users::registerUserRoutes(routes, service, true);
  busbar::HttpResponse put;
  try {
    put = call(routes, "PUT /users/{id}", body);
  } catch (const busbar::BadRequest&) {
    check(!service.get("u1"));  // refused: nothing written
    return;
  }
  check(put.status == 201);
  const User answered = userFromAnswer(put.body);
  check(answered.id == "u1" && answered.version == 1);
  check(userFromAnswer(call(routes, "GET /users/{id}", "").body) == answered);

  // The answer's own fields, put again, are taken and keep the user as it is.
  Poco::JSON::Object again(Poco::JSON_PRESERVE_KEY_ORDER);
  again.set("name", answered.name);
  if (answered.email) again.set("email", *answered.email);
  std::ostringstream text;
  again.stringify(text);
  const busbar::HttpResponse second = call(routes, "PUT /users/{id}", text.str());
  check(second.status == 200);
  User expected = answered;
  expected.version = 2;
  check(userFromAnswer(second.body) == expected);
}

void eventPayload(uint8_t selector, const std::string& json) {
  static const char* const kTypes[] = {"UserWasCreated", "UserWasUpdated", "UserWasDeleted",
                                       "SomethingElse"};
  busbar::Event event;
  event.type = kTypes[(selector >> 1) % 4];
  try {
    Poco::JSON::Parser parser;
    const Poco::Dynamic::Var parsed = parser.parse(json);
    if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) return;  // the envelope refuses these
    event.payload = parsed.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception&) {
    return;  // not JSON: the envelope decoder refuses it before any module sees it
  }
  busbar::users::UserChange change;
  try {
    change = busbar::users::fromEvent(event);
  } catch (const std::invalid_argument&) {
    return;
  }
  const busbar::users::UserChange back = busbar::users::fromEvent(busbar::users::toEvent(change));
  check(back.kind == change.kind);
  check(back.user == change.user);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string json(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    putBody(json);
  } else {
    eventPayload(data[0], json);
  }
  return 0;
}
