#!/usr/bin/env bash
# A local PostgreSQL for the test suite and the examples, without systemd. Needs root.
#
#   scripts/services/postgresql.sh start [--exports]
#       installs postgresql when missing and starts the Debian cluster (pg_ctlcluster) listening
#       on 127.0.0.1 only, unless it is running. Prints nothing on stdout, only what it does on
#       stderr. With --exports it also creates a database and a role of their own for the run
#       $BUSBAR_TEST_PREFIX (a fresh prefix when unset) and prints `export BUSBAR_TEST_PREFIX=...`
#       and `export BUSBAR_TEST_PG_...=...` lines: `eval "$(postgresql.sh start --exports)"`.
#   scripts/services/postgresql.sh database    one more database and role of the run (e.g. one
#                                              per test cluster); prints the BUSBAR_TEST_PG_* lines
#   scripts/services/postgresql.sh cleanup PREFIX
#       drops every database (closing its connections) and role whose name starts with the run
#       prefix PREFIX; the cluster stays up
#   scripts/services/postgresql.sh inventory   lists the databases and roles, one `database NAME`
#                                              or `role NAME` a line, sorted
#   scripts/services/postgresql.sh status      exit 0 when the cluster answers, 3 when it does not
#   scripts/services/postgresql.sh stop        stops the cluster
#
# How a run's names are made and cleaned up: scripts/services/common.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"

CLUSTER_NAME=main
WAIT_SECONDS=60

log() { echo "postgresql.sh: $*" >&2; }

installed() {
  command -v pg_ctlcluster >/dev/null && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1
}

install_server() {
  if installed; then return; fi
  log "installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
}

# The newest installed major version, e.g. 15.
server_version() { ls /usr/lib/postgresql | sort -n | tail -n 1; }

cluster_field() {
  pg_lsclusters -h | awk -v v="$1" -v c="$CLUSTER_NAME" -v f="$2" '$1 == v && $2 == c { print $f }'
}

cluster_port() { cluster_field "$1" 3; }

cluster_online() { cluster_field "$1" 4 | grep -q online; }

ready() { pg_isready -q -h 127.0.0.1 -p "$1" -t 2; }

# running: whether the cluster of the newest version is up and answers.
running() {
  installed || return 1
  local version port
  version="$(server_version)"
  port="$(cluster_port "$version")"
  [ -n "$port" ] && cluster_online "$version" && ready "$port"
}

require_running() {
  running || {
    log "PostgreSQL is not running: run '$0 start' first"
    exit 1
  }
}

# sql: runs the SQL on stdin as the postgres superuser; prints rows unaligned, no headers. From /
# so that psql can read its working folder as the postgres user.
sql() {
  (cd / && runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 \
    -p "$(cluster_port "$(server_version)")" -d postgres)
}

start_server() {
  local version="$1" port
  if [ -z "$(cluster_port "$version")" ]; then
    log "creating cluster $version $CLUSTER_NAME"
    pg_createcluster "$version" "$CLUSTER_NAME" >&2
  fi
  port="$(cluster_port "$version")"
  if cluster_online "$version" && ready "$port"; then
    log "PostgreSQL $version is running on 127.0.0.1:$port"
    return
  fi
  log "starting PostgreSQL $version ($CLUSTER_NAME) on 127.0.0.1:$port"
  # Detached from our descriptors, so that `$(...)` around this script returns.
  pg_ctlcluster "$version" "$CLUSTER_NAME" start -- -o "-c listen_addresses=127.0.0.1" \
    </dev/null >&2 2>&1 || true
  for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
    if ready "$port"; then
      log "PostgreSQL started; '$0 stop' stops it"
      return
    fi
    sleep 0.2
  done
  log "did not answer within ${WAIT_SECONDS}s; last lines of its log:"
  tail -n 30 "/var/log/postgresql/postgresql-$version-$CLUSTER_NAME.log" >&2 || true
  exit 1
}

# create_database PREFIX: a database and its owner role, both named PREFIX_<hex>, with a random
# password; prints the export lines.
create_database() {
  local name password
  name="$(object_name "$1")"
  password="pw_$(random_hex 12)"
  sql >&2 <<SQL
CREATE ROLE "$name" LOGIN PASSWORD '$password';
CREATE DATABASE "$name" OWNER "$name" ENCODING 'UTF8' TEMPLATE template0;
SQL
  log "created database and role $name"
  echo "export BUSBAR_TEST_PG_HOST=127.0.0.1"
  echo "export BUSBAR_TEST_PG_PORT=$(cluster_port "$(server_version)")"
  echo "export BUSBAR_TEST_PG_DATABASE=$name"
  echo "export BUSBAR_TEST_PG_USER=$name"
  echo "export BUSBAR_TEST_PG_PASSWORD=$password"
}

cleanup() {
  local prefix="$1" name dropped_databases=0 dropped_roles=0
  # WITH (FORCE) closes the connections a killed test's servers may still hold (PostgreSQL 13+).
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    echo "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" | sql
    dropped_databases=$((dropped_databases + 1))
  done <<<"$(echo "SELECT datname FROM pg_database" | sql | with_prefix "$prefix")"
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    echo "DROP ROLE IF EXISTS \"$name\"" | sql
    dropped_roles=$((dropped_roles + 1))
  done <<<"$(echo "SELECT rolname FROM pg_roles" | sql | with_prefix "$prefix")"
  log "run $prefix: dropped $dropped_databases databases and $dropped_roles roles"
}

inventory() {
  {
    echo "SELECT datname FROM pg_database" | sql | sed 's/^/database /'
    echo "SELECT rolname FROM pg_roles" | sql | sed 's/^/role /'
  } | LC_ALL=C sort
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
    start_server "$(server_version)"
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
    if running; then
      echo "PostgreSQL is running on 127.0.0.1:$(cluster_port "$(server_version)")"
    else
      echo "PostgreSQL is not running"
      exit 3
    fi
    ;;
  stop)
    if running || { installed && cluster_online "$(server_version)"; }; then
      pg_ctlcluster "$(server_version)" "$CLUSTER_NAME" stop -m fast >&2
      log "PostgreSQL stopped"
    else
      log "PostgreSQL is not running"
    fi
    ;;
  *)
    echo "usage: $0 start [--exports]|database|cleanup PREFIX|inventory|status|stop" >&2
    exit 2
    ;;
esac
