#!/usr/bin/env bash
# A RabbitMQ cluster of nodes on this machine, on loopback, for the cluster tests and for trying
# `[amqp] hosts` by hand: each node has its own node name, AMQP port, distribution port and data
# folder under DIR, and they share the broker user's Erlang cookie. Nodes run as user rabbitmq,
# without plugins, beside the broker scripts/services/rabbitmq.sh starts (which they never touch).
# Needs root and rabbitmq-server (scripts/services/rabbitmq.sh start installs it).
#
#   scripts/services/rabbitmq-cluster.sh start DIR [--tls CA,CERT,KEY] AMQP_PORT:DIST_PORT[:TLS_PORT]...
#       starts one node per pair (node name n<AMQP_PORT>@localhost), joins every node to the
#       first one's cluster, and returns once all of them serve. DIR is made (owned by rabbitmq).
#       A node with a TLS_PORT also serves amqps there with the certificate CERT and its KEY, and
#       asks every client for a certificate the CA CA signed (the files are copied to its folder).
#   scripts/services/rabbitmq-cluster.sh stop-node DIR AMQP_PORT
#       stops that node as an operator does (`rabbitmqctl stop`); the others serve on
#   scripts/services/rabbitmq-cluster.sh start-node DIR AMQP_PORT
#       starts it again (it rejoins the cluster) and returns once it serves
#   scripts/services/rabbitmq-cluster.sh stop DIR
#       stops every node of DIR and deletes DIR
#   scripts/services/rabbitmq-cluster.sh status DIR
#       one line per node: its name and whether it serves; exit 3 when one does not
set -euo pipefail

readonly HOST=127.0.0.1
readonly START_DEADLINE_SECONDS="${BUSBAR_RABBITMQ_START_DEADLINE:-120}"
export ERL_EPMD_ADDRESS="$HOST"

log() { echo "rabbitmq-cluster.sh: $*" >&2; }
usage() {
  echo "usage: $0 start DIR [--tls CA,CERT,KEY] AMQP_PORT:DIST_PORT[:TLS_PORT]... |" \
    "stop-node DIR AMQP_PORT |" \
    "start-node DIR AMQP_PORT | stop DIR | status DIR" >&2
  exit 2
}

node_name() { echo "n$1@localhost"; }

# as_broker COMMAND...: runs it as the broker's user, whose home holds the Erlang cookie that
# every node and command line tool of the cluster shares. No stdin: a tool reading it would
# swallow the lines of a pasted script.
as_broker() {
  local quoted
  printf -v quoted '%q ' "$@"
  su rabbitmq -s /bin/sh -c "cd /var/lib/rabbitmq && HOME=/var/lib/rabbitmq exec $quoted" </dev/null
}

# ctl SECONDS PORT ARGS...: rabbitmqctl for the node of PORT, bounded in time.
ctl() {
  local seconds="$1" port="$2"
  shift 2
  timeout "$seconds" /usr/sbin/rabbitmqctl -n "$(node_name "$port")" "$@" </dev/null
}

serves() { ctl 15 "$1" -q status >/dev/null 2>&1 && ctl 15 "$1" -q eval 'rabbit:is_running().' 2>/dev/null | grep -q true; }

# The ports recorded by `start`, one "AMQP_PORT DIST_PORT [TLS_PORT]" a line.
ports_file() { echo "$1/ports"; }
dist_port_of() { awk -v p="$2" '$1 == p { print $2 }' "$(ports_file "$1")"; }
tls_port_of() { awk -v p="$2" '$1 == p { print $3 }' "$(ports_file "$1")"; }

start_node() {
  local dir="$1" port="$2" dist
  dist="$(dist_port_of "$dir" "$port")"
  [ -n "$dist" ] || {
    log "no node with AMQP port $port in $dir"
    exit 2
  }
  local node_dir="$dir/$port"
  as_broker mkdir -p "$node_dir/mnesia" "$node_dir/log"
  # An empty plugin list: the management plugin's fixed port would clash between nodes.
  [ -e "$node_dir/enabled_plugins" ] || as_broker sh -c "echo '[].' > '$node_dir/enabled_plugins'"
  local tls
  tls="$(tls_port_of "$dir" "$port")"
  if [ -n "$tls" ] && [ ! -e "$node_dir/rabbitmq.conf" ]; then
    install -o rabbitmq -m 644 "$dir/tls/ca.crt" "$node_dir/ca.crt"
    install -o rabbitmq -m 644 "$dir/tls/server.crt" "$node_dir/server.crt"
    install -o rabbitmq -m 600 "$dir/tls/server.key" "$node_dir/server.key"
    printf '%s\n' "listeners.ssl.1 = $HOST:$tls" "ssl_options.cacertfile = $node_dir/ca.crt" \
      "ssl_options.certfile = $node_dir/server.crt" "ssl_options.keyfile = $node_dir/server.key" \
      "ssl_options.verify = verify_peer" "ssl_options.fail_if_no_peer_cert = true" \
      >"$node_dir/rabbitmq.conf"
    chown rabbitmq: "$node_dir/rabbitmq.conf"
  fi
  as_broker env RABBITMQ_NODENAME="$(node_name "$port")" RABBITMQ_NODE_IP_ADDRESS="$HOST" \
    RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT="$dist" \
    RABBITMQ_MNESIA_BASE="$node_dir/mnesia" RABBITMQ_LOG_BASE="$node_dir/log" \
    RABBITMQ_PID_FILE="$node_dir/pid" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$node_dir/enabled_plugins" \
    RABBITMQ_CONFIG_FILE="$node_dir/rabbitmq" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    /usr/lib/rabbitmq/bin/rabbitmq-server -detached >&2
}

await_node() {
  local dir="$1" port="$2" waited=0
  until serves "$port"; do
    if [ "$waited" -ge "$START_DEADLINE_SECONDS" ]; then
      log "node $(node_name "$port") did not serve within ${START_DEADLINE_SECONDS}s; see $dir/$port/log"
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

# stop_node DIR PORT: stops the node as an operator does and returns once its process is gone
# (rabbitmqctl stop with the pid file waits for it); a node that does not stop is killed.
stop_node() {
  local dir="$1" port="$2" pid=""
  [ -f "$dir/$port/pid" ] && pid="$(cat "$dir/$port/pid")"
  if ctl 15 "$port" -q status >/dev/null 2>&1; then
    ctl 60 "$port" -q stop "$dir/$port/pid" >&2 || true
  fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "node $(node_name "$port") did not stop: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

command="${1:-}"
dir="${2:-}"
[ -n "$command" ] && [ -n "$dir" ] || usage
case "$command" in
  start)
    shift 2
    [ $# -ge 1 ] || usage
    command -v rabbitmq-server >/dev/null 2>&1 || {
      log "rabbitmq-server is not installed: run scripts/services/rabbitmq.sh start first"
      exit 1
    }
    mkdir -p "$dir"
    chown rabbitmq: "$dir"
    if [ "${1:-}" = --tls ]; then
      IFS=, read -r ca cert key <<<"${2:-}"
      [ -n "$key" ] || usage
      mkdir -p "$dir/tls"
      cp "$ca" "$dir/tls/ca.crt"
      cp "$cert" "$dir/tls/server.crt"
      install -m 600 "$key" "$dir/tls/server.key"
      shift 2
    fi
    [ $# -ge 1 ] || usage
    : >"$(ports_file "$dir")"
    for pair in "$@"; do
      [[ "$pair" =~ ^[0-9]+:[0-9]+(:[0-9]+)?$ ]] || usage
      [[ "$pair" =~ ^[0-9]+:[0-9]+$ ]] || [ -d "$dir/tls" ] || usage
      echo "${pair//:/ }" >>"$(ports_file "$dir")"
    done
    first=""
    for pair in "$@"; do
      start_node "$dir" "${pair%%:*}"
    done
    set -- $(awk '{ print $1 }' "$(ports_file "$dir")")
    for port in "$@"; do
      await_node "$dir" "$port"
      if [ -z "$first" ]; then
        first="$port"
        continue
      fi
      ctl 60 "$port" -q stop_app >&2
      ctl 60 "$port" -q join_cluster "$(node_name "$first")" >&2
      ctl 60 "$port" -q start_app >&2
      await_node "$dir" "$port"
    done
    log "cluster of $# nodes serving on $(awk -v h="$HOST" '{ printf "%s%s:%s", (NR > 1 ? ", " : ""), h, $1 }' "$(ports_file "$dir")")"
    ;;
  stop-node)
    [ -n "${3:-}" ] || usage
    stop_node "$dir" "$3"
    ;;
  start-node)
    [ -n "${3:-}" ] || usage
    start_node "$dir" "$3"
    await_node "$dir" "$3"
    ;;
  stop)
    if [ -f "$(ports_file "$dir")" ]; then
      while read -r port _; do stop_node "$dir" "$port"; done <"$(ports_file "$dir")"
    fi
    rm -rf "$dir"
    ;;
  status)
    code=0
    while read -r port _; do
      if serves "$port"; then
        echo "$(node_name "$port") serves on $HOST:$port"
      else
        echo "$(node_name "$port") does not serve"
        code=3
      fi
    done <"$(ports_file "$dir")"
    exit "$code"
    ;;
  *) usage ;;
esac
