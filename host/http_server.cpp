#include "http_server.h"

#include <chrono>
#include <sstream>
#include <thread>

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "busbar/errors.h"

namespace busbar::host {

std::string errorBody(const std::string& message) {
  Poco::JSON::Object body;
  body.set("error", message);
  std::ostringstream out;
  body.stringify(out);
  return out.str();
}

namespace {

using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

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

class RequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  RequestHandler(const HttpRouter& router, const HttpSettings& settings, Poco::Logger& logger)
      : router_(router), settings_(settings), logger_(logger) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    HttpResponse out;
    try {
      serve(request, out);
    } catch (const HttpError& error) {
      out = errorResponse(error.status(), error.what());
    } catch (const BadRequest& error) {
      out = errorResponse(400, error.what());
    } catch (const StorageUnavailable& error) {
      logger_.warning(std::string("storage unavailable: ") + error.what());
      out = errorResponse(503, std::string("storage unavailable: ") + error.what());
    } catch (const std::exception& error) {
      logger_.error(request.getMethod() + " " + request.getURI() + " failed: " + error.what());
      out = errorResponse(500, "internal error; see the server log");
    }
    send(request, response, out);
  }

 private:
  static HttpResponse errorResponse(int status, const std::string& message) {
    HttpResponse response;
    response.status = status;
    response.body = errorBody(message);
    return response;
  }

  void serve(HTTPServerRequest& request, HttpResponse& out) {
    HttpRequest in;
    in.method = request.getMethod();
    const std::string& target = request.getURI();
    if (isPlainPath(target)) {
      in.path = target;  // what Poco::URI would give, without its parse and copies
    } else {
      try {
        Poco::URI uri(target);
        in.path = uri.getPath();
        for (auto& [name, value] : uri.getQueryParameters()) in.query[name] = value;
      } catch (const Poco::Exception& error) {
        throw HttpError(400, "malformed request URI: " + error.message());
      }
    }
    auto match = router_.match(in.method, in.path);
    if (!match.path_known) throw HttpError(404, "no route for " + in.method + " " + in.path);
    if (match.handler == nullptr) {
      out = errorResponse(405, "method " + in.method + " is not allowed on " + in.path +
                                   "; allowed: " + match.allow);
      out.headers["Allow"] = match.allow;
      return;
    }
    readBody(request, in);
    in.params = std::move(match.params);
    (*match.handler)(in, out);
  }

  void readBody(HTTPServerRequest& request, HttpRequest& in) {
    const bool has_length = request.hasContentLength();
    const auto length = has_length ? request.getContentLength64() : 0;
    if (!has_length && !request.getChunkedTransferEncoding()) return;
    if (has_length && length == 0) return;
    if (has_length && static_cast<uint64_t>(length) > settings_.max_body) {
      throw HttpError(413, "request body of " + std::to_string(length) +
                               " bytes is over the limit of " +
                               std::to_string(settings_.max_body) + " bytes");
    }
    std::istream& stream = request.stream();
    std::string body;
    if (has_length) {
      body.resize(static_cast<size_t>(length));
      stream.read(&body[0], static_cast<std::streamsize>(body.size()));
      body.resize(static_cast<size_t>(stream.gcount()));
    } else {
      char chunk[8192];
      while (stream.read(chunk, sizeof chunk) || stream.gcount() > 0) {
        body.append(chunk, static_cast<size_t>(stream.gcount()));
        if (body.size() > settings_.max_body) {
          throw HttpError(413, "request body is over the limit of " +
                                   std::to_string(settings_.max_body) + " bytes");
        }
      }
    }
    if (!body.empty() && !isJsonContentType(request.getContentType())) {
      throw HttpError(415, "request body must be application/json; found Content-Type '" +
                               request.getContentType() + "'");
    }
    in.body = std::move(body);
  }

  static void send(HTTPServerRequest& request, HTTPServerResponse& response,
                   const HttpResponse& out) {
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(out.status));
    for (const auto& [name, value] : out.headers) response.set(name, value);
    // The unread rest of a refused body would be taken for the next request.
    if (out.status == 413) response.setKeepAlive(false);
    if (out.status == 204) {
      response.setContentLength(0);
      response.send();
      return;
    }
    response.setContentType(out.content_type == "application/json"
                                ? "application/json; charset=utf-8"
                                : out.content_type);
    if (request.getMethod() == "HEAD") {
      response.setContentLength(static_cast<std::streamsize>(out.body.size()));
      response.send();
      return;
    }
    response.sendBuffer(out.body.data(), out.body.size());
  }

  const HttpRouter& router_;
  const HttpSettings& settings_;
  Poco::Logger& logger_;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  HandlerFactory(const HttpRouter& router, const HttpSettings& settings, Poco::Logger& logger)
      : router_(router), settings_(settings), logger_(logger) {}

  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new RequestHandler(router_, settings_, logger_);
  }

 private:
  const HttpRouter& router_;
  const HttpSettings& settings_;
  Poco::Logger& logger_;
};

}  // namespace

HttpServer::HttpServer(const HttpRouter& router, const HttpSettings& settings,
                       Poco::Logger& logger)
    : router_(router), settings_(settings), logger_(logger) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start(const std::string& host, uint16_t port) {
  Poco::Net::ServerSocket socket;
  try {
    socket.bind(Poco::Net::SocketAddress(host, port), /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(1024);
  } catch (const Poco::Exception& error) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                             error.displayText());
  }
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(settings_.threads);
  params->setMaxQueued(settings_.max_queued);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);  // unlimited
  params->setKeepAliveTimeout(Poco::Timespan(settings_.keep_alive_seconds, 0));
  params->setServerName("busbar");
  threads_ = std::make_unique<Poco::ThreadPool>(2, settings_.threads + 2);
  server_ = std::make_unique<Poco::Net::HTTPServer>(
      new HandlerFactory(router_, settings_, logger_), *threads_, socket, params);
  server_->start();
}

void HttpServer::stop() {
  if (!server_) return;
  // Stop accepting; connections close after the request they are serving.
  server_->stopAll(false);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::seconds(settings_.shutdown_grace_seconds);
  while (server_->currentConnections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (server_->currentConnections() > 0) {
    logger_.warning(std::to_string(server_->currentConnections()) +
                    " connections still open after the grace period; closing them");
    server_->stopAll(true);
  }
  server_.reset();
  threads_->joinAll();
  threads_.reset();
}

}  // namespace busbar::host
