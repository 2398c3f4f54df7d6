// CommitFinder: finds, in the bytes a database client sends, the message that runs a prepared
// COMMIT (or another statement a matcher picks), whether the statement was prepared just before
// or long ago on the same connection (as sessions that keep their statements prepared do).
//
// It remembers the SQL of every statement the connection prepares and picks, when one runs, by
// that SQL: the matcher may change after the statement was prepared. MySQL: a COM_STMT_PREPARE's
// SQL is remembered until the server's COM_STMT_PREPARE_OK names its statement id; a
// COM_STMT_EXECUTE of that id runs it. PostgreSQL (libpq's extended protocol): a Parse names a
// statement; a Bind of that name runs it. One finder per connection; it reads each chunk as the
// proxy forwards it, whole messages per chunk, several in one as clients send them (a statement
// closed, which has no answer, then the next prepared). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace busbar::testing {

class CommitFinder {
 public:
  enum class Protocol { kMysql, kPostgresql };
  // Picks the statements to find by their SQL.
  using Matcher = std::function<bool(const std::string& sql)>;

  // Finds COMMITs, or the statements `matches` picks (none while it is null).
  explicit CommitFinder(Protocol protocol, Matcher matches = isCommit)
      : protocol_(protocol), matches_(std::move(matches)) {}

  static bool isCommit(const std::string& sql) { return sql.rfind("COMMIT", 0) == 0; }

  // Picks other statements from now on, those prepared before included.
  void setMatcher(Matcher matches) { matches_ = std::move(matches); }

  // Reads what the client sends; true when it runs a prepared statement it finds.
  bool clientSends(const char* data, std::size_t size);

  // Reads what the server answers (MySQL: the id of the statement just prepared).
  void serverSends(const char* data, std::size_t size);

 private:
  bool found(const std::string& sql) const { return matches_ && matches_(sql); }

  Protocol protocol_;
  Matcher matches_;
  std::string awaiting_sql_;  // MySQL: the SQL of a prepare whose id the server has not sent
  bool awaiting_ = false;
  std::map<uint32_t, std::string> mysql_statements_;        // MySQL: SQL by statement id
  std::map<std::string, std::string> postgres_statements_;  // PostgreSQL: SQL by statement name
};

}  // namespace busbar::testing
