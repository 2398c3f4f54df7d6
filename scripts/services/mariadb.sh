#!/usr/bin/env bash
# Starts or stops a local MariaDB for the test suite, without systemd.
#
#   scripts/services/mariadb.sh start   installs mariadb-server when missing, starts it on
#                                       127.0.0.1 (port $BUSBAR_MARIADB_PORT, default 3306),
#                                       creates a database and a user of its own for this run and
#                                       prints `export BUSBAR_TEST_MYSQL_...=...` lines on stdout
#   scripts/services/mariadb.sh database  one more database and user on the running server
#   scripts/services/mariadb.sh stop    shuts the server down
#
# Idempotent: a running server is reused. Everything but the export lines goes to stderr, so
# `eval "$(scripts/services/mariadb.sh start)"` is the way to use it.
set -euo pipefail

PORT="${BUSBAR_MARIADB_PORT:-3306}"
SOCKET=/run/mysqld/mysqld.sock
LOG=/var/log/busbar-mariadb.log
WAIT_SECONDS=60

log() { echo "mariadb.sh: $*" >&2; }

ping_server() { mysqladmin --protocol=socket --socket="$SOCKET" --connect-timeout=2 ping >/dev/null 2>&1; }

install_server() {
  if command -v mysqld_safe >/dev/null && command -v mysqladmin >/dev/null; then return; fi
  log "installing mariadb-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq mariadb-server mariadb-client >&2
}

start_server() {
  if ping_server; then
    log "already running"
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
  log "starting on 127.0.0.1:$PORT (log: $LOG)"
  # Detached, and with none of our descriptors, so that `$(...)` around this script returns.
  setsid mysqld_safe --user=mysql --bind-address=127.0.0.1 --port="$PORT" --socket="$SOCKET" \
    --skip-name-resolve --max-connections=500 --log-error="$LOG" \
    </dev/null >>"$LOG" 2>&1 &
  local launcher=$!
  for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
    if ping_server; then
      log "ready"
      return
    fi
    if ! kill -0 "$launcher" 2>/dev/null; then break; fi
    sleep 0.2
  done
  log "did not start (waited at most ${WAIT_SECONDS}s); last lines of $LOG:"
  tail -n 30 "$LOG" >&2 || true
  exit 1
}

random_hex() { od -An -N6 -tx1 /dev/urandom | tr -d ' \n'; }

create_database() {
  local suffix database user password
  suffix="$(random_hex)"
  database="busbar_test_$suffix"
  user="busbar_$suffix"
  password="pw_$(random_hex)$(random_hex)"
  mysql --protocol=socket --socket="$SOCKET" -uroot <<SQL >&2
CREATE DATABASE \`$database\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER '$user'@'127.0.0.1' IDENTIFIED BY '$password';
CREATE USER '$user'@'localhost' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON \`$database\`.* TO '$user'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`$database\`.* TO '$user'@'localhost';
SQL
  log "created database $database for user $user"
  echo "export BUSBAR_TEST_MYSQL_HOST=127.0.0.1"
  echo "export BUSBAR_TEST_MYSQL_PORT=$PORT"
  echo "export BUSBAR_TEST_MYSQL_DATABASE=$database"
  echo "export BUSBAR_TEST_MYSQL_USER=$user"
  echo "export BUSBAR_TEST_MYSQL_PASSWORD=$password"
}

stop_server() {
  if ! ping_server; then
    log "not running"
    return
  fi
  mysqladmin --protocol=socket --socket="$SOCKET" -uroot shutdown >&2
  for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
    if ! ping_server && ! pgrep -x mariadbd >/dev/null && ! pgrep -x mysqld >/dev/null; then
      log "stopped"
      return
    fi
    sleep 0.2
  done
  log "still running after ${WAIT_SECONDS}s"
  exit 1
}

case "${1:-}" in
  start)
    install_server
    start_server
    create_database
    ;;
  database)
    # Another database and user of their own on the running server (e.g. one per test cluster).
    ping_server || { log "not running: run '$0 start' first"; exit 1; }
    create_database
    ;;
  stop)
    command -v mysqladmin >/dev/null || { log "not installed"; exit 0; }
    stop_server
    ;;
  *)
    echo "usage: $0 start|database|stop" >&2
    exit 2
    ;;
esac
