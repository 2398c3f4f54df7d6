// Checks of the files a config key names (certificates, keys, CA files) when the config is read,
// so that a missing or unreadable file, or a key others may read, stops the host naming the key,
// the file and the fix before any connection is tried.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "busbar/config.h"

namespace busbar::plugins {

// Whether the file is a private key: only its owner may read it (a key owned by root may also be
// read by its group, as libpq and OpenSSL-based servers accept).
enum class FileSecrecy { kPublic, kPrivateKey };

// Throws ConfigError naming `key` of `config`, `path` and why, unless `path` is a regular file
// this process can read, without a space (`spaces_allowed` false: a connection string that
// splits at spaces carries it) and, for a private key, readable by its owner only.
inline void requireReadableFile(const ConfigSection& config, const std::string& key,
                                const std::string& path, FileSecrecy secrecy,
                                bool spaces_allowed = true) {
  if (!spaces_allowed && path.find_first_of(" \t") != std::string::npos) {
    config.fail(key, "must be a path without spaces (the connection string cannot carry them)",
                "'" + path + "'");
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    config.fail(key, "must name a file this server can read",
                "'" + path + "': " + std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    config.fail(key, "must name a regular file", "'" + path + "', which is not one");
  }
  if (::access(path.c_str(), R_OK) != 0) {
    config.fail(
        key, "must name a file this server can read",
        "'" + path + "': " + std::strerror(errno) + " (give busbar's user read access to it)");
  }
  const bool root_group_read =
      info.st_uid == 0 && (info.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) == 0;
  if (secrecy == FileSecrecy::kPrivateKey && (info.st_mode & (S_IRWXG | S_IRWXO)) != 0 &&
      !root_group_read) {
    config.fail(key, "must name a key file only its owner may read",
                "'" + path + "' with mode " + std::to_string((info.st_mode >> 6) & 7) +
                    std::to_string((info.st_mode >> 3) & 7) + std::to_string(info.st_mode & 7) +
                    " (chmod 600 it)");
  }
}

}  // namespace busbar::plugins
