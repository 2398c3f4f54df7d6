#include "http/bearer_tokens.h"

#include <strings.h>

#include <algorithm>
#include <cstring>

#include <memory>
#include <stdexcept>

#include <openssl/evp.h>

namespace busbar::host {
namespace {

// ASCII only, whatever the locale.
bool isLowerLetter(char c) { return c >= 'a' && c <= 'z'; }
bool isDecimal(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool isScopeName(std::string_view scope) {
  if (scope.empty() || scope.size() > 32 || !isLowerLetter(scope.front())) return false;
  return std::all_of(scope.begin(), scope.end(), [](char c) {
    return isLowerLetter(c) || isDecimal(c) || c == '_' || c == '-';
  });
}

bool isBearerTokenSyntax(std::string_view token) {
  size_t end = token.size();
  while (end > 0 && token[end - 1] == '=') --end;
  if (end == 0) return false;
  for (size_t i = 0; i < end; ++i) {
    const char c = token[i];
    const bool allowed = isLowerLetter(c) || (c >= 'A' && c <= 'Z') || isDecimal(c) || c == '-' ||
                         c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!allowed) return false;
  }
  return true;
}

BearerTokens::BearerTokens(const std::vector<BearerToken>& tokens) {
  entries_.reserve(tokens.size());
  for (const auto& token : tokens) {
    Entry entry;
    entry.digest = digestOf(token.secret);
    entry.caller.principal = token.name;
    entry.caller.scopes = token.scopes;
    std::sort(entry.caller.scopes.begin(), entry.caller.scopes.end());
    entries_.push_back(std::move(entry));
  }
}

BearerTokens::Digest BearerTokens::digestOf(std::string_view secret) {
  // OpenSSL's SHA-256 (the CPU's SHA extensions when it has them), fetched once and run on a
  // context of each thread's own: the one-shot SHA256() looks the algorithm up on every call.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
      EVP_MD_CTX_new(), EVP_MD_CTX_free);
  Digest digest{};
  unsigned int size = 0;
  if (sha256 == nullptr || context == nullptr ||
      EVP_DigestInit_ex2(context.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), secret.data(), secret.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest.data(), &size) != 1 || size != digest.size()) {
    throw std::runtime_error("OpenSSL's SHA-256 failed");
  }
  return digest;
}

BearerTokens::Result BearerTokens::authenticate(std::string_view authorization) const {
  Result result;
  if (authorization.empty()) return result;
  // The scheme is case-insensitive (RFC 9110 11.1); spaces or tabs follow it.
  const size_t end_of_scheme = authorization.find_first_of(" \t");
  const std::string_view scheme = authorization.substr(0, end_of_scheme);
  if (scheme.size() != 6 || ::strncasecmp(scheme.data(), "bearer", 6) != 0) {
    result.outcome = Outcome::kOtherScheme;
    return result;
  }
  std::string_view token = authorization.substr(scheme.size());
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
  result.outcome = Outcome::kInvalid;
  if (!isBearerTokenSyntax(token)) return result;
  const Digest presented = digestOf(token);
  for (const auto& entry : entries_) {
    unsigned char difference = 0;
    for (size_t i = 0; i < presented.size(); ++i) difference |= presented[i] ^ entry.digest[i];
    if (difference == 0) {
      result.outcome = Outcome::kAuthenticated;
      result.caller = &entry.caller;
    }
  }
  return result;
}

}  // namespace busbar::host
