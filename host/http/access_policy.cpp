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
  if (scope == kScopePublic || (scope == kScopeRead && open_reads_)) return decision;

  const std::string needs = route + " needs a bearer token with scope '" + scope + "'";
  switch (result.outcome) {
    case BearerTokens::Outcome::kAuthenticated:
      if (result.caller->holds(scope)) return decision;
      decision.status = 403;
      decision.message = "token '" + result.caller->principal + "' does not hold scope '" + scope +
                         "', which " + route +
                         " needs; it holds: " + listOfScopes(result.caller->scopes) +
                         " (the server's host.conf grants scopes in [token." +
                         result.caller->principal + "] scopes)";
      decision.challenge =
          R"(Bearer realm="busbar", error="insufficient_scope", scope=")" + scope + "\"";
      return decision;
    case BearerTokens::Outcome::kAbsent:
      decision.message = needs + "; send Authorization: Bearer <token>";
      break;
    case BearerTokens::Outcome::kOtherScheme:
      decision.message = needs +
                         "; this server takes only bearer tokens (Authorization: Bearer "
                         "<token>), and the request sent another scheme";
      break;
    case BearerTokens::Outcome::kInvalid:
      decision.message = needs + "; the token sent is not one this server grants";
      decision.challenge = R"(Bearer realm="busbar", error="invalid_token")";
      break;
  }
  decision.status = 401;
  decision.caller = &anonymous();
  if (decision.challenge.empty())
    decision.challenge = R"(Bearer realm="busbar", scope=")" + scope + "\"";
  return decision;
}

}  // namespace busbar::host
