// AccessPolicy: who may call which route on one listener, from [http] auth and open_reads
// ([admin] auth for the admin listener) and the tokens host.conf grants.
//
// A route's scope (HttpRouter::Endpoint::scope) is checked after routing, before the body is
// read: a request refused here never reaches a handler and its body is dropped. A route of
// kScopePublic, and one of kScopeRead while reads are open, is served to a caller without a
// token, and a valid token names the caller there; a bearer token that is not granted is refused
// on every route. Answers follow RFC 6750: 401 with a Bearer challenge when the token is missing
// or not granted, 403 with error="insufficient_scope" when it lacks the scope.
//
// Immutable; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "http/bearer_tokens.h"

namespace busbar::host {

class AccessPolicy {
 public:
  // `tokens` null: auth is off, every route open; else it must outlive the policy.
  AccessPolicy(const BearerTokens* tokens, bool open_reads)
      : tokens_(tokens), open_reads_(open_reads) {}

  struct Decision {
    const Caller* caller = nullptr;  // who calls (anonymous() without a valid token), also when
                                     // refused with 403
    int status = 0;                  // refused: 401 or 403; 0 when allowed
    std::string message;             // refused: why, for the JSON error
    std::string challenge;           // refused: the WWW-Authenticate value
    bool allowed() const { return status == 0; }
  };

  // Whether the request whose Authorization header is `authorization` ("" without one) may call
  // `route` (its name, "PUT /users/{id}"), whose scope is `scope`.
  Decision decide(const std::string& scope, const std::string& route,
                  std::string_view authorization) const;

  bool enabled() const { return tokens_ != nullptr; }

  // The caller of a request without a valid token.
  static const Caller& anonymous();

 private:
  const BearerTokens* tokens_;
  bool open_reads_;
};

}  // namespace busbar::host
