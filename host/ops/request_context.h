// RequestContext: the request a thread works for now (its X-Request-Id and the principal of its
// bearer token), so that log lines and the events that work emits carry them.
//
// An HTTP handler runs inside a RequestScope holding its request's id and caller, and so does the
// delivery of an event to subscribers, with those of the request that emitted it; the log
// formatters read currentRequestId() on the thread that logs, and the event bus stamps both on
// what a handler (or a subscriber reacting to an event) dispatches. Scopes nest and restore what
// was there before. Thread-local views: setting one costs four stores, reading one a load.
//
// Thread-safety: each thread sees only its own scopes.
#pragma once

#include <string>
#include <string_view>

namespace busbar::host {

namespace detail {
// Inline, like the scope below: a handler's scope is set on every request.
inline thread_local std::string_view current_request_id;
inline thread_local std::string_view current_principal;
}  // namespace detail

// The request id the calling thread works for, or "" outside any scope. Valid until that scope
// ends.
inline std::string_view currentRequestId() { return detail::current_request_id; }

// The principal (the bearer token's name) of the request the calling thread works for, or ""
// outside any scope or for a request without a token. Valid until that scope ends.
inline std::string_view currentPrincipal() { return detail::current_principal; }

class RequestScope {
 public:
  // Makes `request_id` and `principal`, which must outlive the scope, the thread's current ones
  // ("" for none).
  RequestScope(std::string_view request_id, std::string_view principal)
      : previous_request_id_(detail::current_request_id),
        previous_principal_(detail::current_principal) {
    detail::current_request_id = request_id;
    detail::current_principal = principal;
  }
  ~RequestScope() {
    detail::current_request_id = previous_request_id_;
    detail::current_principal = previous_principal_;
  }
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string_view previous_request_id_;
  std::string_view previous_principal_;
};

}  // namespace busbar::host
