#!/usr/bin/env bash
# NATS with JetStream for the test suite and the nats transport example (examples/nats-transport),
# bound to loopback, without systemd. Needs root for apt-get when nats-server is missing.
#
#   scripts/services/nats.sh start [--exports]
#       installs nats-server when missing and starts it on 127.0.0.1 (port $BUSBAR_NATS_PORT,
#       default 4222) with JetStream, its store in var/services/nats/ of this tree, unless a
#       server answers there already. Prints nothing on stdout, only what it does on stderr.
#       With --exports it also prints `export BUSBAR_TEST_PREFIX=...` and the
#       `export BUSBAR_TEST_NATS_...=...` lines of a name prefix of its own for the run:
#       `eval "$(nats.sh start --exports)"`.
#   scripts/services/nats.sh prefix     one more name prefix of the run $BUSBAR_TEST_PREFIX;
#                                       prints the BUSBAR_TEST_NATS_* lines. NATS has no vhosts:
#                                       a test names its streams (and subjects) after the prefix,
#                                       and `cleanup` deletes the streams that carry it.
#   scripts/services/nats.sh cleanup PREFIX
#       deletes every JetStream stream whose name starts with the run prefix PREFIX (with their
#       consumers); the server stays up
#   scripts/services/nats.sh inventory  lists the JetStream streams, one `stream NAME` a line,
#                                       sorted
#   scripts/services/nats.sh status     exit 0 when the server answers, 3 when it does not
#   scripts/services/nats.sh stop       stops the server that `start` started
#
# How a run's names are made and cleaned up: scripts/services/common.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"

readonly HOST=127.0.0.1
readonly PORT="${BUSBAR_NATS_PORT:-4222}"
readonly START_DEADLINE_SECONDS="${BUSBAR_NATS_START_DEADLINE:-30}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
readonly DIR="$ROOT/var/services/nats"
readonly PIDFILE="$DIR/nats-server.pid"
readonly LOG="$DIR/nats-server.log"

log() { echo "nats.sh: $*" >&2; }

server_binary() { command -v nats-server 2>/dev/null || echo /usr/sbin/nats-server; }

# The server answers with its INFO line.
answers() {
  (
    exec 3<>"/dev/tcp/$HOST/$PORT" || exit 1
    IFS= read -r -t 2 line <&3 || exit 1
    [[ "$line" == INFO* ]]
  ) 2>/dev/null
}

# js_api SUBJECT [PAYLOAD]: one request to the JetStream API over the NATS text protocol (no
# client tool ships with Debian's nats-server); prints the reply's payload.
js_api() {
  local subject="$1" payload="${2:-}" line reply=""
  exec 3<>"/dev/tcp/$HOST/$PORT"
  IFS= read -r -t 5 line <&3  # INFO
  printf 'CONNECT {"verbose":false,"pedantic":false,"headers":false}\r\nSUB _INBOX.natssh 1\r\nPUB %s _INBOX.natssh %d\r\n%s\r\n' \
    "$subject" "${#payload}" "$payload" >&3
  while IFS= read -r -t 5 line <&3; do
    line="${line%$'\r'}"
    case "$line" in
      PING) printf 'PONG\r\n' >&3 ;;
      MSG\ *)
        IFS= read -r -t 5 reply <&3
        break
        ;;
      -ERR*)
        log "NATS refused $subject: $line"
        break
        ;;
    esac
  done
  exec 3<&-
  if [ -z "$reply" ]; then
    log "no answer from NATS to $subject"
    return 1
  fi
  printf '%s\n' "${reply%$'\r'}"
}

streams() {
  local reply
  reply="$(js_api '$JS.API.STREAM.NAMES' '{"offset":0}')"
  if [[ "$reply" == *'"error"'* ]]; then
    log "listing streams failed: $reply (is JetStream enabled?)"
    return 1
  fi
  grep -o '"streams":\[[^]]*\]' <<<"$reply" | sed 's/^"streams":\[//; s/\]$//' | tr ',' '\n' |
    tr -d '"' | grep -v '^$' || true
}

install_when_missing() {
  if [ -x "$(server_binary)" ]; then return; fi
  log "installing nats-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  # policy-rc.d keeps the package from starting a server we did not configure.
  local policy=/usr/sbin/policy-rc.d created_policy=no
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=yes
  fi
  apt-get install -y --no-install-recommends nats-server >&2 || {
    [ "$created_policy" = yes ] && rm -f "$policy"
    exit 1
  }
  [ "$created_policy" = yes ] && rm -f "$policy"
}

start_server() {
  if answers; then
    log "NATS is running on $HOST:$PORT"
    streams >/dev/null || {
      log "it runs without JetStream (Debian's nats-server.service does): stop it" \
        "(systemctl disable --now nats-server) and run '$0 start' again"
      exit 1
    }
    return
  fi
  mkdir -p "$DIR/jetstream"
  log "starting NATS with JetStream on $HOST:$PORT (store $DIR/jetstream)"
  # A session of its own: it outlives this script and the step that ran it.
  setsid "$(server_binary)" -a "$HOST" -p "$PORT" -js -sd "$DIR/jetstream" -P "$PIDFILE" \
    </dev/null >>"$LOG" 2>&1 &
  local waited=0
  until answers; do
    if [ "$waited" -ge $((START_DEADLINE_SECONDS * 10)) ]; then
      log "NATS did not answer within ${START_DEADLINE_SECONDS}s; see $LOG"
      tail -n 20 "$LOG" >&2 || true
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  streams >/dev/null || exit 1  # JetStream answers too
  log "NATS started; '$0 stop' stops it"
}

prefix_exports() {
  echo "export BUSBAR_TEST_NATS_URL=nats://$HOST:$PORT"
  echo "export BUSBAR_TEST_NATS_PREFIX=$(object_name "$1")"
}

cleanup() {
  local prefix="$1" stream deleted=0 reply
  while IFS= read -r stream; do
    [ -n "$stream" ] || continue
    reply="$(js_api "\$JS.API.STREAM.DELETE.$stream")"
    if [[ "$reply" != *'"success":true'* ]]; then
      log "deleting stream $stream failed: $reply"
      return 1
    fi
    deleted=$((deleted + 1))
  done <<<"$(streams | with_prefix "$prefix")"
  log "run $prefix: deleted $deleted streams"
}

require_running() {
  answers || {
    log "NATS is not running on $HOST:$PORT: run '$0 start' first"
    exit 1
  }
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
    start_server
    if [ "${2:-}" = --exports ]; then
      echo "export BUSBAR_TEST_PREFIX=$prefix"
      prefix_exports "$prefix"
    fi
    ;;
  prefix)
    require_running
    prefix="$(run_prefix)"
    prefix_exports "$prefix"
    ;;
  cleanup)
    require_prefix "${2:-}"
    require_running
    cleanup "$2"
    ;;
  inventory)
    require_running
    streams | sed 's/^/stream /' | LC_ALL=C sort
    ;;
  status)
    if answers; then
      echo "NATS is running on $HOST:$PORT"
    else
      echo "NATS is not running on $HOST:$PORT"
      exit 3
    fi
    ;;
  stop)
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      pid="$(cat "$PIDFILE")"
      kill -TERM "$pid"
      for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      if kill -0 "$pid" 2>/dev/null; then
        log "NATS (pid $pid) did not stop within 10 s"
        exit 1
      fi
      rm -f "$PIDFILE"
      log "NATS stopped"
    elif answers; then
      log "a NATS server this script did not start answers on $HOST:$PORT; leaving it"
    else
      log "NATS is not running"
    fi
    ;;
  *)
    echo "usage: $0 start [--exports]|prefix|cleanup PREFIX|inventory|status|stop" >&2
    exit 2
    ;;
esac
