#include "infrastructure/user_routes.h"

#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSONString.h>
#include <Poco/NumberParser.h>

#include "busbar/errors.h"
#include "infrastructure/user_event_codec.h"

namespace busbar::users {
namespace {

constexpr size_t kDefaultLimit = 100;
constexpr size_t kMaxLimit = 1000;

// A JSON string as Poco::JSON writes it. Printable ASCII other than '"' and '\\' comes out as it
// is; anything else goes through Poco::toJSON, whose ostringstream costs more than the rest of
// a cached read.
void appendJsonString(std::string& out, const std::string& value) {
  for (unsigned char c : value) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
      out += Poco::toJSON(value, Poco::JSON_WRAP_STRINGS);
      return;
    }
  }
  out += '"';
  out += value;
  out += '"';
}

// The bytes stringify(*userToJson(user)) gives (same key order, same escaping), without the
// Poco::JSON::Object: on the read path its dozen allocations and the ostringstream were most of
// busbar's own instructions per request.
void appendUserJson(std::string& out, const User& user) {
  out += "{\"id\":";
  appendJsonString(out, user.id);
  out += ",\"name\":";
  appendJsonString(out, user.name);
  out += ",\"email\":";
  if (user.email) {
    appendJsonString(out, *user.email);
  } else {
    out += "null";
  }
  out += ",\"version\":";
  out += std::to_string(user.version);
  out += '}';
}

std::string userJson(const User& user) {
  std::string out;
  out.reserve(64 + user.id.size() + user.name.size() + (user.email ? user.email->size() : 0));
  appendUserJson(out, user);
  return out;
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

size_t queryNumber(const HttpRequest& request, const std::string& name, size_t fallback, size_t min,
                   size_t max) {
  auto found = request.query.find(name);
  if (found == request.query.end()) return fallback;
  Poco::UInt64 value = 0;
  if (!Poco::NumberParser::tryParseUnsigned64(found->second, value) || value < min || value > max) {
    throw BadRequest("query parameter '" + name + "' must be an integer from " +
                     std::to_string(min) + " to " + std::to_string(max) + "; found '" +
                     found->second + "'");
  }
  return static_cast<size_t>(value);
}

}  // namespace

void registerUserRoutes(Routes& routes, UserService& service, bool reads_from_memory) {
  // Writes go to the database, so they run on the host's workers. Reads from the in-memory table
  // take a short lock and never wait on I/O, so they run on the event loop that read them.
  RouteOptions write;
  RouteOptions read_one;
  read_one.never_blocks = reads_from_memory;
  RouteOptions read_list = read_one;
  read_list.query_parameters = {"limit", "offset"};

  routes.add(
      "PUT", "/users/{id}",
      [&service](const HttpRequest& request, HttpResponse& response) {
        const std::string& id = userId(request);
        UserInput input = parseUserInput(request.body);
        SaveResult result = service.put(id, input.name, input.email);
        response.status = result.created ? 201 : 200;
        response.body = userJson(result.user);
      },
      write);

  routes.add(
      "GET", "/users/{id}",
      [&service](const HttpRequest& request, HttpResponse& response) {
        const std::string& id = userId(request);
        auto user = service.get(id);
        if (!user) throw HttpError(404, "user '" + id + "' not found");
        response.body = userJson(*user);
      },
      read_one);

  routes.add(
      "DELETE", "/users/{id}",
      [&service](const HttpRequest& request, HttpResponse& response) {
        const std::string& id = userId(request);
        if (!service.remove(id)) throw HttpError(404, "user '" + id + "' not found");
        response.status = 204;
      },
      write);

  routes.add(
      "GET", "/users",
      [&service](const HttpRequest& request, HttpResponse& response) {
        size_t limit = queryNumber(request, "limit", kDefaultLimit, 1, kMaxLimit);
        size_t offset = queryNumber(request, "offset", 0, 0, SIZE_MAX / 2);
        // {"users":[...]} as Poco::JSON would write it.
        std::string body = "{\"users\":[";
        bool first = true;
        for (const auto& user : service.list(limit, offset)) {
          if (!first) body += ',';
          first = false;
          appendUserJson(body, user);
        }
        body += "]}";
        response.body = std::move(body);
      },
      read_list);
}

}  // namespace busbar::users
