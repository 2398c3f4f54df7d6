# shellcheck shell=bash
# Section 10, the consistency observer: what it costs a server and its database, and how soon it
# finds a change no event announced. Sourced by bench/run; uses the helpers of bench/lib/ (conf,
# start_server, stop_server, new_port, seed_pg, cpu_ticks, record, v, log).
#
# On PostgreSQL, whose own counters say how often the users table is read (pg_stat_user_tables):
# at 10k and at the biggest table, one idle server for OBSERVE_SECONDS with the observer at its
# defaults and with it off, side by side (its CPU, the users table's scans per second, the rows
# compared per second). Then a row changed with SQL at a random key, timed until GET serves the
# change: at the defaults on 10k rows, and on the biggest table with the pace raised through
# the admin listener (at the defaults a pass over it takes full_pass, 600 s; the raised run gives
# the cost per row). The cached reads' instructions with the observer on and off are in section 1.
# The fault suite's rows compared and found inconsistent come from section 7's chaos run.

OBSERVE_SECONDS=${OBSERVE_SECONDS:-20}
OBSERVER_FAST_PACE=100000  # rows/s, the raised pace on the biggest table

pg_value() {
  PGPASSWORD="$BUSBAR_TEST_PG_PASSWORD" psql -qtA -h 127.0.0.1 -p "$BUSBAR_TEST_PG_PORT" \
    -U "$BUSBAR_TEST_PG_USER" -d "$BUSBAR_TEST_PG_DATABASE" -c "$1"
}
# users_scans: index and sequential scans of the users table since the statistics began.
users_scans() {
  pg_value "SELECT pg_stat_force_next_flush(); SELECT coalesce(idx_scan, 0) + coalesce(seq_scan, 0) FROM pg_stat_user_tables WHERE relname = 'users'" 2>/dev/null |
    tail -1
}
# observed ADMIN_PORT FIGURE: a figure of the users table from GET /admin/consistency.
observed() {
  curl -s "http://127.0.0.1:$1/admin/consistency" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['tables']['users']['$2'])"
}

# observer_idle NAME: CPU and rows compared of the running server NAME over OBSERVE_SECONDS.
observer_idle() {
  local name="$1" ticks0 samples0
  sleep 2  # past the preload's own work
  ticks0=$(cpu_ticks "${PID_OF[$name]}")
  samples0=$(observed "${ADMIN_OF[$name]}" samples)
  sleep "$OBSERVE_SECONDS"
  record observer "$name" cpu_percent "$(awk -v a="$ticks0" -v b="$(cpu_ticks "${PID_OF[$name]}")" -v s="$OBSERVE_SECONDS" 'BEGIN{printf "%.2f", (b - a) / s}')" %
  record observer "$name" rows_per_s "$(awk -v a="$samples0" -v b="$(observed "${ADMIN_OF[$name]}" samples)" -v s="$OBSERVE_SECONDS" 'BEGIN{printf "%.0f", (b - a) / s}')" rows/s
}

# time_to_repair NAME PORT USERS: ms from an UPDATE made with SQL to GET serving it.
time_to_repair() {
  local name="$1" port="$2" users="$3" id started deadline
  id=$(printf 'u%07d' $(((RANDOM * 32768 + RANDOM) % users)))
  pg_value "UPDATE users SET name = 'changed outside' WHERE id = '$id'" >/dev/null
  started=$(date +%s%N)
  deadline=$((started + 900 * 1000000000))
  until curl -s "http://127.0.0.1:$port/users/$id" | grep -q 'changed outside'; do
    if [ "$(date +%s%N)" -gt "$deadline" ]; then echo "n/a"; return; fi
    sleep 0.05
  done
  pg_value "UPDATE users SET name = 'User ${id#u}' WHERE id = '$id'" >/dev/null
  echo $((($(date +%s%N) - started) / 1000000))
}

measure_consistency() {
  local n mode name p runs i ticks0 samples0 took scans0 started
  for n in 10000 "$BIG"; do
    seed_pg "$n"
    for mode in off on; do
      name="observer-$n-$mode"
      new_port p
      local more=""
      [ "$mode" = off ] && more="[consistency]\nenabled = false"
      log "10. the consistency observer $mode, $n users on postgresql, idle for ${OBSERVE_SECONDS}s"
      scans0=$(users_scans)
      started=$(date +%s%N)
      start_server "$name" "$(conf "$name" local postgresql composed incremental "" "$more")" "$p"
      observer_idle "$name"
      if [ "$mode" = on ]; then
        record observer "$name" pace "$(curl -s "http://127.0.0.1:${ADMIN_OF[$name]}/admin/consistency" |
          python3 -c "import json,sys; print(json.load(sys.stdin)['pace_rows_per_second'])")" rows/s
        if [ "$n" = 10000 ]; then
          runs=""
          for i in 1 2 3; do runs="$runs $(time_to_repair "$name" "$p" "$n")"; sleep 0.$RANDOM; done
          record observer "$name" repair_runs "$runs" ms
          record observer "$name" repair_ms "$(echo "$runs" | median)" ms
        else
          log "10. the same at $OBSERVER_FAST_PACE rows/s: a full pass, and a change found"
          curl -s -X POST "http://127.0.0.1:${ADMIN_OF[$name]}/admin/consistency?rows_per_second=$OBSERVER_FAST_PACE" >/dev/null
          ticks0=$(cpu_ticks "${PID_OF[$name]}")
          samples0=$(observed "${ADMIN_OF[$name]}" samples)
          took=$(time_to_repair "$name" "$p" "$n")
          record observer "$name" fast_repair_ms "$took" ms
          record observer "$name" fast_cpu_ms_per_1k_rows "$(awk -v a="$ticks0" -v b="$(cpu_ticks "${PID_OF[$name]}")" \
            -v r0="$samples0" -v r1="$(observed "${ADMIN_OF[$name]}" samples)" \
            'BEGIN{printf "%.2f", (r1 > r0) ? (b - a) * 10 * 1000 / (r1 - r0) : 0}')" ms
        fi
      fi
      stop_server "$name"  # its sessions end, and PostgreSQL counts what they read
      [ "$mode" = on ] && [ "$n" != 10000 ] && continue  # the raised pace's reads are not idle
      record observer "$name" scans_per_s "$(awk -v a="$scans0" -v b="$(users_scans)" \
        -v s="$(($(date +%s%N) - started))" 'BEGIN{printf "%.2f", (b - a) * 1e9 / s}')" scans/s
    done
  done
  seed_pg 0
}

# The fault suite's figures, from section 7's run of the chaos suite (BUSBAR_CHAOS_OBSERVER_REPORT).
record_observer_faults() {
  local backend samples inconsistent
  [ -s "$WORK/observer.csv" ] || return 0
  while IFS=, read -r backend samples inconsistent; do
    record observer "faults-$backend" samples "$samples" rows
    record observer "faults-$backend" inconsistent "$inconsistent" rows
  done <"$WORK/observer.csv"
}

# Section 10 of docs/BENCHMARKS.md.
write_consistency_md() {
  local n b
  cat <<MD
## 10. The consistency observer

One idle server (local transport, PostgreSQL, composed users) for ${OBSERVE_SECONDS} s with the
observer at its defaults (\`rows_per_second = 1000\`, \`full_pass = 600s\`, \`bound = 3s\`) and
with it off, one after the other. CPU is the whole process's (user + system) over the interval;
scans are PostgreSQL's own count of index and sequential scans of \`users\`
(\`pg_stat_user_tables\`) from the server's start to its stop, the preload's scan included. At
$BIG users with the observer on, the scans are left out: that server also ran the raised pace below.

| Users | observer | CPU (% of a core) | users scans/s | rows compared/s | pace (rows/s) |
| ---: | --- | ---: | ---: | ---: | ---: |
MD
  for n in 10000 "$BIG"; do
    echo "| $n | off | $(v observer "observer-$n-off" cpu_percent) | $(v observer "observer-$n-off" scans_per_s) | - | - |"
    echo "| $n | on | $(v observer "observer-$n-on" cpu_percent) | $(v observer "observer-$n-on" scans_per_s) | $(v observer "observer-$n-on" rows_per_s) | $(v observer "observer-$n-on" pace) |"
  done
  cat <<MD

**Finding a change made with SQL.** From an \`UPDATE\` of one random row to \`GET\` serving it:
at 10000 users and the defaults, median $(v observer observer-10000-on repair_ms) ms of 3
($(v observer observer-10000-on repair_runs) ms): the walker reaches the row within a pass
(10 s at 1000 rows/s), then the bound (3 s) passes before it counts and repairs. At $BIG users the
first pass after the start keeps to \`rows_per_second\` (the pace column: the table's size is not
known before it ends, about 1000 s here); later passes rise to finish within \`full_pass\`
(1667 rows/s), so a change is found within 600 s plus the bound. Raised to $OBSERVER_FAST_PACE rows/s through
\`POST /admin/consistency\`, the same took $(v observer "observer-$BIG-on" fast_repair_ms) ms, at
$(v observer "observer-$BIG-on" fast_cpu_ms_per_1k_rows) ms of the server's CPU per 1000 rows
compared.

**Under faults.** Every server of the chaos suite (section 7, $CHAOS_ROUNDS rounds of each fault)
runs the observer with a 3 s bound; the suite fails if one counts a row, in agreement with its
own comparison of every server with the database:

| Backend | rows compared | inconsistent past the bound | per million |
| --- | ---: | ---: | ---: |
MD
  for b in $WRITE_CASES; do
    echo "| $b | $(v observer "faults-$b" samples) | $(v observer "faults-$b" inconsistent) | $(awk -v s="$(v observer "faults-$b" samples)" -v i="$(v observer "faults-$b" inconsistent)" 'BEGIN{if (s > 0) printf "%.2f", i * 1e6 / s; else print "-"}') |"
  done
  echo
}
