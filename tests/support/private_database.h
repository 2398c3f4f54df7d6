// PrivateDatabase: a MariaDB or PostgreSQL server of one test's own, in a temporary folder on a
// free loopback port, that the test may really shut down and start again without disturbing
// the shared servers the other suites use.
//
// Needs root (to run the server as its system user), as scripts/test and CI run. Not
// thread-safe; one test thread drives it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "server_process.h"

namespace busbar::testing {

class PrivateDatabase {
 public:
  // Initializes a data folder for `driver` ("mysql" or "postgresql"), starts the server and
  // creates a database and a user with a password. Throws std::runtime_error with the
  // server's log when a step fails.
  explicit PrivateDatabase(const std::string& driver);
  // Stops the server; the folder goes with the object.
  ~PrivateDatabase();
  PrivateDatabase(const PrivateDatabase&) = delete;
  PrivateDatabase& operator=(const PrivateDatabase&) = delete;

  // The [storage] keys that reach this server: driver, host, port, database, user, password.
  std::map<std::string, std::string> storageKeys() const;

  // Shuts the server down as an operator would; returns once it is gone.
  void stop();

  // Kills the server with SIGKILL (mariadbd; PostgreSQL's postmaster and every backend), as a
  // crash of its machine's process would: what it had not written out is lost, and recovery runs
  // on the next start(). Returns once every process is gone.
  void crash();

  // Serves TLS with `cert` and `key` (copied to the server's folder) and refuses connections
  // over 127.0.0.1 without it; with `client_ca`, also asks the database's user for a certificate
  // that CA signed. Returns once the server serves with these settings (MariaDB: restarted,
  // PostgreSQL: reloaded).
  void enableTls(const std::string& cert, const std::string& key,
                 const std::string& client_ca = "");

  // Runs `statement` as the server's superuser over its local socket and returns what the client
  // printed: one row a line, columns separated by '|' (psql -At, mysql --batch).
  std::string sql(const std::string& statement) const;

  // Starts it again on the same port and data; returns once it answers.
  void start();

  // Writes the database's tables and rows to `file` (mysqldump, pg_dump), while it serves: all of
  // them, or only `tables`.
  void dump(const std::string& file, const std::vector<std::string>& tables = {}) const;

  // Replaces the tables in `file` by those it holds (every table of the database, for a whole
  // dump), as an operator restoring a backup does while clients stay connected.
  void restore(const std::string& file) const;

  // Has the server log, with when and which session, every statement that changes data
  // (PostgreSQL: log_statement = 'mod', DDL included, to its log file) or every statement
  // (MariaDB: the general log, to the table mysql.general_log, emptied first) from now on; `on`
  // false stops it. For a test that must know when a statement reached the server, beside other
  // sessions' statements; heavy under load: keep the window short. A PostgreSQL session applies
  // it once it is idle after the reload, so turn it on a little before the statements to see.
  void logStatements(bool on);

  // The statements of that log, since the last logStatements(true), that hold any of `needles`
  // (no quote in them), with their time and session: PostgreSQL's log lines (and the DETAIL
  // lines with a prepared statement's values), MariaDB's rows.
  std::string loggedStatements(const std::vector<std::string>& needles) const;

 private:
  // Runs a shell command with its output appended to the folder's log; throws with the log's
  // end when it fails.
  void run(const std::string& command) const;
  std::string path(const std::string& name) const;
  void startMysql();
  void startPostgresql();

  std::string driver_;
  TempDir folder_;
  int port_;
  bool running_ = false;
  std::string mysql_tls_options_;       // mariadbd's TLS options, once enableTls has run
  std::streamoff statements_from_ = 0;  // where the statement log's window starts
};

}  // namespace busbar::testing
