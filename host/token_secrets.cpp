#include "token_secrets.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "busbar/errors.h"

namespace busbar::host {
namespace {

constexpr size_t kShortestSecret = 16;
constexpr size_t kLongestSecretFile = 4096;

// The secrets read so far, wiped when they go, whatever ends the loading.
class SecretStore {
 public:
  SecretStore() = default;
  SecretStore(const SecretStore&) = delete;
  SecretStore& operator=(const SecretStore&) = delete;
  ~SecretStore() {
    for (auto& token : tokens) ::explicit_bzero(token.secret.data(), token.secret.size());
  }
  std::vector<BearerToken> tokens;
};

// Trims spaces and line breaks around `text` in place, without a copy.
void trimInPlace(std::string& text) {
  const char* blanks = " \t\r\n";
  const size_t end = text.find_last_not_of(blanks);
  if (end == std::string::npos) {
    ::explicit_bzero(text.data(), text.size());
    text.clear();
    return;
  }
  text.erase(end + 1);
  const size_t begin = text.find_first_not_of(blanks);
  text.erase(0, begin);
}

class SecretReader {
 public:
  SecretReader(const std::string& config_file, const TokenGrant& grant)
      : section_(config_file + ": [token." + grant.name + "]"), grant_(grant) {}

  // Reads the grant's secret into `out` (which the caller wipes).
  void read(std::string& out) const {
    if (!grant_.file.empty()) {
      readFile(out);
    } else {
      const char* value = std::getenv(grant_.env.c_str());
      if (value == nullptr || *value == '\0') {
        fail(" env must name an environment variable that holds the token; found '" + grant_.env +
             "', which is not set in busbar's environment");
      }
      out.assign(value);
    }
    trimInPlace(out);
    const std::string where = " the token in " + source();
    if (!isBearerTokenSyntax(out)) {
      fail(where +
           " is not a bearer token: it must be one line of [A-Za-z0-9-._~+/] (then any "
           "'='), e.g. made by `openssl rand -hex 32`");
    }
    if (out.size() < kShortestSecret) {
      fail(where + " has " + std::to_string(out.size()) +
           " characters, too few to resist guessing: use at least " +
           std::to_string(kShortestSecret) + ", e.g. made by `openssl rand -hex 32`");
    }
  }

  std::string source() const {
    return grant_.file.empty() ? "environment variable " + grant_.env : "file " + grant_.file;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw ConfigError(section_ + what); }

  void readFile(std::string& out) const {
    const std::string& path = grant_.file;
    const std::string found = "; found '" + path + "'";
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      const int error = errno;
      if (error == ELOOP) {
        fail(" file must name the token's file itself, not a symbolic link" + found);
      }
      fail(" file must name a file busbar can read holding the token" + found + ": " +
           ::strerror(error));
    }
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat status {};
    if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
      fail(" file must name a regular file holding the token" + found + ", which is not one");
    }
    if ((status.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
      fail(
          " file must be readable by no other user and writable by its owner alone: chmod 600 "
          "it (or 640, owned by the group busbar runs as)" +
          found + " with mode " + mode);
    }
    if (status.st_uid != 0 && status.st_uid != ::geteuid()) {
      fail(" file must be owned by root or by the user busbar runs as (uid " +
           std::to_string(::geteuid()) + "): chown it" + found + ", owned by uid " +
           std::to_string(status.st_uid));
    }
    out.resize(kLongestSecretFile + 1);
    size_t size = 0;
    while (size < out.size()) {
      const ssize_t n = ::read(fd, out.data() + size, out.size() - size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail(" file could not be read" + found + ": " + ::strerror(errno));
      if (n == 0) break;
      size += static_cast<size_t>(n);
    }
    if (size > kLongestSecretFile) {
      fail(" file holds more than " + std::to_string(kLongestSecretFile) +
           " bytes; a token is one line" + found);
    }
    out.resize(size);
  }

  const std::string section_;
  const TokenGrant& grant_;
};

}  // namespace

std::unique_ptr<BearerTokens> loadBearerTokens(const AuthSettings& settings,
                                               const std::string& config_file) {
  SecretStore store;
  for (const auto& grant : settings.tokens) {
    store.tokens.push_back(BearerToken{grant.name, grant.scopes, {}});
    SecretReader(config_file, grant).read(store.tokens.back().secret);
  }
  for (size_t i = 0; i < store.tokens.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (store.tokens[i].secret == store.tokens[j].secret) {
        throw ConfigError(config_file + ": [token." + store.tokens[i].name + "] and [token." +
                          store.tokens[j].name +
                          "] hold the same secret, so a request could not tell which one calls; "
                          "give each its own");
      }
    }
  }
  return std::make_unique<BearerTokens>(store.tokens);
}

}  // namespace busbar::host
