# shellcheck shell=bash
# Section 7, event log: how fast a frozen server catches up from the log on each backend, and the
# chaos suite's time to converge after each fault. Reads WRITE_CASES, WRITE_CONNECTIONS, DURATION,
# EMPTY_DB, CHAOS_ROUNDS and BUILD (busbar_chaos_tests).

measure_event_log() {
  log "7. event log: catch-up rate and convergence after faults"
  measure_catch_up
  measure_convergence
}

# Catch-up: server B hears nothing from the broker (it consumes no exchange) and is frozen
# (SIGSTOP) while A takes PUTs; once B runs again, its follower reads the backlog from the log.
measure_catch_up() {
  local b p_catchup_a p_catchup_b from head started applied took_us
  for b in $WRITE_CASES; do
    cp "$EMPTY_DB" "$WORK/catchup.db"
    new_port "p_catchup_a"
    new_port "p_catchup_b"
    start_server "catchup-$b-a" "$(conf "catchup-$b-a" amqp "$b" composed incremental "$WORK/catchup.db")" "$p_catchup_a"
    start_server "catchup-$b-b" "$(conf "catchup-$b-b" amqp "$b" composed incremental "$WORK/catchup.db")" "$p_catchup_b"
    from=$(curl -sf "http://127.0.0.1:$p_catchup_b/health" | jq -r .event_log.applied_seq)
    kill -STOP "${PID_OF[catchup-$b-b]}"
    wrk -t2 -c"$WRITE_CONNECTIONS" -d"${DURATION}s" -s "$WORK/put.lua" "http://127.0.0.1:$p_catchup_a" >/dev/null 2>&1 || true
    head=$(curl -sf "http://127.0.0.1:$p_catchup_a/health" | jq -r .event_log.applied_seq)
    started=$(date +%s%N)
    kill -CONT "${PID_OF[catchup-$b-b]}"
    applied=$from
    while [ "$applied" -lt "$head" ] && [ $(($(date +%s%N) - started)) -lt 120000000000 ]; do
      sleep 0.02
      applied=$(curl -sf "http://127.0.0.1:$p_catchup_b/health" | jq -r .event_log.applied_seq)
    done
    took_us=$((($(date +%s%N) - started) / 1000))
    record eventlog "catchup-$b" events "$((head - from))" events
    record eventlog "catchup-$b" took_us "$took_us" us
    record eventlog "catchup-$b" rate "$(awk -v n="$((applied - from))" -v us="$took_us" 'BEGIN{printf "%.0f", n*1000000/us}')" events/s
    stop_server "catchup-$b-a"
    stop_server "catchup-$b-b"
  done
}

# Convergence after each fault of the chaos suite (its own clusters, rounds capped).
measure_convergence() {
  local b filter fault backend rounds worst
  : >"$WORK/chaos.csv"
  : >"$WORK/observer.csv"
  for b in $WRITE_CASES; do
    filter="Chaos.*"
    [ "$b" = sqlite ] && filter="Chaos.*:-Chaos.ADatabaseRestartUnderWrites"
    BUSBAR_TEST_STORAGE=$b BUSBAR_CHAOS_ROUNDS=$CHAOS_ROUNDS BUSBAR_CHAOS_REPORT="$WORK/chaos.csv" \
      BUSBAR_CHAOS_OBSERVER_REPORT="$WORK/observer.csv" \
      "$BUILD/bin/busbar_chaos_tests" --gtest_filter="$filter" >"$WORK/chaos-$b.log" 2>&1 ||
      log "the chaos suite failed on $b; see $WORK/chaos-$b.log"
  done
  while IFS=, read -r fault backend rounds worst; do
    record faults "$backend $fault" rounds "$rounds" count
    record faults "$backend $fault" converge_ms "$worst" ms
  done <"$WORK/chaos.csv"
}

# Section 7 of docs/BENCHMARKS.md.
write_event_log_md() {
  local b f worst
  cat <<MD
## 7. Event log

**Catch-up.** Server B consumes no exchange, so it learns of A's writes from the event log only;
it is frozen (SIGSTOP) while A takes PUTs for ${DURATION} s ($WRITE_CONNECTIONS connections), then let
go: the time is from SIGCONT until B's applied seq reaches A's, read from \`GET /health\` every 20 ms
(the catch-up reads 1000 events per statement and delivers them in order to B's subscribers).

| Backend | events behind | caught up in | events/s |
| --- | ---: | ---: | ---: |
MD
  for b in $WRITE_CASES; do
    echo "| $b | $(v eventlog "catchup-$b" events) | $(ms "$(v eventlog "catchup-$b" took_us)") ms | $(v eventlog "catchup-$b" rate) |"
  done
  cat <<MD

**Convergence after faults.** The chaos suite (\`plugins/amqp/tests/chaos_test.cpp\`, $CHAOS_ROUNDS rounds of
each fault here; CI runs it too) on each backend: after each fault heals, the time until every
server's users equal the database's (it fails beyond 2 s). The catch-up interval is 1 s; a
figure near it is a server that heard of the change from the log rather than the broker.

| Backend | Fault | rounds | worst time to converge |
| --- | --- | ---: | ---: |
MD
  awk -F, '$1=="faults"&&$3=="converge_ms"{split($2,a," "); b=a[1]; f=substr($2,length(b)+2); print b "|" f "|" $4}' "$CSV" |
    while IFS='|' read -r b f worst; do
      echo "| $b | $f | $(v faults "$b $f" rounds) | $worst ms |"
    done
  echo
}
