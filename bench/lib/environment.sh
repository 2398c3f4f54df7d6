# shellcheck shell=bash
# The run's environment: RabbitMQ, MariaDB and PostgreSQL through scripts/services/*.sh, a scratch
# directory (WORK) and the background processes (PIDS), all undone by cleanup at exit. Reads ROOT;
# sets BUSBAR_TEST_*, AMQP_URL, EXCHANGE, WORK and PIDS for the sections.

start_services() {
  local s
  # Every vhost, database and role of this run (the chaos suite's per-cluster ones too) is named
  # after one prefix, and dropped with it at the end.
  export BUSBAR_TEST_PREFIX="busbar_run_$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
  # As scripts/test: a service found running stays up; one this run starts is stopped at the end.
  STARTED_SERVICES=()
  for s in rabbitmq mariadb postgresql; do
    "$ROOT/scripts/services/$s.sh" status >/dev/null 2>&1 || STARTED_SERVICES+=("$s")
    eval "$("$ROOT/scripts/services/$s.sh" start --exports)"
  done
  AMQP_URL="amqp://$BUSBAR_TEST_AMQP_USER:$BUSBAR_TEST_AMQP_PASSWORD@127.0.0.1:$BUSBAR_TEST_AMQP_PORT/$BUSBAR_TEST_AMQP_VHOST"
  EXCHANGE=busbar.events
}

# open_work_dir: WORK holds every config, log and intermediate file of the run; from here on,
# cleanup runs at exit.
open_work_dir() {
  WORK="$(mktemp -d /tmp/busbar-bench.XXXXXX)"
  chmod 755 "$WORK"  # nginx workers run as www-data and read user.json from here
  PIDS=()
  trap cleanup EXIT
}

cleanup() {
  STATUS=$?
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  # A RabbitMQ cluster section 13 left running (it failed half-way).
  [ -z "${RABBIT_CLUSTER_DIR:-}" ] || "$ROOT/scripts/services/rabbitmq-cluster.sh" stop "$RABBIT_CLUSTER_DIR"
  for s in rabbitmq mariadb postgresql; do
    "$ROOT/scripts/services/$s.sh" cleanup "$BUSBAR_TEST_PREFIX" >/dev/null 2>&1
  done
  for s in "${STARTED_SERVICES[@]}"; do "$ROOT/scripts/services/$s.sh" stop >&2; done
  # A failed run keeps its logs and configs for a look.
  if [ "$STATUS" = 0 ]; then rm -rf "$WORK"; else echo "bench/run: failed; logs in $WORK" >&2; fi
}
