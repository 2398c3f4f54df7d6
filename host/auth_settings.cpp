#include "auth_settings.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <Poco/String.h>

#include "busbar/config.h"

namespace busbar::host {
namespace {

constexpr size_t kShortestSecret = 16;

bool isTokenName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

std::string readSecretFile(const ConfigSection& section, const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0 || !S_ISREG(status.st_mode)) {
    section.fail("file", "must name a readable file holding the token",
                 "'" + path + "', which " +
                     (::stat(path.c_str(), &status) != 0 ? "does not exist" : "is not a file"));
  }
  if ((status.st_mode & S_IROTH) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
    section.fail("file",
                 "must not be readable by every user of the machine: chmod 600 it (or 640, owned "
                 "by the group busbar runs as)",
                 "'" + path + "' with mode " + mode);
  }
  std::ifstream in(path);
  if (!in) section.fail("file", "must be readable by busbar", "'" + path + "' (permission denied)");
  std::stringstream text;
  text << in.rdbuf();
  return Poco::trim(text.str());
}

BearerToken readToken(const ConfigSection& section, const std::string& name) {
  if (!isTokenName(name)) {
    throw ConfigError(section.file() + ": [" + section.name() +
                      "] names a token with other characters than [A-Za-z0-9_-] (1 to 64); "
                      "rename the section to [token.<name>]");
  }
  section.rejectUnknownKeys({"scopes", "file", "env"});
  BearerToken token;
  token.name = name;
  token.scopes = section.getList("scopes");
  if (token.scopes.empty()) {
    section.fail("scopes", "must list what the token may do: read, write, admin or a module's own",
                 "nothing");
  }
  for (const auto& scope : token.scopes) {
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
  if (from_file) {
    const std::string path = section.getPath("file", "");
    token.secret = readSecretFile(section, path);
    token.source = "file " + path;
  } else {
    const std::string variable = section.getString("env");
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr || *value == '\0') {
      section.fail("env", "must name an environment variable that holds the token",
                   "'" + variable + "', which is not set in busbar's environment");
    }
    token.secret = Poco::trim(std::string(value));
    token.source = "environment variable " + variable;
  }
  const std::string where = "the token in " + token.source;
  if (!isBearerTokenSyntax(token.secret)) {
    throw ConfigError(section.file() + ": [" + section.name() + "] " + where +
                      " is not a bearer token: it must be one line of [A-Za-z0-9-._~+/] (then any "
                      "'='), e.g. made by `openssl rand -hex 32`");
  }
  if (token.secret.size() < kShortestSecret) {
    throw ConfigError(section.file() + ": [" + section.name() + "] " + where + " has " +
                      std::to_string(token.secret.size()) +
                      " characters, too few to resist guessing: use at least " +
                      std::to_string(kShortestSecret) + ", e.g. made by `openssl rand -hex 32`");
  }
  return token;
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
  std::map<std::string, std::string> holder_of_secret;
  for (const auto& name : names) {
    if (config->hasProperty("token." + name)) {
      throw ConfigError(file + ": [token] " + name +
                        " is a key of a section [token]; each token has a section of its own, "
                        "[token.<name>], with scopes and file or env");
    }
    BearerToken token = readToken(ConfigSection(config, file, "token." + name), name);
    auto [held, fresh] = holder_of_secret.emplace(token.secret, token.name);
    if (!fresh) {
      throw ConfigError(file + ": [token." + name + "] and [token." + held->second +
                        "] hold the same secret, so a request could not tell which one calls; give "
                        "each its own");
    }
    settings.tokens.push_back(std::move(token));
  }
  const bool checked = settings.public_listener || settings.admin_listener;
  if (checked && settings.tokens.empty()) {
    const bool by_http = settings.public_listener;
    (by_http ? http : admin)
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
  return settings;
}

}  // namespace busbar::host
