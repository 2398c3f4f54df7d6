// The secrets of the tokens host.conf grants, read and checked by the server alone and hashed as
// they are read (BearerTokens keeps only digests).
//
// A secret file must be a regular file, not a symbolic link, owned by root or by the user busbar
// runs as, readable by no other user and writable by nobody but its owner: whoever could change
// it could grant themselves the token's scopes at the next reload. A secret in an environment
// variable stays in the process's environment (/proc/<pid>/environ, which its user and root can
// read). Each secret is one line of RFC 6750's b64token syntax, at least 16 characters.
#pragma once

#include <memory>
#include <string>

#include "auth_settings.h"
#include "http/bearer_tokens.h"

namespace busbar::host {

// Reads the secret of every token `settings` grants, checks it, and returns the tokens. Every
// buffer of busbar's that a secret passed through is wiped. On failure throws ConfigError naming
// `config_file`, the token's section, what is wrong and the fix; never the secret.
std::unique_ptr<BearerTokens> loadBearerTokens(const AuthSettings& settings,
                                               const std::string& config_file);

}  // namespace busbar::host
