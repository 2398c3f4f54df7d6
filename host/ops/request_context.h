// RequestContext: the id of the request a thread works for now, so that log lines and the events
// that work emits carry it (X-Request-Id).
//
// An HTTP handler runs inside a RequestScope holding its request's id, and so does the delivery
// of an event to subscribers, with the id of the request that emitted it; the log formatters read
// currentRequestId() on the thread that logs, and the event bus stamps it on what a handler
// dispatches. Scopes nest and restore what was there before. A thread-local pointer: setting one
// costs two stores, reading one a load.
//
// Thread-safety: each thread sees only its own scopes.
#pragma once

#include <string>
#include <string_view>

namespace busbar::host {

namespace detail {
// Inline, like the scope below: a handler's scope is set on every request.
inline thread_local std::string_view current_request_id;
}  // namespace detail

// The request id the calling thread works for, or "" outside any scope. Valid until that scope
// ends.
inline std::string_view currentRequestId() { return detail::current_request_id; }

class RequestScope {
 public:
  // Makes `request_id`, which must outlive the scope, the thread's current one ("" for none).
  explicit RequestScope(std::string_view request_id) : previous_(detail::current_request_id) {
    detail::current_request_id = request_id;
  }
  ~RequestScope() { detail::current_request_id = previous_; }
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string_view previous_;
};

}  // namespace busbar::host
