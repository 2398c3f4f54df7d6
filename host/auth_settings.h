// AuthSettings: who may call which route, as host.conf says: [http] auth and open_reads,
// [admin] auth, and one [token.<name>] section per token granted.
//
//   [http]
//   auth = bearer            ; off (default): every route open to whoever reaches the port
//   open_reads = true        ; routes of scope "read" need no token (the default)
//   [admin]
//   auth = bearer            ; the admin listener; default: as [http] auth
//   [token.deploy]           ; the token's name: the principal handlers and the access log see
//   scopes = write, read
//   file = /etc/busbar/tokens/deploy   ; or: env = BUSBAR_TOKEN_DEPLOY
//
// Reading the settings reads no secret: only the server reads them (token_secrets.h), so that
// `busbar plugins` and the other commands work for an operator who may not read them.
#pragma once

#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Util/AbstractConfiguration.h>

namespace busbar::host {

// A [token.<name>] section: where its secret is, never the secret.
struct TokenGrant {
  std::string name;
  std::vector<std::string> scopes;
  std::string file;  // absolute; empty when the secret is in `env`
  std::string env;   // an environment variable's name; empty when it is in `file`
};

struct AuthSettings {
  bool public_listener = false;  // [http] auth = bearer
  bool admin_listener = false;   // [admin] auth = bearer
  bool open_reads = true;        // [http] open_reads, on both listeners
  std::vector<TokenGrant> tokens;
};

// Reads and checks the settings above from `config`, the contents of `file`. On failure throws
// ConfigError naming the file, the section and key, what is expected and how to fix it.
AuthSettings readAuthSettings(const Poco::AutoPtr<Poco::Util::AbstractConfiguration>& config,
                              const std::string& file);

}  // namespace busbar::host
