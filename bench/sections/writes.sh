# shellcheck shell=bash
# Section 2, writes: PUT /users/{id} with the amqp transport on each backend, with the event log
# and without it, alternated round by round on the same database. Reads WRITE_CASES,
# WRITE_CONNECTIONS, ROUNDS and $WORK/reads.db (section 1); sets WRITE_PORT.

measure_writes() {
  local b c more round
  log "2. writes: PUT, amqp transport on, $WRITE_CONNECTIONS connections, event log on and off"
  declare -gA WRITE_PORT
  for b in $WRITE_CASES; do
    # The same database for both; the one without the log is what busbar was before it.
    for c in "$b" "$b-nolog"; do
      more=""
      [ "$c" = "$b-nolog" ] && more="[event_log]\nenabled = false"
      new_port "WRITE_PORT[$c]"
      start_server "write-$c" "$(conf "write-$c" amqp "$b" composed incremental "$WORK/reads.db" "$more")" "${WRITE_PORT[$c]}"
    done
  done
  for round in $(seq "$ROUNDS"); do
    for b in $WRITE_CASES; do
      for c in "$b" "$b-nolog"; do
        wrk_run "write-$c" "${WRITE_PORT[$c]}" "$WORK/put.lua" "$WRITE_CONNECTIONS" "${PID_OF[write-$c]}"
      done
    done
  done
  for b in $WRITE_CASES; do
    for c in "$b" "$b-nolog"; do
      record writes "$c" rps "$(awk '{print $1}' "$WORK/write-$c.runs" | median | xargs printf '%.0f')" req/s
      record writes "$c" p99 "$(awk '{print $2}' "$WORK/write-$c.runs" | median)" us
      record writes "$c" cpu_us "$(awk '{print $3}' "$WORK/write-$c.runs" | median)" us/request
      stop_server "write-$c"
    done
    record writes "$b" log_ratio "$(ratio "$(value writes "$b" rps)" "$(value writes "$b-nolog" rps)")" x
  done
}

# Section 2 of docs/BENCHMARKS.md.
write_writes_md() {
  local b
  cat <<MD
## 2. Writes

\`PUT /users/{id}\` updating random users of $READ_USERS, \`repository = composed\`, amqp
transport (each write is published with publisher confirms), $WRITE_CONNECTIONS connections,
${DURATION} s per case and round. Each backend runs twice on the same database, alternated round
by round: with the event log (the default: the event commits with the write and takes its
number from the head row, see docs/architecture.md) and with \`[event_log] enabled = false\`
(the event is published after the commit, unlogged).

| Backend | requests/s with the log | without | with / without | p99 with | p99 without | busbar CPU per request with | without |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
MD
  for b in $WRITE_CASES; do echo "| $b | $(v writes "$b" rps) | $(v writes "$b-nolog" rps) | $(v writes "$b" log_ratio)x | $(ms "$(v writes "$b" p99)") ms | $(ms "$(v writes "$b-nolog" p99)") ms | $(v writes "$b" cpu_us) us | $(v writes "$b-nolog" cpu_us) us |"; done
  cat <<MD

![writes](bench/writes.png)

MD
}

# The paragraph of "Where a target is missed" when a backend's PUT/s with the event log falls
# under 0.7x of without.
write_writes_missed_event_log() {
  local b
  cat <<MD

**Writes with the event log (section 2, worst ${worst_log_ratio}x).** With the log, a write's
transaction also inserts its event, and a numbering round (a plain read and one compare-and-set
statement, committed durably) follows on the numberer's thread: one more flush per round, shared
by the writes that committed meanwhile. Per backend, with and without the log, measured
alternately round by round: $(for b in $WRITE_CASES; do printf '%s %s/s against %s/s (busbar CPU per PUT %s us against %s us); ' "$b" "$(v writes "$b" rps)" "$(v writes "$b-nolog" rps)" "$(v writes "$b" cpu_us)" "$(v writes "$b-nolog" cpu_us)"; done)the
database's own work is not in the CPU figures.
MD
}
