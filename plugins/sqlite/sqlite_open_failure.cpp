#include "sqlite_open_failure.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Poco/Path.h>
#include <Poco/String.h>

#include <cerrno>
#include <cstdio>

#include "busbar/errors.h"

namespace busbar::sqlite {
namespace {

std::string userName(uid_t uid) {
  if (const passwd* entry = ::getpwuid(uid)) return entry->pw_name;
  return std::to_string(uid);
}

// "owner root, mode 0755", for a message that says why this process may not write there.
std::string ownership(const struct stat& status) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
  return "owner " + userName(status.st_uid) + ", mode " + mode;
}

bool isFolder(const std::string& path, struct stat& status) {
  return ::stat(path.c_str(), &status) == 0 && S_ISDIR(status.st_mode);
}

std::string parentOf(const std::string& path) {
  Poco::Path parent = Poco::Path(path).parent();
  std::string text = parent.toString();
  if (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

// Who may not write `folder` and why; kOther when this process may.
SqliteOpenCause folderCause(const std::string& folder, const struct stat& status,
                            SqliteOpenCause denied, std::string& detail) {
  if (::access(folder.c_str(), W_OK | X_OK) == 0) return SqliteOpenCause::kOther;
  if (errno == EROFS) {
    detail = folder + " is on a read-only file system";
    return SqliteOpenCause::kReadOnlyFileSystem;
  }
  detail = "user " + userName(::geteuid()) + " may not create files in " + folder + " (" +
           ownership(status) + ")";
  return denied;
}

}  // namespace

SqliteOpenCause diagnoseSqliteOpen(const std::string& path, const std::string& message,
                                   std::string& detail) {
  struct stat status {};
  if (isFolder(path, status)) {
    detail = path + " is a folder";
    return SqliteOpenCause::kIsFolder;
  }
  const std::string folder = parentOf(path);
  if (!isFolder(folder, status)) {
    // The nearest folder that exists is where creating the rest failed.
    std::string existing = folder;
    while (existing != "/" && ::stat(existing.c_str(), &status) != 0) existing = parentOf(existing);
    if (!S_ISDIR(status.st_mode)) {
      detail = existing + " is a file, not a folder, so " + folder + " cannot be made";
      return SqliteOpenCause::kFolderNotCreated;
    }
    return folderCause(existing, status, SqliteOpenCause::kFolderNotCreated, detail);
  }
  const SqliteOpenCause folder_cause =
      folderCause(folder, status, SqliteOpenCause::kFolderNotWritable, detail);
  if (folder_cause != SqliteOpenCause::kOther) return folder_cause;
  if (::stat(path.c_str(), &status) == 0 && ::access(path.c_str(), R_OK | W_OK) != 0) {
    if (errno == EROFS) {
      detail = path + " is on a read-only file system";
      return SqliteOpenCause::kReadOnlyFileSystem;
    }
    detail = "user " + userName(::geteuid()) + " may not read and write " + path + " (" +
             ownership(status) + ")";
    return SqliteOpenCause::kFileNotWritable;
  }
  const std::string text = Poco::toLower(message);
  if (text.find("not a database") != std::string::npos ||
      text.find("encrypted") != std::string::npos) {
    detail = path + " is not an SQLite database";
    return SqliteOpenCause::kNotADatabase;
  }
  return SqliteOpenCause::kOther;
}

void throwSqliteOpenFailure(const std::string& path, const std::string& config_file,
                            const std::string& message) {
  std::string detail;
  const SqliteOpenCause cause = diagnoseSqliteOpen(path, message, detail);
  const std::string user = userName(::geteuid());
  const std::string folder = parentOf(path);
  const std::string other_path = "or choose another [storage] sqlite.path";
  std::string fix;
  switch (cause) {
    case SqliteOpenCause::kFolderNotCreated:
      fix = "create the folder with write access for user " + user + " (mkdir -p " + folder +
            " && chown " + user + " " + folder + "), " + other_path;
      break;
    case SqliteOpenCause::kIsFolder:
      fix = "name a file, such as " + path + "/busbar.db";
      break;
    case SqliteOpenCause::kFolderNotWritable:
      fix = "let user " + user + " write " + folder + " (chown " + user + " " + folder +
            "): SQLite creates the -wal and -shm files beside the database; " + other_path;
      break;
    case SqliteOpenCause::kFileNotWritable:
      fix = "chown " + user + " " + path + ", " + other_path;
      break;
    case SqliteOpenCause::kReadOnlyFileSystem:
      fix = "choose a path on a writable file system for [storage] sqlite.path";
      break;
    case SqliteOpenCause::kNotADatabase:
      fix = "point [storage] sqlite.path at the database file, or move " + path +
            " away so that busbar creates a new database there";
      break;
    case SqliteOpenCause::kOther:
      fix =
          "see SQLite's message; a file that another process keeps locked, or a full disk, "
          "clears on its own, and the next start succeeds";
      break;
  }
  const std::string opening =
      config_file + ": [storage] sqlite.path = " + path + ": cannot open the SQLite database: ";
  const std::string tail = (message.empty() ? "" : " (" + message + ")") + ". Fix: " + fix + ".";
  if (cause == SqliteOpenCause::kOther) throw StorageUnavailable(opening + "failed" + tail);
  throw ConfigError(opening + detail + tail);
}

void checkSqlitePath(const std::string& path, const std::string& config_file) {
  std::string detail;
  if (diagnoseSqliteOpen(path, "", detail) != SqliteOpenCause::kOther) {
    throwSqliteOpenFailure(path, config_file, "");
  }
}

}  // namespace busbar::sqlite
