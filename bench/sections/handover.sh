# shellcheck shell=bash
# Section 12, reloads by handover: SIGHUP to the new process serving and to the old one gone, with
# an empty table and with BIG cached users; then a normal client's latency while the server
# reloads once a second, against the same load without reloads. Reads ROUNDS, DURATION, BIG,
# EMPTY_DB and READ_USERS; the report reads the handover rows.

# ns_now: the monotonic clock in nanoseconds (the log's stamps are milliseconds of wall time).
ns_now() { date +%s%N; }

# gone PID: true once the process ended (a zombie counts: it serves nothing).
gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# serving_pid NAME: the process serving for server NAME: the last one its log says took over, or
# the one started.
serving_pid() {
  local taken
  taken=$(grep "reload: the new process" "$WORK/$1.log" | tail -1 | sed 's/.*(PID \([0-9]*\)).*/\1/')
  echo "${taken:-${PID_OF[$1]}}"
}

# hand_over NAME: SIGHUP to server NAME; waits until its new process serves (its log says so) and
# the old one is gone; sets HANDOVER_READY_MS and HANDOVER_GONE_MS and makes the new process
# NAME's. Fails after 300 s.
hand_over() {
  local name="$1" old="${PID_OF[$1]}" log="$WORK/$1.log" served t0 new
  served=$(grep -c "reload: the new process" "$log" || true)
  t0=$(ns_now)
  kill -HUP "$old"
  until [ "$(grep -c "reload: the new process" "$log" || true)" -gt "$served" ]; do
    if [ $(( ($(ns_now) - t0) / 1000000000 )) -gt 300 ]; then
      log "12. $name: no new process served within 300 s"; tail -5 "$log" >&2; return 1
    fi
    if grep -q "reload failed" "$log"; then log "12. $name: $(grep "reload failed" "$log" | tail -1)"; return 1; fi
    sleep 0.002
  done
  HANDOVER_READY_MS=$(( ($(ns_now) - t0) / 1000000 ))
  while ! gone "$old"; do sleep 0.002; done
  HANDOVER_GONE_MS=$(( ($(ns_now) - t0) / 1000000 ))
  new=$(serving_pid "$name")
  PID_OF[$name]="$new"
  PIDS+=("$new")
}

measure_handover() {
  local n p round ready gone db
  for n in 0 "$BIG"; do
    log "12. handover: SIGHUP to serving and to the old process gone, $n users (sqlite, amqp)"
    db="$WORK/handover-$n.db"
    cp "$EMPTY_DB" "$db"
    [ "$n" -gt 0 ] && seed_sqlite "$db" "$n"
    new_port p
    start_server "handover-$n" "$(conf "handover-$n" amqp sqlite composed incremental "$db")" "$p" \
      --exchange events
    ready=""
    gone=""
    for round in $(seq "$ROUNDS"); do
      hand_over "handover-$n" || break
      ready="$ready $HANDOVER_READY_MS"
      gone="$gone $HANDOVER_GONE_MS"
    done
    record handover "$n" ready_ms "$(echo "$ready" | median)" ms
    record handover "$n" gone_ms "$(echo "$gone" | median)" ms
    record handover "$n" ready_runs "${ready# }" ms
    stop_server "handover-$n"
  done

  # A normal client's GETs of cached users, with and without a reload every second.
  log "12. handover: GET p99 with a reload every second against none, $READ_USERS users"
  cp "$EMPTY_DB" "$WORK/handover-load.db"
  seed_sqlite "$WORK/handover-load.db" "$READ_USERS"
  new_port p
  start_server handover-load "$(conf handover-load local sqlite composed incremental \
    "$WORK/handover-load.db")" "$p"
  local reloads_before reloads_after
  for round in $(seq "$ROUNDS"); do
    wrk_run handover-quiet "$p" "$WORK/get.lua" 64 "${PID_OF[handover-load]}"
    reloads_before=$(grep -c "reload: the new process" "$WORK/handover-load.log" || true)
    (
      end=$(($(date +%s) + DURATION))
      while [ "$(date +%s)" -lt "$end" ]; do
        sleep 1
        kill -HUP "$(serving_pid handover-load)" 2>/dev/null || true
      done
    ) &
    local hup=$!
    wrk_run handover-reloading "$p" "$WORK/get.lua" 64
    wait "$hup"
    sleep 1  # the last reload ends
    reloads_after=$(grep -c "reload: the new process" "$WORK/handover-load.log" || true)
    echo $((reloads_after - reloads_before)) >>"$WORK/handover-reloading.count"
    PID_OF[handover-load]=$(serving_pid handover-load)
    PIDS+=("${PID_OF[handover-load]}")
  done
  stop_server handover-load
  local which
  for which in quiet reloading; do
    record handover "$which" rps "$(awk '{print $1}' "$WORK/handover-$which.runs" | median)" req/s
    record handover "$which" p99_us "$(awk '{print $2}' "$WORK/handover-$which.runs" | median)" us
    record handover "$which" errors "$(awk '{s += $6 + $7} END {print s + 0}' \
      "$WORK/handover-$which.runs")" requests
  done
  record handover reloading reloads "$(awk '{s += $1} END {print s + 0}' \
    "$WORK/handover-reloading.count")" reloads
}

# Section 12 of docs/BENCHMARKS.md.
write_handover_md() {
  cat <<MD
## 12. Reloads by handover

SIGHUP to a server on amqp and SQLite: the time until its new process serves (the old one's
log says so) and until the old process is gone, median of $ROUNDS reloads
($(v handover 0 ready_runs) ms with an empty table). The new process migrates and preloads before
it serves; the old one serves meanwhile.

| Users | to the new process serving (ms) | to the old one gone (ms) |
| ---: | ---: | ---: |
| 0 | $(v handover 0 ready_ms) | $(v handover 0 gone_ms) |
| $BIG | $(v handover "$BIG" ready_ms) | $(v handover "$BIG" gone_ms) |

A normal client (wrk, 64 connections, GET of $READ_USERS cached users, local + SQLite) for
${DURATION} s, $ROUNDS rounds, with a reload every second
($(v handover reloading reloads) reloads in all) and without:

| | req/s | p99 (ms) | failed requests |
| --- | ---: | ---: | ---: |
| no reload | $(v handover quiet rps) | $(ms "$(v handover quiet p99_us)") | $(v handover quiet errors) |
| a reload every second | $(v handover reloading rps) | $(ms "$(v handover reloading p99_us)") | $(v handover reloading errors) |

p99 during reloads against without: **$(ratio "$(v handover reloading p99_us)" "$(v handover quiet p99_us)")x**.
A failed request is one wrk counts as a socket error or a non-2xx answer (the goal: 0).

MD
}
