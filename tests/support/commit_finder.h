// CommitFinder: finds, in the bytes a database client sends, the message that runs a prepared
// COMMIT (or another statement a matcher picks), whether the statement was prepared just before
// or long ago on the same connection (as sessions that keep their statements prepared do).
//
// MySQL: a COM_STMT_PREPARE of "COMMIT" is remembered until the server's COM_STMT_PREPARE_OK
// names its statement id; a COM_STMT_EXECUTE of that id runs it. PostgreSQL (libpq's extended
// protocol): a Parse of "COMMIT" names a statement; a Bind of that name runs it. One finder per
// connection; it reads each chunk as the proxy forwards it, whole messages per chunk, as these
// clients send them (one request, then its answer). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>

namespace busbar::testing {

class CommitFinder {
 public:
  enum class Protocol { kMysql, kPostgresql };
  // Picks the statements to find by their SQL.
  using Matcher = std::function<bool(const std::string& sql)>;

  // Finds COMMITs, or the statements `matches` picks.
  explicit CommitFinder(Protocol protocol, Matcher matches = isCommit)
      : protocol_(protocol), matches_(std::move(matches)) {}

  static bool isCommit(const std::string& sql) { return sql.rfind("COMMIT", 0) == 0; }

  // Reads what the client sends; true when it runs a prepared statement it finds.
  bool clientSends(const char* data, std::size_t size);

  // Reads what the server answers (MySQL: the id of a COMMIT just prepared).
  void serverSends(const char* data, std::size_t size);

 private:
  Protocol protocol_;
  Matcher matches_;
  bool awaiting_commit_id_ = false;     // MySQL: a COMMIT's prepare awaits its answer
  std::set<uint32_t> commit_ids_;       // MySQL: statement ids prepared from COMMIT
  std::set<std::string> commit_names_;  // PostgreSQL: statement names parsed from COMMIT
};

}  // namespace busbar::testing
