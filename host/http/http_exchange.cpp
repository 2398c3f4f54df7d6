#include "http/http_exchange.h"

#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "busbar/errors.h"
#include "ops/request_context.h"

namespace busbar::host {
namespace {

bool isJsonContentType(const std::string& content_type) {
  std::string media = Poco::toLower(Poco::trim(content_type.substr(0, content_type.find(';'))));
  return media == "application/json";
}

// An origin-form target with nothing to decode or split ("/users/u1"): its path is itself.
// "//" would start an authority for Poco::URI, so it takes the full parse.
bool isPlainPath(const std::string& target) {
  if (target.empty() || target[0] != '/' || (target.size() > 1 && target[1] == '/')) return false;
  return target.find_first_of("%?#") == std::string::npos;
}

bool hasLineBreak(const std::string& text) {
  return text.find_first_of("\r\n") != std::string::npos;
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

}  // namespace

void HttpExchange::begin(const HttpRouter& router, const RequestHead& head,
                         const AccessPolicy* access) {
  endpoint_ = nullptr;
  caller_ = &AccessPolicy::anonymous();
  answered_ = false;
  request_.method.assign(head.method);
  request_.path.clear();
  request_.params.clear();
  request_.query.clear();
  request_.body.clear();
  target_ = head.target;
  content_type_ = head.content_type;
  response_ = HttpResponse();
  try {
    route(router, head, access);
  } catch (const HttpError& error) {
    answer(error.status(), error.what());
  }
}

void HttpExchange::route(const HttpRouter& router, const RequestHead& head,
                         const AccessPolicy* access) {
  if (isPlainPath(head.target)) {
    request_.path = head.target;  // what Poco::URI would give, without its parse and copies
  } else {
    try {
      Poco::URI uri(head.target);
      request_.path = uri.getPath();
      for (auto& [name, value] : uri.getQueryParameters()) request_.query[name] = value;
    } catch (const Poco::Exception& error) {
      throw HttpError(400, "malformed request URI: " + error.message());
    }
  }
  auto match = router.match(request_.method, request_.path);
  if (match.allow == nullptr) {
    throw HttpError(404, "no route for " + request_.method + " " + request_.path);
  }
  if (match.endpoint == nullptr) {
    answer(405, "method " + request_.method + " is not allowed on " + request_.path +
                    "; allowed: " + *match.allow);
    response_.headers["Allow"] = *match.allow;
    return;
  }
  if (access != nullptr) {
    auto decision = access->decide(match.endpoint->scope, match.endpoint->name, head.authorization);
    caller_ = decision.caller;  // a 403 names who was refused in the access log
    if (!decision.allowed()) {
      answer(decision.status, decision.message);
      response_.headers["WWW-Authenticate"] = std::move(decision.challenge);
      return;
    }
  }
  endpoint_ = match.endpoint;
  request_.params = std::move(match.params);
  checkQuery();
}

void HttpExchange::checkQuery() const {
  if (endpoint_->any_query) return;
  for (const auto& [name, value] : request_.query) {
    const auto& allowed = endpoint_->query_parameters;
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
    throw HttpError(400, "unknown query parameter '" + name + "'; " + endpoint_->name +
                             (allowed.empty() ? " takes none" : " takes only: " + joined(allowed)));
  }
}

void HttpExchange::checkResponse() const {
  // The host frames every answer (Content-Length, Connection) and sends one per request; a
  // handler's own framing would be sent beside it, and a 1xx would leave the client waiting.
  if (response_.status < 200 || response_.status > 599) {
    throw std::runtime_error("the handler answered status " + std::to_string(response_.status) +
                             "; a handler answers a final status, 200 to 599");
  }
  for (const auto& [name, value] : response_.headers) {
    if (hasLineBreak(name) || hasLineBreak(value)) {
      throw std::runtime_error("the handler set header '" + name + "' with a line break");
    }
    for (const char* framing : {"content-length", "transfer-encoding", "connection"}) {
      if (Poco::icompare(name, framing) == 0) {
        throw std::runtime_error("the handler set header '" + name +
                                 "', which the host sets itself; remove it from the handler");
      }
    }
  }
}

void HttpExchange::answer(int status, const std::string& message) {
  response_ = errorResponse(status, message);
  answered_ = true;
}

void HttpExchange::run(std::string body, Poco::Logger& logger, std::string_view request_id) {
  if (answered_) return;
  RequestScope scope(request_id, caller_->principal);
  try {
    if (!body.empty()) {
      if (!isJsonContentType(content_type_)) {
        throw HttpError(415, "request body must be application/json; found Content-Type '" +
                                 content_type_ + "'");
      }
      if (auto offset = firstInvalidUtf8(body)) {
        static const char* kHex = "0123456789abcdef";
        const auto byte = static_cast<unsigned char>(body[*offset]);
        throw HttpError(400, "request body is not valid UTF-8: byte 0x" +
                                 std::string{kHex[byte >> 4], kHex[byte & 15]} + " at offset " +
                                 std::to_string(*offset) + " (JSON text must be UTF-8)");
      }
    }
    request_.body = std::move(body);
    if (endpoint_->caller_handler) {
      endpoint_->caller_handler(request_, *caller_, response_);
    } else {
      endpoint_->handler(request_, response_);
    }
    checkResponse();
  } catch (const HttpError& error) {
    answer(error.status(), error.what());
  } catch (const BadRequest& error) {
    answer(400, error.what());
  } catch (const StorageUnavailable& error) {
    logger.warning(std::string("storage unavailable: ") + error.what());
    answer(503, std::string("storage unavailable: ") + error.what());
    // Each request tries the database afresh: a client may come back in a second.
    response_.headers["Retry-After"] = "1";
  } catch (const TransactionConflict& error) {
    logger.warning(std::string("transaction conflict: ") + error.what());
    answer(503, std::string("the database refused the write because another one worked on the same "
                            "rows, and nothing of it was written; send it again (") +
                    error.what() + ")");
    response_.headers["Retry-After"] = "1";
  } catch (const std::exception& error) {
    logger.error(request_.method + " " + target_ + " failed: " + error.what());
    answer(500, "internal error; see the server log");
  } catch (...) {
    // A handler may throw anything (an int, a type of its own): it costs that request, never
    // the process.
    logger.error(request_.method + " " + target_ +
                 " failed: the handler threw something that is not a std::exception");
    answer(500, "internal error; see the server log");
  }
}

}  // namespace busbar::host
