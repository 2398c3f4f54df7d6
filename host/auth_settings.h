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
// The secret is read once, at start (a reload reads it again): from a file no other user may read,
// or from an environment variable. It never appears in a message, the log or GET /admin/config.
#pragma once

#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Util/AbstractConfiguration.h>

#include "http/bearer_tokens.h"

namespace busbar::host {

struct AuthSettings {
  bool public_listener = false;  // [http] auth = bearer
  bool admin_listener = false;   // [admin] auth = bearer
  bool open_reads = true;        // [http] open_reads
  std::vector<BearerToken> tokens;
};

// Reads and checks the settings above from `config`, the contents of `file`. On failure throws
// ConfigError naming the file, the section and key, what is expected and how to fix it; never the
// secret.
AuthSettings readAuthSettings(const Poco::AutoPtr<Poco::Util::AbstractConfiguration>& config,
                              const std::string& file);

}  // namespace busbar::host
