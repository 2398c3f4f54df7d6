// BearerTokens: the tokens host.conf grants ([token.<name>] sections), and the caller each one
// authenticates.
//
// A request's token is compared with every granted one in constant time: the SHA-256 digests of
// both are compared byte for byte without an early exit, over every token, so that neither how far
// a guess matches nor its length shows in the time the check takes. Only the digests are kept.
//
// Immutable after construction; thread-safe.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "busbar/http.h"

namespace busbar::host {

// True when `scope` can name a scope: [a-z][a-z0-9_-]*, at most 32 characters.
bool isScopeName(std::string_view scope);

// True when `token` has the syntax of a bearer token (RFC 6750's b64token: [A-Za-z0-9-._~+/]+
// then any '=').
bool isBearerTokenSyntax(std::string_view token);

// A token host.conf grants: its name (the principal), its scopes and its secret.
struct BearerToken {
  std::string name;
  std::vector<std::string> scopes;
  std::string secret;
};

class BearerTokens {
 public:
  // Keeps the digest of each token's secret, never the secret. Names must differ, and so must
  // secrets (loadBearerTokens checks both).
  explicit BearerTokens(const std::vector<BearerToken>& tokens);

  enum class Outcome {
    kAbsent,         // no Authorization header
    kOtherScheme,    // credentials of another scheme (Basic...)
    kInvalid,        // "Bearer" with a token that is malformed or granted to nobody
    kAuthenticated,  // caller is set
  };
  struct Result {
    Outcome outcome = Outcome::kAbsent;
    const Caller* caller = nullptr;  // kAuthenticated: the token's caller, alive as long as this
  };

  // Authenticates the value of a request's Authorization header ("" when it had none).
  Result authenticate(std::string_view authorization) const;

  size_t size() const { return entries_.size(); }

 private:
  using Digest = std::array<unsigned char, 32>;
  static Digest digestOf(std::string_view secret);

  struct Entry {
    Digest digest;
    Caller caller;
  };
  std::vector<Entry> entries_;
};

}  // namespace busbar::host
