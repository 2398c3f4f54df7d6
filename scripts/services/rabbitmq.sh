#!/usr/bin/env bash
# RabbitMQ for the test suite and the examples, bound to loopback, without systemd. Needs root
# (apt-get, and the broker runs as user rabbitmq).
#
#   scripts/services/rabbitmq.sh start [--exports]
#       installs rabbitmq-server when missing and starts it on 127.0.0.1 (port
#       $BUSBAR_RABBITMQ_PORT, default 5672) unless it is running. Prints nothing on stdout, only
#       what it does on stderr. With --exports it also creates a vhost of its own for the run
#       $BUSBAR_TEST_PREFIX (a fresh prefix when unset), open to user guest, and prints
#       `export BUSBAR_TEST_PREFIX=...` and `export BUSBAR_TEST_AMQP_...=...` lines:
#       `eval "$(rabbitmq.sh start --exports)"`.
#   scripts/services/rabbitmq.sh vhost      one more vhost of the run; prints the
#                                           BUSBAR_TEST_AMQP_* lines
#   scripts/services/rabbitmq.sh cleanup PREFIX
#       deletes every vhost whose name starts with the run prefix PREFIX (with their exchanges,
#       queues and connections); the broker stays up
#   scripts/services/rabbitmq.sh inventory
#       lists the vhosts, the users, and the exchanges and queues of the default vhost "/" (where
#       the README's examples declare theirs), one `vhost NAME`, `user NAME`, `exchange /NAME` or
#       `queue /NAME` a line, sorted
#   scripts/services/rabbitmq.sh status      exit 0 when the broker answers, 3 when it does not
#   scripts/services/rabbitmq.sh stop        stops the broker
#
# How a run's names are made and cleaned up: scripts/services/common.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"

readonly HOST=127.0.0.1
readonly PORT="${BUSBAR_RABBITMQ_PORT:-5672}"
readonly START_DEADLINE_SECONDS="${BUSBAR_RABBITMQ_START_DEADLINE:-120}"
# Every Erlang tool started from here (rabbitmqctl too) may start epmd: keep it on loopback.
export ERL_EPMD_ADDRESS="$HOST"

log() { echo "rabbitmq.sh: $*" >&2; }

# cli SECONDS TOOL ARGS...: a RabbitMQ command line tool with a bound on how long it may hang,
# and no stdin (this script may be pasted into a shell, whose next lines a tool reading stdin
# would swallow). It does not start Erlang's port mapper (epmd) when none runs, as it would by
# default: then no broker runs either, and an epmd started only to find that out would outlive
# this script.
cli() {
  local seconds="$1"
  shift
  ERL_FLAGS="-start_epmd false ${ERL_FLAGS:-}" timeout "$seconds" "$@" </dev/null
}
ctl() { cli 60 rabbitmqctl "$@"; }

# The Erlang node answers (its RabbitMQ application may be stopped: `rabbitmqctl stop_app`).
node_up() {
  command -v rabbitmqctl >/dev/null 2>&1 && cli 15 rabbitmqctl -q status >/dev/null 2>&1
}

# The broker serves: the node is up and its application runs.
answers() {
  command -v rabbitmq-diagnostics >/dev/null 2>&1 &&
    cli 15 rabbitmq-diagnostics -q check_running >/dev/null 2>&1
}

require_running() {
  answers || {
    log "RabbitMQ is not running: run '$0 start' first"
    exit 1
  }
}

install_when_missing() {
  if command -v rabbitmq-server >/dev/null 2>&1; then return; fi
  log "installing rabbitmq-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  # policy-rc.d keeps the package's init script from starting a broker we did not configure.
  local policy=/usr/sbin/policy-rc.d created_policy=no
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=yes
  fi
  apt-get install -y --no-install-recommends rabbitmq-server >&2 || {
    [ "$created_policy" = yes ] && rm -f "$policy"
    exit 1
  }
  [ "$created_policy" = yes ] && rm -f "$policy"
}

start_node() {
  if answers; then
    log "RabbitMQ is running on $HOST:$PORT"
  elif node_up; then
    # E.g. a test that stops the application to simulate an outage was killed before it could
    # start it again.
    log "RabbitMQ's node is up with its application stopped: starting the application"
    ctl -q start_app >&2
  else
    log "starting RabbitMQ on $HOST:$PORT"
    # Loopback only: AMQP listener, epmd and the distribution port.
    RABBITMQ_NODE_IP_ADDRESS="$HOST" RABBITMQ_NODE_PORT="$PORT" \
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
      rabbitmq-server -detached </dev/null >&2
    local waited=0
    until answers; do
      if [ "$waited" -ge "$START_DEADLINE_SECONDS" ]; then
        log "rabbitmqctl status did not answer within ${START_DEADLINE_SECONDS}s; see /var/log/rabbitmq"
        exit 1
      fi
      sleep 1
      waited=$((waited + 1))
    done
    log "RabbitMQ started; '$0 stop' stops it"
  fi
  cli "$START_DEADLINE_SECONDS" rabbitmqctl -q await_startup >&2
}

# create_vhost PREFIX: a vhost named PREFIX_<hex> open to guest; prints the export lines.
create_vhost() {
  local vhost
  vhost="$(object_name "$1")"
  ctl -q add_vhost "$vhost" >&2
  ctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >&2
  log "created vhost $vhost"
  echo "export BUSBAR_TEST_AMQP_HOST=$HOST"
  echo "export BUSBAR_TEST_AMQP_PORT=$PORT"
  echo "export BUSBAR_TEST_AMQP_VHOST=$vhost"
  echo "export BUSBAR_TEST_AMQP_USER=guest"
  echo "export BUSBAR_TEST_AMQP_PASSWORD=guest"
}

cleanup() {
  local prefix="$1" vhost deleted=0
  while IFS= read -r vhost; do
    [ -n "$vhost" ] || continue
    ctl -q delete_vhost "$vhost" >&2
    deleted=$((deleted + 1))
  done <<<"$(ctl -q --no-table-headers list_vhosts name | with_prefix "$prefix")"
  log "run $prefix: deleted $deleted vhosts"
}

inventory() {
  {
    ctl -q --no-table-headers list_vhosts name | sed 's/^/vhost /'
    ctl -q --no-table-headers list_users | awk '{ print "user " $1 }'
    # The default exchange has an empty name; amq.* are the broker's own.
    ctl -q --no-table-headers list_exchanges -p / name | grep -v -e '^$' -e '^amq\.' |
      sed 's|^|exchange /|' || true
    ctl -q --no-table-headers list_queues -p / name | sed 's|^|queue /|'
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
    install_when_missing
    start_node
    if [ "${2:-}" = --exports ]; then
      echo "export BUSBAR_TEST_PREFIX=$prefix"
      create_vhost "$prefix"
    fi
    ;;
  vhost)
    require_running
    prefix="$(run_prefix)"
    create_vhost "$prefix"
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
    if answers; then
      echo "RabbitMQ is running on $HOST:$PORT"
    elif node_up; then
      echo "RabbitMQ's node is up but its application is stopped ('$0 start' starts it)"
      exit 3
    else
      echo "RabbitMQ is not running"
      exit 3
    fi
    ;;
  stop)
    if node_up; then
      ctl -q stop >&2
      # The Erlang port mapper that the node (or rabbitmqctl) started outlives it; it refuses to
      # end while another Erlang node is registered with it, and any Erlang tool starts it again.
      # `rabbitmqctl stop` returns before the node has left it, and a command line tool's node
      # may still be leaving too: wait (up to 10 s) until no node is registered.
      for _ in $(seq 1 100); do
        epmd -names 2>/dev/null | grep -q '^name ' || break
        sleep 0.1
      done
      epmd -kill >/dev/null 2>&1 || true
      log "RabbitMQ stopped"
    else
      log "RabbitMQ is not running"
    fi
    ;;
  *)
    echo "usage: $0 start [--exports]|vhost|cleanup PREFIX|inventory|status|stop" >&2
    exit 2
    ;;
esac
