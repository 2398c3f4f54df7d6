# shellcheck shell=bash
# Section 11, hostile clients: a normal client's cached reads (wrk, NORMAL_CONNECTIONS keep-alive
# connections) with no attack, then beside each attack of busbar-bench attack, round by round;
# then the memory 1,000 clients holding nearly whole heads cost. Reads $WORK/reads.db (section 1),
# ROUNDS, DURATION.

NORMAL_CONNECTIONS=8
# spin is the control: as many threads as the pipelining and trailer attacks have clients, taking
# CPU only, so that the table tells the cores' sharing apart from the server's doing.
HOSTILE_ATTACKS="spin pipeline trailer slowloris"
declare -gA HOSTILE_CLIENTS=([spin]=4 [pipeline]=4 [trailer]=4 [slowloris]=1000)
HOSTILE_HOLDERS=1000

# hostile_round PLACEMENT SERVER PORT [LAUNCHER...]: the normal client alone, then beside each
# attack (started through LAUNCHER, e.g. taskset -c 1), its runs labelled
# hostile-PLACEMENT<attack>.
hostile_round() {
  local placement="$1" server="$2" port="$3" attack holder
  shift 3
  wrk_run "hostile-${placement}none" "$port" "$WORK/get.lua" "$NORMAL_CONNECTIONS" "${PID_OF[$server]}"
  for attack in $HOSTILE_ATTACKS; do
    "$@" "$TOOL" attack "$attack" "$port" "${HOSTILE_CLIENTS[$attack]}" "$((DURATION + 3))" \
      >>"$WORK/hostile-$placement$attack.out" &
    holder=$!
    sleep 2  # the attack is under way (slowloris: its clients connected)
    wrk_run "hostile-$placement$attack" "$port" "$WORK/get.lua" "$NORMAL_CONNECTIONS" "${PID_OF[$server]}"
    wait "$holder" 2>/dev/null || true
  done
}

# busbar (composed, one loop per core) serving cached reads to a normal client beside each attack,
# first with everything sharing the cores, then with the attackers on a core of their own.
measure_hostile_clients() {
  local conf port round before after holder
  ulimit -n "$(ulimit -Hn)"
  log "11. hostile clients: $HOSTILE_ATTACKS beside a normal client, ${DURATION}s x $ROUNDS rounds"
  if [ ! -f "$WORK/reads.db" ]; then  # bench/run --only hostile_clients: section 1 did not run
    cp "$EMPTY_DB" "$WORK/reads.db"
    seed_sqlite "$WORK/reads.db" "$READ_USERS"
  fi
  conf="$(conf hostile local sqlite composed incremental "$WORK/reads.db")"
  new_port port
  start_server hostile "$conf" "$port"
  for round in $(seq "$ROUNDS"); do
    hostile_round "" hostile "$port"
  done
  stop_server hostile
  # Apart: a server started on core 0 (one loop: one per core it may use) and the normal client
  # there too, the attackers on core 1, so that what the normal client loses is the server's
  # doing, not the cores' sharing.
  local cores
  cores=$(taskset -c -p $$ | awk '{print $NF}')  # nproc would count only core 0 once pinned
  taskset -p -c 0 $$ >/dev/null  # the server and wrk inherit it
  new_port port
  start_server hostile-apart "$conf" "$port"
  for round in $(seq "$ROUNDS"); do
    hostile_round "apart-" hostile-apart "$port" taskset -c 1
  done
  # Apart, the normal client first: the same, wrk under SCHED_FIFO, so that it takes core 0 the
  # moment it has something to do and waits for the server's answers only, not for the core.
  for round in $(seq "$ROUNDS"); do
    WRK_PRIORITY=realtime hostile_round "first-" hostile-apart "$port" taskset -c 1
  done
  stop_server hostile-apart
  taskset -p -c "$cores" $$ >/dev/null
  local placement
  for placement in "" "apart-" "first-"; do
    for attack in none $HOSTILE_ATTACKS; do
      local runs="$WORK/hostile-$placement$attack.runs"
      record hostile "$placement$attack" rps "$(awk '{print $1}' "$runs" | median | xargs printf '%.0f')" req/s
      record hostile "$placement$attack" p99 "$(awk '{print $2}' "$runs" | median)" us
      record hostile "$placement$attack" socket_errors "$(awk '{t += $6} END {print t + 0}' "$runs")" errors
      record hostile "$placement$attack" non_2xx "$(awk '{t += $7} END {print t + 0}' "$runs")" answers
    done
  done

  # Memory: a fresh server, then HOSTILE_HOLDERS clients each holding 15,990 bytes of a head (the
  # limit is 16 KiB) and adding a byte a second.
  log "11b. memory under $HOSTILE_HOLDERS clients holding nearly whole heads"
  new_port port
  start_server hostile-memory "$conf" "$port"
  sleep 1
  before=$(rss_kb "${PID_OF[hostile-memory]}")
  "$TOOL" attack slowloris "$port" "$HOSTILE_HOLDERS" 8 >"$WORK/hostile-memory.out" &
  holder=$!
  for _ in $(seq 100); do grep -q '^holding' "$WORK/hostile-memory.out" && break; sleep 0.1; done
  sleep 2
  after=$(rss_kb "${PID_OF[hostile-memory]}")
  wait "$holder" 2>/dev/null || true
  stop_server hostile-memory
  record hostile memory held "$(awk '$1=="holding"{print $2}' "$WORK/hostile-memory.out")" connections
  record hostile memory rss_kb_before "$before" kB
  record hostile memory rss_kb_after "$after" kB
  measure_pipelined_cost "$conf"
}

# What a pipelined request costs the server against one sent alone: system calls (strace) and
# instructions (callgrind) per request, 4 connections each sending PIPELINE_DEPTH cached reads at
# a time, then one at a time. measure_pipelined_cost CONF
PIPELINE_DEPTH=16
measure_pipelined_cost() {
  local conf="$1" port mode
  log "11c. system calls and instructions per request, pipelined $PIPELINE_DEPTH deep and not"
  cat >"$WORK/pipelined.lua" <<LUA
-- $PIPELINE_DEPTH cached reads of random users in one write, as one request of wrk's.
local n = tonumber(os.getenv("BENCH_IDS") or "10000")
init = function()
  local batch = {}
  for i = 1, $PIPELINE_DEPTH do
    batch[i] = wrk.format("GET", string.format("/users/u%07d", math.random(0, n - 1)))
  end
  pipelined = table.concat(batch)
end
request = function() return pipelined end
LUA
  : >"$WORK/parts-none"
  new_port port
  start_server hostile-cost "$conf" "$port"
  syscall_case one-at-a-time "$port" "${PID_OF[hostile-cost]}"
  WRK_SCRIPT="$WORK/pipelined.lua" syscall_case pipelined "$port" "${PID_OF[hostile-cost]}"
  stop_server hostile-cost
  for mode in one-at-a-time pipelined; do
    local script="$WORK/get.lua"
    [ "$mode" = pipelined ] && script="$WORK/pipelined.lua"
    new_port port
    WRK_SCRIPT="$script" callgrind_case "$mode" "$port" "$WORK/parts-none" \
      "$BUSBAR" --config "$conf" --bind "127.0.0.1:$port"
  done
}

# pipelined_cost_rows: section 11's table of what a pipelined request costs.
pipelined_cost_rows() {
  local mode
  for mode in one-at-a-time pipelined; do
    echo "| $mode | $(v syscalls "$mode" per_request) | $(v syscalls "$mode" breakdown) | $(v reads "$mode" instructions) |"
  done
}

# hostile_rows PLACEMENT: the table's rows of one placement ("", "apart-" or "first-").
hostile_rows() {
  local placement="$1" attack p99 ratio_p99 vs_spin goal none_p99 spin_p99
  none_p99=$(v hostile "${placement}none" p99)
  spin_p99=$(v hostile "${placement}spin" p99)
  for attack in none $HOSTILE_ATTACKS; do
    vs_spin="-"
    goal="-"
    p99=$(v hostile "$placement$attack" p99)
    ratio_p99=$(ratio "$p99" "$none_p99")
    case "$attack" in
      pipeline | trailer) vs_spin="$(ratio "$p99" "$spin_p99")x" ;;
    esac
    case "$attack" in
      none | spin) ;;
      *) goal=$(verdict "$ratio_p99" "<=" 2) ;;
    esac
    echo "| $attack | $(v hostile "$placement$attack" rps) | $(ms "$p99") | ${ratio_p99}x | $goal | $vs_spin | $(v hostile "$placement$attack" socket_errors), $(v hostile "$placement$attack" non_2xx) |"
  done
}

# Section 11 of docs/BENCHMARKS.md.
write_hostile_clients_md() {
  local none_p99 spin_p99
  none_p99=$(v hostile none p99)
  spin_p99=$(v hostile spin p99)
  cat <<MD
## 11. Hostile clients

A normal client (wrk, $NORMAL_CONNECTIONS keep-alive connections, cached \`GET /users/{id}\`) for
${DURATION} s, alone and beside each attack, round by round ($ROUNDS rounds, medians); busbar
composed on SQLite, one event loop per core, default limits. The attacks (\`busbar-bench attack\`):
**pipeline**: ${HOSTILE_CLIENTS[pipeline]} clients pipelining 2000 reads at a time as fast as they
take the answers; **trailer**: ${HOSTILE_CLIENTS[trailer]} clients each streaming a chunked
\`PUT\` whose trailer never ends, again each time the server refuses it; **slowloris**:
${HOSTILE_CLIENTS[slowloris]} clients each holding 15,990 bytes of a head and adding a byte a
second. Goal: the normal client's p99 at most 2x its p99 alone. The control, **spin**:
${HOSTILE_CLIENTS[spin]} threads that only take CPU, as many as the pipelining and trailer
clients; the last column compares those two attacks with it.

| Attack | normal req/s | normal p99 (ms) | p99 vs alone | goal | p99 vs spin | errors, non-2xx |
| --- | ---: | ---: | ---: | --- | ---: | ---: |
MD
  hostile_rows ""
  cat <<MD

The attackers run on the same 2 cores as the server and the normal client, and the pipelining
and trailer clients each keep a thread busy. The control shows what that alone costs:
${HOSTILE_CLIENTS[spin]} threads taking CPU and sending nothing put the normal client's p99 at
$(ms "$spin_p99") ms ($(ratio "$spin_p99" "$none_p99")x its p99 alone). The control's threads never block, while
the attackers' threads also wait on their sockets, and their CPU was not measured: the control
shows how much sharing the cores alone can cost the normal client, far past the 2x goal, not
how much of each attack's cost is that. Judging the server needs the attackers on cores of their
own, as below. Slowloris' clients send their bytes in a burst each
second; the loop handles a burst of ${HOSTILE_CLIENTS[slowloris]} one-byte reads before the
normal client's requests of the same wake-up, which is what its p99 shows.

Apart: a server started on core 0 (\`taskset\`; one event loop, as it runs one per core it may
use) with the normal client there too, the attackers on core 1, the same rounds; "alone" is the
normal client on core 0 with no attack.

| Attack | normal req/s | normal p99 (ms) | p99 vs alone | goal | p99 vs spin | errors, non-2xx |
| --- | ---: | ---: | ---: | --- | ---: | ---: |
$(hostile_rows apart-)

Here the attackers take none of the server's CPU, but the normal client (wrk) still shares core 0
with the server's loop: an attack that keeps the loop busy (pipelining) also keeps wrk waiting for
the core, so a row's miss is not yet the server's unfairness alone.

Apart, the normal client first: the same placement with wrk under \`SCHED_FIFO\` (\`chrt --fifo 1\`),
so that it takes core 0 from the server's loop the moment an answer wakes it: its p99 is then the
time the loop takes to come to its requests, the loop's fairness, without the wait for the core.

| Attack | normal req/s | normal p99 (ms) | p99 vs alone | goal | p99 vs spin | errors, non-2xx |
| --- | ---: | ---: | ---: | --- | ---: | ---: |
$(hostile_rows first-)

Memory: a fresh server's resident memory went from $(awk -v a="$(v hostile memory rss_kb_before)" 'BEGIN{printf "%.1f", a/1024}') MiB
to $(awk -v a="$(v hostile memory rss_kb_after)" 'BEGIN{printf "%.1f", a/1024}') MiB with $(v hostile memory held) clients each
holding a head of 15,990 bytes: $(awk -v a="$(v hostile memory rss_kb_after)" -v b="$(v hostile memory rss_kb_before)" -v n="$(v hostile memory held)" 'BEGIN{ if (n > 0) printf "%.1f", (a - b) / n; else print "-" }') KiB per
connection, against the configured bound of \`max_header_bytes\` (16 KiB) a connection.

What a pipelined request costs the server: 4 connections each sending $PIPELINE_DEPTH cached reads in
one write, against one at a time; system calls under strace and user-space instructions under
callgrind, per request. A turn's answers (up to 16 requests) go out in one write.

| Requests | system calls | of which (>= 0.05) | instructions |
| --- | ---: | --- | ---: |
$(pipelined_cost_rows)

MD
}

# Section 11's paragraph of "Where a target is missed" (report.sh calls it when an attack misses
# where the normal client comes first).
write_hostile_clients_missed() {
  local attack apart="" first=""
  for attack in pipeline trailer slowloris; do
    apart="$apart $attack $(ratio "$(v hostile "apart-$attack" p99)" "$(v hostile apart-none p99)")x,"
    first="$first $attack $(ratio "$(v hostile "first-$attack" p99)" "$(v hostile first-none p99)")x,"
  done
  cat <<MD

**Hostile clients (section 11).** Judged where the normal client comes first (wrk under
\`SCHED_FIFO\` on the server's core, the attackers on the other core), its p99 against alone was${first%,}:
what is left past 2x is the loop's own turn, in which each pipelining connection is answered up
to 16 requests (and 64 KiB read) before the normal client's next request. Without that priority (the attackers on their core, wrk sharing the server's) the ratios
were${apart%,}: most of the pipelining miss there is wrk waiting for the core the loop keeps busy.
Sharing both cores, threads that only take CPU put the normal client's p99 at
$(ratio "$(v hostile spin p99)" "$(v hostile none p99)")x its p99 alone, far past the goal by the
sharing alone.
MD
}
