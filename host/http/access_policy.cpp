#include "http/access_policy.h"

namespace busbar::host {
namespace {

std::string listOfScopes(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text.empty() ? "none" : text;
}

}  // namespace

const Caller& AccessPolicy::anonymous() {
  static const Caller kAnonymous;
  return kAnonymous;
}

AccessPolicy::Decision AccessPolicy::decide(const std::string& scope, const std::string& route,
                                            std::string_view authorization) const {
  Decision decision;
  decision.caller = &anonymous();
  if (tokens_ == nullptr) return decision;
  const auto result = tokens_->authenticate(authorization);
  if (result.caller != nullptr) decision.caller = result.caller;
  const auto refuse = [&](int status, std::string message, std::string challenge) {
    decision.status = status;
    decision.message = std::move(message);
    decision.challenge = std::move(challenge);
    return decision;
  };
  // A token that is sent must be valid, also on a route open without one: a client whose token
  // was revoked learns it at once.
  if (result.outcome == BearerTokens::Outcome::kInvalid) {
    decision.caller = &anonymous();
    return refuse(401,
                  "the bearer token sent is not one this server grants (" + route +
                      "); send a valid token, or none on a route open to anyone",
                  R"(Bearer realm="busbar", error="invalid_token")");
  }
  if (scope == kScopePublic || (scope == kScopeRead && open_reads_)) return decision;
  if (result.outcome == BearerTokens::Outcome::kAuthenticated) {
    if (result.caller->holds(scope)) return decision;
    return refuse(403,
                  "token '" + result.caller->principal + "' does not hold scope '" + scope +
                      "', which " + route +
                      " needs; it holds: " + listOfScopes(result.caller->scopes) +
                      " (the server's host.conf grants scopes in [token." +
                      result.caller->principal + "] scopes)",
                  R"(Bearer realm="busbar", error="insufficient_scope", scope=")" + scope + "\"");
  }
  const std::string needs = route + " needs a bearer token with scope '" + scope + "'";
  return refuse(401,
                result.outcome == BearerTokens::Outcome::kAbsent
                    ? needs + "; send Authorization: Bearer <token>"
                    : needs +
                          "; this server takes only bearer tokens (Authorization: Bearer "
                          "<token>), and the request sent another scheme",
                R"(Bearer realm="busbar", scope=")" + scope + "\"");
}

}  // namespace busbar::host
