#include "infrastructure/user_routes.h"

#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>
#include <Poco/NumberParser.h>

#include "busbar/errors.h"
#include "infrastructure/user_event_codec.h"

namespace busbar::users {
namespace {

constexpr size_t kDefaultLimit = 100;
constexpr size_t kMaxLimit = 1000;

std::string stringify(const Poco::JSON::Object& json) {
  std::ostringstream out;
  json.stringify(out);
  return out.str();
}

const std::string& userId(const HttpRequest& request) {
  const std::string& id = request.params.at("id");
  if (auto problem = checkUserId(id); !problem.empty()) throw BadRequest(problem);
  return id;
}

struct UserInput {
  std::string name;
  std::optional<std::string> email;
};

UserInput parseUserInput(const std::string& body) {
  if (body.empty()) throw BadRequest("body must be a JSON object with \"name\"");
  Poco::Dynamic::Var parsed;
  try {
    Poco::JSON::Parser parser;
    parsed = parser.parse(body);
  } catch (const Poco::Exception& error) {
    throw BadRequest("body is not valid JSON: " + error.message());
  }
  if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw BadRequest("body must be a JSON object with \"name\"");
  }
  auto object = parsed.extract<Poco::JSON::Object::Ptr>();
  for (const auto& [field, value] : *object) {
    if (field != "name" && field != "email") {
      throw BadRequest("unknown field '" + field + "'; allowed fields: name, email");
    }
  }
  UserInput input;
  if (!object->has("name")) throw BadRequest("field 'name' is required");
  if (!object->get("name").isString()) throw BadRequest("field 'name' must be a string");
  input.name = object->getValue<std::string>("name");
  if (auto problem = checkUserName(input.name); !problem.empty()) throw BadRequest(problem);
  if (object->has("email") && !object->isNull("email")) {
    if (!object->get("email").isString()) throw BadRequest("field 'email' must be a string");
    input.email = object->getValue<std::string>("email");
    if (auto problem = checkUserEmail(*input.email); !problem.empty()) throw BadRequest(problem);
  }
  return input;
}

size_t queryNumber(const HttpRequest& request, const std::string& name, size_t fallback,
                   size_t min, size_t max) {
  auto found = request.query.find(name);
  if (found == request.query.end()) return fallback;
  Poco::UInt64 value = 0;
  if (!Poco::NumberParser::tryParseUnsigned64(found->second, value) || value < min ||
      value > max) {
    throw BadRequest("query parameter '" + name + "' must be an integer from " +
                     std::to_string(min) + " to " + std::to_string(max) + "; found '" +
                     found->second + "'");
  }
  return static_cast<size_t>(value);
}

}  // namespace

void registerUserRoutes(Routes& routes, UserService& service) {
  routes.add("PUT", "/users/{id}", [&service](const HttpRequest& request, HttpResponse& response) {
    const std::string& id = userId(request);
    UserInput input = parseUserInput(request.body);
    SaveResult result = service.put(id, input.name, input.email);
    response.status = result.created ? 201 : 200;
    response.body = stringify(*userToJson(result.user));
  });

  routes.add("GET", "/users/{id}", [&service](const HttpRequest& request, HttpResponse& response) {
    const std::string& id = userId(request);
    auto user = service.get(id);
    if (!user) throw HttpError(404, "user '" + id + "' not found");
    response.body = stringify(*userToJson(*user));
  });

  routes.add("DELETE", "/users/{id}",
             [&service](const HttpRequest& request, HttpResponse& response) {
               const std::string& id = userId(request);
               if (!service.remove(id)) throw HttpError(404, "user '" + id + "' not found");
               response.status = 204;
             });

  routes.add("GET", "/users", [&service](const HttpRequest& request, HttpResponse& response) {
    size_t limit = queryNumber(request, "limit", kDefaultLimit, 1, kMaxLimit);
    size_t offset = queryNumber(request, "offset", 0, 0, SIZE_MAX / 2);
    Poco::JSON::Array::Ptr users = new Poco::JSON::Array;
    for (const auto& user : service.list(limit, offset)) users->add(userToJson(user));
    Poco::JSON::Object body;
    body.set("users", users);
    response.body = stringify(body);
  });
}

}  // namespace busbar::users
