# shellcheck shell=bash
# Section 13, a RabbitMQ cluster. Sourced by bench/run; uses the helpers of bench/lib/ (conf,
# start_server, stop_server, new_port, record, v, ms, log, machine_ticks, busy_percent).
#
# Three servers on one MariaDB database, first on the run's single broker, then on a three-node
# RabbitMQ cluster of this machine (scripts/services/rabbitmq-cluster.sh) with each server's
# `[amqp] hosts` starting at a node of its own. The same paced load side by side: A takes PUTs and
# busbar-bench watches B serve every 50th of them (as in section 3). Then, on the cluster, the same
# load once more with the node A is connected to stopped two seconds in: the max of that load is
# how long A's events took to reach B again, the time from a node's stop until events flow.

CLUSTER_RATE=500  # A's PUT/s

# cluster_conf NAME FIRST: the config of server NAME on the cluster, its hosts from node FIRST on.
cluster_conf() {
  local name="$1" first="$2" file i hosts=""
  file="$(conf "$name" amqp mysql composed incremental)"
  for i in 0 1 2; do
    hosts+="${hosts:+, }127.0.0.1:${CLUSTER_NODE[$(((first + i) % 3))]}"
  done
  # Only within [amqp]: [storage] has host, port and user keys too.
  sed -i -e '/^\[amqp\]$/,/^\[/{' -e "s|^host = .*|hosts = $hosts|" -e '/^port = /d' \
    -e 's|^vhost = .*|vhost = /|' -e 's|^user = .*|user = guest|' -e '}' "$file"
  echo "$file"
}

# cluster_load RUN: one load of A watched on B; with RUN "stop", A's node stops 2 s in.
cluster_load() {
  local run="$1" out ticks0 stopper=""
  ticks0=$(machine_ticks)
  if [ "$run" = stop ]; then
    (sleep 2 && "$ROOT/scripts/services/rabbitmq-cluster.sh" stop-node "$RABBIT_CLUSTER_DIR" \
      "${CLUSTER_NODE[0]}" >/dev/null 2>&1) &
    stopper=$!
  fi
  out="$("$TOOL" put "${CLUSTER_PORT[a]}" "$CLUSTER_RATE" "$FROZEN_SECONDS" "$READ_USERS" \
    "${CLUSTER_PORT[b]}" || true)"
  [ -z "$stopper" ] || wait "$stopper" || true
  record cluster "$run" busy "$(busy_percent "$ticks0" "$(machine_ticks)")" %
  record_watched_load cluster "$run" "$out"
}

measure_broker_cluster() {
  declare -gA CLUSTER_PORT CLUSTER_NODE
  local s i pairs="" dist
  log "13. a RabbitMQ cluster: $CLUSTER_RATE writes/s for ${FROZEN_SECONDS}s on one broker, on three nodes, and with a node stopped"
  for s in a b c; do
    new_port "CLUSTER_PORT[$s]"
    start_server "cluster-one-$s" "$(conf "cluster-one-$s" amqp mysql composed incremental)" \
      "${CLUSTER_PORT[$s]}" --exchange events
  done
  cluster_load single
  for s in a b c; do stop_server "cluster-one-$s"; done

  RABBIT_CLUSTER_DIR="$WORK/rabbitmq-cluster"
  for i in 0 1 2; do
    new_port "CLUSTER_NODE[$i]"
    new_port dist
    pairs+=" ${CLUSTER_NODE[$i]}:$dist"
  done
  # shellcheck disable=SC2086 # one argument per node
  "$ROOT/scripts/services/rabbitmq-cluster.sh" start "$RABBIT_CLUSTER_DIR" $pairs
  i=0
  for s in a b c; do
    start_server "cluster-$s" "$(cluster_conf "cluster-$s" "$i")" "${CLUSTER_PORT[$s]}" \
      --exchange events
    i=$((i + 1))
  done
  cluster_load cluster
  cluster_load stop
  for s in a b c; do stop_server "cluster-$s"; done
  "$ROOT/scripts/services/rabbitmq-cluster.sh" stop "$RABBIT_CLUSTER_DIR"
  RABBIT_CLUSTER_DIR=""
}

# The section of docs/BENCHMARKS.md.
write_broker_cluster_md() {
  cat <<MD
## 13. A RabbitMQ cluster

Three servers on one MariaDB database (amqp, composed); A takes $CLUSTER_RATE PUT/s for
${FROZEN_SECONDS} s and \`busbar-bench put\` watches B serve every 50th write (as in section 3).
The same load on the run's one broker, then on a three-node cluster of this machine
(\`scripts/services/rabbitmq-cluster.sh\`, every node on the same 2 cores) with each server's
\`[amqp] hosts\` starting at a node of its own, then on the cluster with the node A is on stopped
(\`rabbitmqctl stop\`) 2 s into the load. That run's max is the time from a node's stop until
A's events reach B again (a write is watched every 100 ms).

| Broker | busy | A's answer to B serving it, p50 | p99 | max | errors | not served within 5 s |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
MD
  local run label
  for run in single cluster stop; do
    case "$run" in
      single) label="one node" ;;
      cluster) label="three nodes" ;;
      stop) label="three nodes, A's stopped" ;;
    esac
    echo "| $label | $(v cluster "$run" busy)% | $(ms "$(v cluster "$run" visible_p50)") ms | $(ms "$(v cluster "$run" visible_p99)") ms | $(ms "$(v cluster "$run" visible_max)") ms | $(v cluster "$run" errors) | $(v cluster "$run" visible_missed) |"
  done
  cat <<MD

The fault test (\`BrokerCluster.*\`, label \`cluster\`) stops a second node too and checks that
every server equals the database within 2 s of each stop ([events.md](events.md#a-rabbitmq-cluster)).

MD
}
