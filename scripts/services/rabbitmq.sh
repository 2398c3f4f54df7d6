#!/usr/bin/env bash
# RabbitMQ for the test suite.
#
#   scripts/services/rabbitmq.sh start   installs rabbitmq-server when missing, starts it bound to
#                                        loopback (no systemd), creates a vhost for this run and
#                                        prints the BUSBAR_TEST_AMQP_* exports on stdout
#   scripts/services/rabbitmq.sh stop    deletes the run's vhost ($BUSBAR_TEST_AMQP_VHOST) and
#                                        stops the node
#
# Both are idempotent. Only the export lines go to stdout, so `eval "$(rabbitmq.sh start)"` works;
# everything else goes to stderr. Needs root (apt-get, and the broker runs as user rabbitmq).
set -euo pipefail

readonly HOST=127.0.0.1
readonly PORT="${BUSBAR_RABBITMQ_PORT:-5672}"
readonly START_DEADLINE_SECONDS="${BUSBAR_RABBITMQ_START_DEADLINE:-120}"
# Every Erlang tool started from here (rabbitmqctl too) may start epmd: keep it on loopback.
export ERL_EPMD_ADDRESS="$HOST"

log() { echo "rabbitmq.sh: $*" >&2; }

# rabbitmqctl with a bound on how long it may hang; its output goes to stderr.
ctl() { timeout 60 rabbitmqctl "$@" >&2; }

answers() { timeout 15 rabbitmqctl -q status >/dev/null 2>&1; }

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
    log "already running"
  else
    log "starting rabbitmq-server on $HOST:$PORT"
    # Loopback only: AMQP listener, epmd and the distribution port.
    RABBITMQ_NODE_IP_ADDRESS="$HOST" RABBITMQ_NODE_PORT="$PORT" \
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
      rabbitmq-server -detached >&2
    local waited=0
    until answers; do
      if [ "$waited" -ge "$START_DEADLINE_SECONDS" ]; then
        log "rabbitmqctl status did not answer within ${START_DEADLINE_SECONDS}s; see /var/log/rabbitmq"
        exit 1
      fi
      sleep 1
      waited=$((waited + 1))
    done
  fi
  timeout "$START_DEADLINE_SECONDS" rabbitmqctl -q await_startup >&2
}

create_vhost() {
  local vhost="busbar-test-$$-$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"
  ctl -q add_vhost "$vhost"
  ctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*'
  log "vhost $vhost ready"
  echo "export BUSBAR_TEST_AMQP_HOST=$HOST"
  echo "export BUSBAR_TEST_AMQP_PORT=$PORT"
  echo "export BUSBAR_TEST_AMQP_VHOST=$vhost"
  echo "export BUSBAR_TEST_AMQP_USER=guest"
  echo "export BUSBAR_TEST_AMQP_PASSWORD=guest"
}

start() {
  install_when_missing
  start_node
  create_vhost
}

stop() {
  if ! command -v rabbitmqctl >/dev/null 2>&1 || ! answers; then
    log "not running"
    return
  fi
  if [ -n "${BUSBAR_TEST_AMQP_VHOST:-}" ]; then
    ctl -q delete_vhost "$BUSBAR_TEST_AMQP_VHOST" || log "vhost $BUSBAR_TEST_AMQP_VHOST was already gone"
  fi
  log "stopping the node"
  ctl -q stop
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
