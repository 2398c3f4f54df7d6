// Why the sqlite plugin could not open its database file at start, in an operator's terms: the
// config file and [storage] sqlite.path, the cause in a word and the fix.
//
// The cause is read from the file system (whom this process runs as, what the path is, who may
// write the file and its folder), because SQLite's own message ("unable to open database file")
// says none of it. A cause that a change of path fixes is a ConfigError, so that the host exits 2;
// anything else (a file another process keeps locked, a full disk) stays StorageUnavailable,
// exit 1.
#pragma once

#include <string>

namespace busbar::sqlite {

enum class SqliteOpenCause {
  kFolderNotCreated,    // the file's folder is missing and cannot be made
  kIsFolder,            // the path names a folder
  kFolderNotWritable,   // SQLite cannot create the -wal and -shm files beside the database
  kFileNotWritable,     // the file exists and this process may not read and write it
  kReadOnlyFileSystem,  // the file or its folder is on a read-only mount
  kNotADatabase,        // the file holds something else, or is encrypted
  kOther,
};

// The cause of a failure to open `path`, given SQLite's `message` (may be empty); `detail` gets the
// facts found (owner, mode, the folder that stopped it) in a clause. kOther when the file system
// shows nothing in the way: a missing folder that this process may make is no cause.
SqliteOpenCause diagnoseSqliteOpen(const std::string& path, const std::string& message,
                                   std::string& detail);

// Throws the operator's version of `message`, which opening `path` (from [storage] sqlite.path of
// `config_file`) threw: a ConfigError or a StorageUnavailable, as above.
[[noreturn]] void throwSqliteOpenFailure(const std::string& path, const std::string& config_file,
                                         const std::string& message);

// Throws that ConfigError at once when the file system already shows that `path` cannot be
// opened. SQLite's open is retried for the whole connect timeout, and says less.
void checkSqlitePath(const std::string& path, const std::string& config_file);

}  // namespace busbar::sqlite
