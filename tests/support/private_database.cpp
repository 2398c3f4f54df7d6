#include "private_database.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <Poco/File.h>

namespace busbar::testing {
namespace {

const char* kDatabase = "busbar_private";
const char* kUser = "busbar_private";
const char* kPassword = "private-Pass-27";

// The bin folder of the newest installed PostgreSQL, e.g. /usr/lib/postgresql/15/bin.
std::string postgresqlBin() {
  int best = 0;
  for (int version = 9; version < 40; ++version) {
    if (Poco::File("/usr/lib/postgresql/" + std::to_string(version) + "/bin/postgres").exists()) {
      best = version;
    }
  }
  if (best == 0) throw std::runtime_error("PostgreSQL is not installed: run scripts/test");
  return "/usr/lib/postgresql/" + std::to_string(best) + "/bin";
}

std::string tail(const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
}

}  // namespace

PrivateDatabase::PrivateDatabase(const std::string& driver) : driver_(driver), port_(freePort()) {
  if (::geteuid() != 0) {
    throw std::runtime_error("PrivateDatabase runs the server as its system user and needs root");
  }
  if (driver_ == "mysql") {
    // Each server has its own tmpdir: a mariadbd that starts deletes every #sql* file of its
    // tmpdir, and so would delete the temporary tables of another one bootstrapping beside it.
    run("chown mysql '" + folder_.path() + "' && install -d -o mysql '" + path("tmp") + "'");
    run("mariadb-install-db --no-defaults --user=mysql --datadir='" + path("data") +
        "' --tmpdir='" + path("tmp") + "' --auth-root-authentication-method=socket --skip-test-db");
    startMysql();
    run("mysql --no-defaults --socket='" + path("sock") + "' -uroot -e \"CREATE DATABASE " +
        kDatabase + " CHARACTER SET utf8mb4; CREATE USER '" + kUser +
        "'@'127.0.0.1' IDENTIFIED BY '" + kPassword + "'; GRANT ALL ON " + kDatabase + ".* TO '" +
        kUser + "'@'127.0.0.1';\"");
  } else if (driver_ == "postgresql") {
    run("chown postgres '" + folder_.path() + "'");
    run("runuser -u postgres -- " + postgresqlBin() + "/initdb -D '" + path("data") +
        "' -U postgres --auth-local=trust --auth-host=scram-sha-256 --no-sync -E UTF8");
    startPostgresql();
    run("runuser -u postgres -- psql -q -h '" + folder_.path() + "' -p " + std::to_string(port_) +
        " -d postgres -c \"CREATE ROLE " + kUser + " LOGIN PASSWORD '" + kPassword +
        "'\" -c \"CREATE DATABASE " + kDatabase + " OWNER " + kUser + "\"");
  } else {
    throw std::runtime_error("PrivateDatabase: no server for driver " + driver_);
  }
}

PrivateDatabase::~PrivateDatabase() {
  try {
    stop();
  } catch (...) {
    // The folder is removed all the same; a server left behind dies with its files.
  }
}

std::map<std::string, std::string> PrivateDatabase::storageKeys() const {
  return {{"driver", driver_},     {"host", "127.0.0.1"}, {"port", std::to_string(port_)},
          {"database", kDatabase}, {"user", kUser},       {"password", kPassword},
          {"connect_timeout", "2"}};
}

void PrivateDatabase::stop() {
  if (!running_) return;
  if (driver_ == "mysql") {
    run("mysqladmin --no-defaults --socket='" + path("sock") + "' -uroot shutdown");
    // mysqladmin returns before the server has exited; it removes its pid file last.
    for (int i = 0; i < 300 && Poco::File(path("pid")).exists(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (Poco::File(path("pid")).exists()) {
      throw std::runtime_error("mariadbd did not exit within 30 s:\n" + tail(path("log")));
    }
  } else {
    run("runuser -u postgres -- " + postgresqlBin() + "/pg_ctl -D '" + path("data") +
        "' -m fast -w -t 30 stop");
  }
  running_ = false;
}

void PrivateDatabase::crash() {
  if (!running_) return;
  // The server's pid, then its children (PostgreSQL's backends), killed at once; waits until the
  // main process is gone.
  const std::string pid_file = driver_ == "mysql" ? path("pid") : path("data") + "/postmaster.pid";
  run("pid=$(head -n 1 '" + pid_file + "'); pkill -9 -P \"$pid\"; kill -9 \"$pid\";" +
      " for i in $(seq 300); do kill -0 \"$pid\" 2>/dev/null || break; sleep 0.1; done;" +
      " ! kill -0 \"$pid\" 2>/dev/null");
  if (driver_ == "mysql") Poco::File(path("pid")).remove();
  running_ = false;
}

void PrivateDatabase::start() {
  if (running_) return;
  if (driver_ == "mysql") {
    startMysql();
  } else {
    startPostgresql();
  }
}

void PrivateDatabase::dump(const std::string& file, const std::vector<std::string>& tables) const {
  std::string named;
  for (const auto& table : tables) named += (driver_ == "mysql" ? " " : " -t ") + table;
  if (driver_ == "mysql") {
    run("mysqldump --no-defaults --socket='" + path("sock") +
        "' -uroot --single-transaction --add-drop-table " + kDatabase + named + " >'" + file + "'");
  } else {
    run("runuser -u postgres -- pg_dump -h '" + folder_.path() + "' -p " + std::to_string(port_) +
        " --clean --if-exists" + named + " " + kDatabase + " >'" + file + "'");
  }
}

void PrivateDatabase::restore(const std::string& file) const {
  if (driver_ == "mysql") {
    run("mysql --no-defaults --socket='" + path("sock") + "' -uroot " + kDatabase + " <'" + file +
        "'");
  } else {
    run("runuser -u postgres -- psql -q --single-transaction -v ON_ERROR_STOP=1 -h '" +
        folder_.path() + "' -p " + std::to_string(port_) + " -d " + kDatabase + " <'" + file + "'");
  }
}

void PrivateDatabase::startMysql() {
  // Detached; its output goes to the log, so that nothing holds our descriptors.
  run("setsid mariadbd --no-defaults --user=mysql --datadir='" + path("data") + "' --tmpdir='" +
      path("tmp") + "' --port=" + std::to_string(port_) + " --bind-address=127.0.0.1 --socket='" +
      path("sock") + "' --pid-file='" + path("pid") + "' --log-error='" + path("log") +
      "' --skip-name-resolve --innodb-flush-log-at-trx-commit=2" + mysql_tls_options_ +
      " </dev/null >/dev/null 2>&1 &");
  for (int i = 0; i < 300; ++i) {
    if (std::system(
            ("mysqladmin --no-defaults --socket='" + path("sock") + "' -uroot ping >/dev/null 2>&1")
                .c_str()) == 0) {
      running_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // What is there to see: its log (empty when it never started), whether it runs, its files.
  std::string seen;
  runShell("pgrep -af -- '--datadir=" + path("data") + "'; ls -la '" + folder_.path() + "'", seen);
  throw std::runtime_error("mariadbd did not answer within 30 s; its log:\n" + tail(path("log")) +
                           "\nits processes and files:\n" + seen);
}

void PrivateDatabase::enableTls(const std::string& cert, const std::string& key,
                                const std::string& client_ca) {
  if (driver_ == "mysql") {
    run("install -o mysql -m 600 '" + cert + "' '" + path("tls.crt") + "' && install -o mysql -m " +
        "600 '" + key + "' '" + path("tls.key") + "'");
    mysql_tls_options_ = " --ssl-cert='" + path("tls.crt") + "' --ssl-key='" + path("tls.key") +
                         "' --require-secure-transport=ON";
    if (!client_ca.empty()) {
      run("install -o mysql -m 600 '" + client_ca + "' '" + path("client-ca.crt") + "'");
      mysql_tls_options_ += " --ssl-ca='" + path("client-ca.crt") + "'";
      sql(std::string("ALTER USER '") + kUser + "'@'127.0.0.1' REQUIRE X509");
    }
    stop();
    start();
    return;
  }
  const std::string data = path("data");
  run("install -o postgres -m 600 '" + cert + "' '" + data +
      "/tls.crt' && install -o postgres -m "
      "600 '" +
      key + "' '" + data + "/tls.key'");
  std::string settings = "ssl = on\nssl_cert_file = 'tls.crt'\nssl_key_file = 'tls.key'\n";
  std::string hba = "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256";
  if (!client_ca.empty()) {
    run("install -o postgres -m 600 '" + client_ca + "' '" + data + "/client-ca.crt'");
    settings += "ssl_ca_file = 'client-ca.crt'\n";
    hba += " clientcert=verify-ca";
  }
  run("printf \"" + settings + "\" >>'" + data + "/postgresql.conf' && printf \"" + hba +
      "\\n\" >'" + data + "/pg_hba.conf'");
  run("runuser -u postgres -- " + postgresqlBin() + "/pg_ctl -D '" + data + "' -w reload");
  // The reload is asynchronous: wait until the server reports TLS on.
  for (int i = 0; i < 100; ++i) {
    std::string output;
    runShell("runuser -u postgres -- psql -At -h '" + folder_.path() + "' -p " +
                 std::to_string(port_) + " -d postgres -c 'SHOW ssl' 2>&1",
             output);
    if (output.rfind("on", 0) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("PostgreSQL did not turn TLS on:\n" + tail(path("log")));
}

std::string PrivateDatabase::sql(const std::string& statement) const {
  std::string output;
  const std::string command =
      driver_ == "mysql" ? "mysql --no-defaults --batch --skip-column-names --socket='" +
                               path("sock") + "' -uroot -e \"" + statement + "\""
                         : "runuser -u postgres -- psql -At -h '" + folder_.path() + "' -p " +
                               std::to_string(port_) + " -d postgres -c \"" + statement + "\"";
  if (runShell(command + " 2>&1", output) != 0) {
    throw std::runtime_error("failed: " + command + "\n" + output);
  }
  std::replace(output.begin(), output.end(), '\t', '|');  // mysql --batch separates with tabs
  return output;
}

void PrivateDatabase::logStatements(bool on) {
  if (driver_ == "mysql") {
    // To mysql.general_log, whose rows have the time to the microsecond and the session: the
    // log file gives the time once a second.
    if (on) {
      sql("SET GLOBAL log_output = 'TABLE'");
      sql("TRUNCATE TABLE mysql.general_log");
    }
    sql(std::string("SET GLOBAL general_log = ") + (on ? "ON" : "OFF"));
    return;
  }
  if (on) {
    std::ifstream in(path("log"), std::ios::ate);
    statements_from_ = in ? static_cast<std::streamoff>(in.tellg()) : 0;
  }
  // One statement a call: ALTER SYSTEM does not run inside psql's implicit transaction.
  sql(std::string("ALTER SYSTEM SET log_statement = '") + (on ? "mod" : "none") + "'");
  sql("SELECT pg_reload_conf()");
}

std::string PrivateDatabase::loggedStatements(const std::vector<std::string>& needles) const {
  if (driver_ == "mysql") {
    std::string where;
    for (const auto& needle : needles) {
      where += (where.empty() ? "" : " OR ") + std::string("argument LIKE '%") + needle + "%'";
    }
    return sql(
        "SELECT event_time, thread_id, command_type, argument FROM mysql.general_log"
        " WHERE " +
        where + " ORDER BY event_time");
  }
  std::ifstream in(path("log"));
  in.seekg(statements_from_);
  std::string lines;
  bool matched = false;
  for (std::string line; std::getline(in, line);) {
    // PostgreSQL gives a prepared statement's values on a DETAIL line of their own.
    const bool values = matched && line.find("DETAIL:  parameters:") != std::string::npos;
    matched = std::any_of(needles.begin(), needles.end(), [&](const std::string& needle) {
      return line.find(needle) != std::string::npos;
    });
    if (matched || values) lines += line + "\n";
  }
  return lines;
}

void PrivateDatabase::startPostgresql() {
  run("runuser -u postgres -- " + postgresqlBin() + "/pg_ctl -D '" + path("data") + "' -l '" +
      path("log") + "' -w -t 30 -o \"-p " + std::to_string(port_) +
      " -c listen_addresses=127.0.0.1 -c unix_socket_directories='" + folder_.path() +
      "' -c fsync=off\" start");
  running_ = true;
}

void PrivateDatabase::run(const std::string& command) const {
  std::string logged = "(" + command + ") >>'" + path("commands.log") + "' 2>&1";
  if (std::system(logged.c_str()) != 0) {
    throw std::runtime_error("failed: " + command + "\n" + tail(path("commands.log")) + "\n" +
                             tail(path("log")));
  }
}

std::string PrivateDatabase::path(const std::string& name) const {
  return folder_.path() + "/" + name;
}

}  // namespace busbar::testing
