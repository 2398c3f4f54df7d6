// HttpExchange: one request from its parsed head to its answer.
//
// begin() routes the head on the event loop thread: a bad target, an unknown path (404), a wrong
// method (405, with Allow), a caller without the token the route needs (401, 403) or an unknown
// query parameter is the answer already, and the body is then dropped. run() makes the checks that
// need the body (415 when it is not JSON, 400 when it is not UTF-8), runs the route's handler, and
// turns every error into {"error": "..."}: HttpError its status, BadRequest 400, StorageUnavailable
// 503 (logged as a warning), anything else 500 (logged), whatever type was thrown. An answer the
// host may not send (a 1xx or other status outside 200-599, the handler's own Content-Length,
// Transfer-Encoding or Connection, a line break in a header) is a 500 too, logged with the reason.
// It runs on the loop thread for a route that never blocks, else on a worker.
//
// Thread-safety: one thread at a time; the connection hands the exchange to a worker and takes it
// back through its event loop's queue, which orders the accesses.
#pragma once

#include <string>

#include <Poco/Logger.h>

#include "busbar/http.h"
#include "http/access_policy.h"
#include "http/http_codec.h"
#include "http/http_router.h"

namespace busbar::host {

class HttpExchange {
 public:
  // Starts a new exchange for `head`, routed by `router`, its caller checked by `access` (null:
  // every route open).
  void begin(const HttpRouter& router, const RequestHead& head, const AccessPolicy* access);

  // True when begin() found the answer (an error) without the handler.
  bool answered() const { return answered_; }

  // True when the route's handler may run on the event loop thread.
  bool neverBlocks() const { return endpoint_ != nullptr && endpoint_->never_blocks; }

  // The route begin() found (its Endpoint::index), or `unmatched` when none took the request.
  size_t route(size_t unmatched) const {
    return endpoint_ != nullptr ? endpoint_->index : unmatched;
  }

  // Answers the request whose body is `body`; the handler and what it logs and dispatches run
  // under `request_id` (request_context.h). Never throws.
  void run(std::string body, Poco::Logger& logger, std::string_view request_id);

  const HttpResponse& response() const { return response_; }

  // Who called, as begin() authenticated it.
  const Caller& caller() const { return *caller_; }

 private:
  void route(const HttpRouter& router, const RequestHead& head, const AccessPolicy* access);
  void checkQuery() const;
  // Throws std::runtime_error when the handler's answer is one the host may not send: a status
  // outside 200-599, a framing header of its own, a line break in a header.
  void checkResponse() const;
  void answer(int status, const std::string& message);

  const HttpRouter::Endpoint* endpoint_ = nullptr;
  const Caller* caller_ = &AccessPolicy::anonymous();
  HttpRequest request_;
  std::string target_;
  std::string content_type_;
  bool answered_ = false;
  HttpResponse response_;
};

}  // namespace busbar::host
