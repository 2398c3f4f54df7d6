#include "auth_settings.h"

#include "busbar/config.h"
#include "http/bearer_tokens.h"

namespace busbar::host {
namespace {

bool isTokenName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

TokenGrant readGrant(const ConfigSection& section, const std::string& name) {
  if (!isTokenName(name)) {
    throw ConfigError(section.file() + ": [" + section.name() +
                      "] names a token with other characters than [A-Za-z0-9_-] (1 to 64); "
                      "rename the section to [token.<name>]");
  }
  section.rejectUnknownKeys({"scopes", "file", "env"});
  TokenGrant grant;
  grant.name = name;
  grant.scopes = section.getList("scopes");
  if (grant.scopes.empty()) {
    section.fail("scopes", "must list what the token may do: read, write, admin or a module's own",
                 "nothing");
  }
  for (const auto& scope : grant.scopes) {
    if (!isScopeName(scope)) {
      section.fail("scopes", "must be scope names of [a-z][a-z0-9_-]* (read, write, admin...)",
                   "'" + scope + "'");
    }
  }
  const bool from_file = section.has("file");
  const bool from_env = section.has("env");
  if (from_file == from_env) {
    throw ConfigError(section.file() + ": [" + section.name() +
                      "] must say where its secret is with exactly one of file = <path> or env = "
                      "<variable>; found " +
                      (from_file ? "both" : "neither") +
                      " (a secret is never written in host.conf itself)");
  }
  grant.file = section.getPath("file", "");
  grant.env = section.getString("env");
  if (from_file && grant.file.empty()) section.fail("file", "must name a file", "nothing");
  if (from_env && grant.env.empty()) {
    section.fail("env", "must name an environment variable", "nothing");
  }
  return grant;
}

}  // namespace

AuthSettings readAuthSettings(const Poco::AutoPtr<Poco::Util::AbstractConfiguration>& config,
                              const std::string& file) {
  AuthSettings settings;
  const ConfigSection http(config, file, "http");
  const ConfigSection admin(config, file, "admin");
  settings.public_listener = http.getChoice("auth", "off", {"off", "bearer"}) == "bearer";
  settings.admin_listener = admin.getChoice("auth", settings.public_listener ? "bearer" : "off",
                                            {"off", "bearer"}) == "bearer";
  settings.open_reads = http.getBool("open_reads", settings.open_reads);

  Poco::Util::AbstractConfiguration::Keys names;
  config->keys("token", names);
  for (const auto& name : names) {
    if (config->hasProperty("token." + name)) {
      throw ConfigError(file + ": [token] " + name +
                        " is a key of a section [token]; each token has a section of its own, "
                        "[token.<name>], with scopes and file or env");
    }
    settings.tokens.push_back(readGrant(ConfigSection(config, file, "token." + name), name));
  }
  const bool checked = settings.public_listener || settings.admin_listener;
  if (checked && settings.tokens.empty()) {
    (settings.public_listener ? http : admin)
        .fail("auth",
              "= bearer needs at least one token: add a [token.<name>] section with scopes and "
              "file or env, or set auth = off",
              "no [token.<name>] section");
  }
  if (!checked && !settings.tokens.empty()) {
    throw ConfigError(file + ": [token." + settings.tokens.front().name +
                      "] grants a token, but [http] auth and [admin] auth are off, so no request "
                      "is checked; set [http] auth = bearer (or [admin] auth = bearer), or remove "
                      "the token sections");
  }
  if (!checked && !settings.open_reads) {
    http.fail("open_reads",
              "= false closes reads only to callers without a token, and auth is off: set [http] "
              "auth = bearer with a token of scope read, or remove open_reads",
              "auth = off");
  }
  return settings;
}

}  // namespace busbar::host
