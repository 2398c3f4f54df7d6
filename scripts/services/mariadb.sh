#!/usr/bin/env bash
# A local MariaDB for the test suite and the examples, without systemd. Needs root.
#
#   scripts/services/mariadb.sh start [--exports]
#       installs mariadb-server when missing and starts it on 127.0.0.1 (port $BUSBAR_MARIADB_PORT,
#       default 3306) unless it is running. Prints nothing on stdout, only what it does on stderr.
#       With --exports it also creates a database and a user of their own for the run
#       $BUSBAR_TEST_PREFIX (a fresh prefix when unset) and prints `export BUSBAR_TEST_PREFIX=...`
#       and `export BUSBAR_TEST_MYSQL_...=...` lines: `eval "$(mariadb.sh start --exports)"`.
#   scripts/services/mariadb.sh database    one more database and user of the run (e.g. one per
#                                           test cluster); prints the BUSBAR_TEST_MYSQL_* lines
#   scripts/services/mariadb.sh cleanup PREFIX
#       drops every database and user whose name starts with the run prefix PREFIX, after closing
#       their connections; the server stays up
#   scripts/services/mariadb.sh inventory   lists the databases and users, one `database NAME` or
#                                           `user NAME@HOST` a line, sorted
#   scripts/services/mariadb.sh status      exit 0 when the server answers, 3 when it does not
#   scripts/services/mariadb.sh stop        shuts the server down
#
# How a run's names are made and cleaned up: scripts/services/common.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"

PORT="${BUSBAR_MARIADB_PORT:-3306}"
SOCKET=/run/mysqld/mysqld.sock
PID_FILE=/run/mysqld/mysqld.pid
LOG=/var/log/busbar-mariadb.log
WAIT_SECONDS=60

log() { echo "mariadb.sh: $*" >&2; }

ping_server() {
  command -v mysqladmin >/dev/null &&
    mysqladmin --protocol=socket --socket="$SOCKET" --connect-timeout=2 ping >/dev/null 2>&1
}

# sql: runs the SQL on stdin as root over the socket; prints rows tab-separated, no headers.
sql() { mysql --protocol=socket --socket="$SOCKET" -uroot -N -B; }

require_running() {
  ping_server || {
    log "MariaDB is not running: run '$0 start' first"
    exit 1
  }
}

install_server() {
  if command -v mysqld_safe >/dev/null && command -v mysqladmin >/dev/null; then return; fi
  log "installing mariadb-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq mariadb-server mariadb-client >&2
}

start_server() {
  if ping_server; then
    log "MariaDB is running on 127.0.0.1:$PORT"
    return
  fi
  mkdir -p /run/mysqld
  chown mysql:mysql /run/mysqld
  if [ ! -d /var/lib/mysql/mysql ]; then
    log "initializing /var/lib/mysql"
    mysql_install_db --user=mysql --datadir=/var/lib/mysql >&2
  fi
  touch "$LOG"
  chown mysql:mysql "$LOG"
  log "starting MariaDB on 127.0.0.1:$PORT (log: $LOG)"
  # Detached, and with none of our descriptors, so that `$(...)` around this script returns.
  setsid mysqld_safe --user=mysql --bind-address=127.0.0.1 --port="$PORT" --socket="$SOCKET" \
    --pid-file="$PID_FILE" --skip-name-resolve --max-connections=500 --log-error="$LOG" \
    </dev/null >>"$LOG" 2>&1 &
  local launcher=$!
  for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
    if ping_server; then
      log "MariaDB started; '$0 stop' stops it"
      return
    fi
    if ! kill -0 "$launcher" 2>/dev/null; then break; fi
    sleep 0.2
  done
  log "did not start (waited at most ${WAIT_SECONDS}s); last lines of $LOG:"
  tail -n 30 "$LOG" >&2 || true
  exit 1
}

# create_database PREFIX: a database and a user (at 127.0.0.1 and localhost) both named
# PREFIX_<hex>, with a random password; prints the export lines.
create_database() {
  local name password
  name="$(object_name "$1")"
  password="pw_$(random_hex 12)"
  sql <<SQL >&2
CREATE DATABASE \`$name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER '$name'@'127.0.0.1' IDENTIFIED BY '$password';
CREATE USER '$name'@'localhost' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON \`$name\`.* TO '$name'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`$name\`.* TO '$name'@'localhost';
SQL
  log "created database and user $name"
  echo "export BUSBAR_TEST_MYSQL_HOST=127.0.0.1"
  echo "export BUSBAR_TEST_MYSQL_PORT=$PORT"
  echo "export BUSBAR_TEST_MYSQL_DATABASE=$name"
  echo "export BUSBAR_TEST_MYSQL_USER=$name"
  echo "export BUSBAR_TEST_MYSQL_PASSWORD=$password"
}

cleanup() {
  local prefix="$1" databases users ids name host id dropped_databases=0 dropped_users=0
  databases="$(echo "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA" | sql | with_prefix "$prefix")"
  users="$(echo "SELECT User, Host FROM mysql.user" | sql | with_prefix "$prefix")"
  # A connection inside a transaction would hold DROP DATABASE on its metadata lock.
  ids="$(echo "SELECT ID, USER FROM information_schema.PROCESSLIST" | sql |
    awk -F'\t' -v p="$prefix" 'index($2, p) == 1 { print $1 }')"
  for id in $ids; do
    echo "KILL CONNECTION $id" | sql 2>/dev/null || true # it may have ended meanwhile
  done
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    echo "DROP DATABASE IF EXISTS \`$name\`" | sql
    dropped_databases=$((dropped_databases + 1))
  done <<<"$databases"
  while IFS=$'\t' read -r name host; do
    [ -n "$name" ] || continue
    echo "DROP USER IF EXISTS '$name'@'$host'" | sql
    dropped_users=$((dropped_users + 1))
  done <<<"$users"
  log "run $prefix: dropped $dropped_databases databases and $dropped_users users"
}

inventory() {
  {
    echo "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA" | sql | sed 's/^/database /'
    echo "SELECT CONCAT(User, '@', Host) FROM mysql.user" | sql | sed 's/^/user /'
  } | LC_ALL=C sort
}

stop_server() {
  if ! ping_server; then
    log "MariaDB is not running"
    return
  fi
  # The server of this script only: its pid file names it (tests run servers of their own).
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  mysqladmin --protocol=socket --socket="$SOCKET" -uroot shutdown >&2
  for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
    if ! ping_server && { [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; }; then
      log "MariaDB stopped"
      return
    fi
    sleep 0.2
  done
  log "still running after ${WAIT_SECONDS}s"
  exit 1
}

case "${1:-}" in
  start)
    case "${2:-}" in
      "") ;;
      --exports) prefix="$(run_prefix --exported)" ;;
      *)
        echo "usage: $0 start [--exports]" >&2
        exit 2
        ;;
    esac
    install_server
    start_server
    if [ "${2:-}" = --exports ]; then
      echo "export BUSBAR_TEST_PREFIX=$prefix"
      create_database "$prefix"
    fi
    ;;
  database)
    require_running
    prefix="$(run_prefix)"
    create_database "$prefix"
    ;;
  cleanup)
    require_prefix "${2:-}"
    require_running
    cleanup "$2"
    ;;
  inventory)
    require_running
    inventory
    ;;
  status)
    if ping_server; then
      echo "MariaDB is running on 127.0.0.1:$PORT"
    else
      echo "MariaDB is not running"
      exit 3
    fi
    ;;
  stop)
    stop_server
    ;;
  *)
    echo "usage: $0 start [--exports]|database|cleanup PREFIX|inventory|status|stop" >&2
    exit 2
    ;;
esac
