#!/usr/bin/env bash
# Starts or stops a local PostgreSQL for the test suite, without systemd.
#
#   scripts/services/postgresql.sh start   installs postgresql when missing, starts the Debian
#                                          cluster (pg_ctlcluster) listening on 127.0.0.1 only,
#                                          creates a database and a user of its own for this run
#                                          and prints `export BUSBAR_TEST_PG_...=...` lines
#   scripts/services/postgresql.sh database  one more database and user on the running cluster
#   scripts/services/postgresql.sh stop    stops the cluster
#
# Idempotent: a running cluster is reused. Everything but the export lines goes to stderr, so
# `eval "$(scripts/services/postgresql.sh start)"` is the way to use it.
set -euo pipefail

CLUSTER_NAME=main
WAIT_SECONDS=60

log() { echo "postgresql.sh: $*" >&2; }

install_server() {
  if command -v pg_ctlcluster >/dev/null && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    return
  fi
  log "installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
}

# The newest installed major version, e.g. 15.
server_version() { ls /usr/lib/postgresql | sort -n | tail -n 1; }

cluster_port() { pg_lsclusters -h | awk -v v="$1" -v c="$CLUSTER_NAME" '$1 == v && $2 == c { print $3 }'; }

cluster_online() { pg_lsclusters -h | awk -v v="$1" -v c="$CLUSTER_NAME" '$1 == v && $2 == c { print $4 }' | grep -q online; }

ready() { pg_isready -q -h 127.0.0.1 -p "$1" -t 2; }

start_server() {
  local version="$1" port
  if [ -z "$(cluster_port "$version")" ]; then
    log "creating cluster $version $CLUSTER_NAME"
    pg_createcluster "$version" "$CLUSTER_NAME" >&2
  fi
  port="$(cluster_port "$version")"
  if cluster_online "$version" && ready "$port"; then
    log "already running on port $port"
    return
  fi
  log "starting cluster $version $CLUSTER_NAME on 127.0.0.1:$port"
  # Detached from our descriptors, so that `$(...)` around this script returns.
  pg_ctlcluster "$version" "$CLUSTER_NAME" start -- -o "-c listen_addresses=127.0.0.1" \
    </dev/null >&2 2>&1 || true
  for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
    if ready "$port"; then
      log "ready"
      return
    fi
    sleep 0.2
  done
  log "did not answer within ${WAIT_SECONDS}s; last lines of its log:"
  tail -n 30 "/var/log/postgresql/postgresql-$version-$CLUSTER_NAME.log" >&2 || true
  exit 1
}

random_hex() { od -An -N6 -tx1 /dev/urandom | tr -d ' \n'; }

create_database() {
  local port="$1" suffix database user password
  suffix="$(random_hex)"
  database="busbar_test_$suffix"
  user="busbar_$suffix"
  password="pw_$(random_hex)$(random_hex)"
  runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -p "$port" -d postgres >&2 <<SQL
CREATE ROLE "$user" LOGIN PASSWORD '$password';
CREATE DATABASE "$database" OWNER "$user" ENCODING 'UTF8' TEMPLATE template0;
SQL
  log "created database $database for user $user"
  echo "export BUSBAR_TEST_PG_HOST=127.0.0.1"
  echo "export BUSBAR_TEST_PG_PORT=$port"
  echo "export BUSBAR_TEST_PG_DATABASE=$database"
  echo "export BUSBAR_TEST_PG_USER=$user"
  echo "export BUSBAR_TEST_PG_PASSWORD=$password"
}

case "${1:-}" in
  start)
    install_server
    version="$(server_version)"
    start_server "$version"
    create_database "$(cluster_port "$version")"
    ;;
  database)
    # Another database and user of their own on the running cluster (e.g. one per test cluster).
    version="$(server_version)"
    cluster_online "$version" || { log "not running: run '$0 start' first"; exit 1; }
    create_database "$(cluster_port "$version")"
    ;;
  stop)
    command -v pg_ctlcluster >/dev/null || { log "not installed"; exit 0; }
    version="$(server_version)"
    if cluster_online "$version"; then
      pg_ctlcluster "$version" "$CLUSTER_NAME" stop -m fast >&2
      log "stopped"
    else
      log "not running"
    fi
    ;;
  *)
    echo "usage: $0 start|database|stop" >&2
    exit 2
    ;;
esac
