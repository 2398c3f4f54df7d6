# shellcheck shell=bash
# Section 8, connections: busbar and nginx serving the same bytes to 64..10000 keep-alive clients,
# round by round, then the memory an idle connection costs each. Reads READ_PORT[nginx], READ_PID[nginx]
# (section 1's nginx, still running), $WORK/reads.db, ROUNDS, DURATION; its constants below and
# instructions_now of report.sh are the Summary's too.

CONN_COUNTS="64 1000 4000 10000"
IDLE_CONNECTIONS=10000
# Before the event loops: busbar aced9a3 (a thread per connection), measured by this script's
# section 1 in the run of 2026-11-27 on this machine: instructions (callgrind), server CPU and
# context switches per cached read at 64 connections.
BEFORE_COMMIT=aced9a3
BEFORE_INSTRUCTIONS=19103
BEFORE_CPU_US=11.1
BEFORE_SWITCHES=1.01
# Before the metrics (issue 12: request counts and latency by route, request ids): the cached
# read's instructions in this script's section 1, run of 2026-12-01 16:51 UTC at 97f420f; they may
# grow by 5% at most.
BEFORE_METRICS_COMMIT=97f420f
BEFORE_METRICS_INSTRUCTIONS=9237

# busbar (composed, one event loop per core) and nginx (one worker per core) serving the same
# bytes to keep-alive clients, alternated round by round at each number of connections; then the
# memory an idle connection costs each of them.
measure_connections() {
  local conn_conf conn_port round n c runs
  ulimit -n "$(ulimit -Hn)"  # wrk and the idle clients hold a descriptor per connection
  log "8. connections: $CONN_COUNTS keep-alive connections, ${DURATION}s x $ROUNDS rounds"
  conn_conf="$(conf connections local sqlite composed incremental "$WORK/reads.db")"
  printf '[http]\nmax_connections = 20000\n' >>"$conn_conf"
  new_port conn_port
  start_server connections "$conn_conf" "$conn_port"
  declare -gA CONN_PORT=([busbar]="$conn_port" [nginx]="${READ_PORT[nginx]}")
  declare -gA CONN_PID=([busbar]="${PID_OF[connections]}" [nginx]="${READ_PID[nginx]}")
  for round in $(seq "$ROUNDS"); do
    for n in $CONN_COUNTS; do
      for c in busbar nginx; do
        wrk_run "conn-$c-$n" "${CONN_PORT[$c]}" "$WORK/get.lua" "$n" "${CONN_PID[$c]}"
      done
    done
    log "  round $round done"
  done
  for n in $CONN_COUNTS; do
    for c in busbar nginx; do
      runs="$WORK/conn-$c-$n.runs"
      record connections "$c-$n" rps "$(awk '{print $1}' "$runs" | median | xargs printf '%.0f')" req/s
      record connections "$c-$n" p99 "$(awk '{print $2}' "$runs" | median)" us
      record connections "$c-$n" cpu_us "$(awk '{print $3}' "$runs" | median)" us/request
      record connections "$c-$n" switches "$(awk '{print $5}' "$runs" | median)" switches/request
      record connections "$c-$n" socket_errors "$(awk '{t += $6} END {print t + 0}' "$runs")" errors
      record connections "$c-$n" non_2xx "$(awk '{t += $7} END {print t + 0}' "$runs")" answers
    done
  done
  stop_server connections
  measure_idle_connections "$conn_conf"
}

# idle_cost NAME PORT PID...: RSS growth of PID... per connection while IDLE_CONNECTIONS clients
# that each made one request stay connected (fresh servers: memory freed by earlier loads would
# otherwise be reused and hide the cost).
idle_cost() {
  local name="$1" port="$2" before after holder open
  shift 2
  sleep 1
  before=$(rss_total "$@")
  "$TOOL" idle "$port" "$IDLE_CONNECTIONS" 120 >"$WORK/idle-$name.out" &
  holder=$!
  for _ in $(seq 1200); do grep -q '^ready' "$WORK/idle-$name.out" && break; sleep 0.1; done
  sleep 1
  after=$(rss_total "$@")
  kill "$holder"
  wait "$holder" 2>/dev/null || true
  open=$(awk '$1=="ready"{print $2}' "$WORK/idle-$name.out")
  record connections "idle-$name" open "${open:-0}" connections
  record connections "idle-$name" errors "$(awk '$1=="ready"{print $3}' "$WORK/idle-$name.out")" errors
  record connections "idle-$name" rss_kb_before "$before" kB
  record connections "idle-$name" rss_kb_after "$after" kB
  record connections "idle-$name" bytes_per_connection "$(awk -v a="$after" -v b="$before" -v n="${open:-0}" 'BEGIN{ if (n > 0) printf "%.0f", (a - b) * 1024 / n; else print "" }')" B
}

# measure_idle_connections CONF: idle_cost of a fresh busbar with CONF, then of a fresh nginx.
measure_idle_connections() {
  local p
  log "8b. memory per idle connection: $IDLE_CONNECTIONS idle keep-alive clients"
  new_port p
  start_server idle "$1" "$p"
  idle_cost busbar "$p" "$SERVER_PID"
  stop_server idle
  new_port p
  start_nginx nginx-idle "$p"
  idle_cost nginx "$p" "$NGINX_PID"
  stop_pid "$NGINX_PID"
}

# Section 8 of docs/BENCHMARKS.md.
write_connections_md() {
  local n
  cat <<MD
## 8. Connections

\`GET /users/{id}\` over $READ_USERS users from wrk (2 threads, keep-alive) at each number of
connections, busbar (\`repository = composed\`, \`[http] max_connections = 20000\`) alternated with
nginx serving the same bytes as a static file, ${DURATION} s per case and round, median of $ROUNDS
rounds. Both have one event loop per core (busbar's loops, nginx's \`worker_processes auto\`), each
on its own listening socket (SO_REUSEPORT, backlog 4096). Socket errors are wrk's (connect, read,
write, timeout after 2 s), summed over the rounds.

| Connections | busbar req/s | nginx req/s | ratio | busbar p99 | nginx p99 | p99 ratio | busbar socket errors | nginx socket errors | busbar switches per request | nginx switches per request | busbar CPU per request | nginx CPU per request |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
MD
  for n in $CONN_COUNTS; do
    echo "| $n | $(v connections "busbar-$n" rps) | $(v connections "nginx-$n" rps) | $(ratio "$(v connections "busbar-$n" rps)" "$(v connections "nginx-$n" rps)")x | $(ms "$(v connections "busbar-$n" p99)") ms | $(ms "$(v connections "nginx-$n" p99)") ms | $(ratio "$(v connections "busbar-$n" p99)" "$(v connections "nginx-$n" p99)")x | $(v connections "busbar-$n" socket_errors) | $(v connections "nginx-$n" socket_errors) | $(v connections "busbar-$n" switches) | $(v connections "nginx-$n" switches) | $(v connections "busbar-$n" cpu_us) us | $(v connections "nginx-$n" cpu_us) us |"
  done
  cat <<MD

Answers other than 2xx: busbar $(for n in $CONN_COUNTS; do v connections "busbar-$n" non_2xx; done | awk '{t += $1} END {print t + 0}'), nginx $(for n in $CONN_COUNTS; do v connections "nginx-$n" non_2xx; done | awk '{t += $1} END {print t + 0}').

**Idle connections.** $IDLE_CONNECTIONS clients each make one request and stay connected
(\`busbar-bench idle\`); the servers are fresh, so the growth of their resident memory is what the
connections hold: busbar $(v connections idle-busbar bytes_per_connection) B per connection ($(v connections idle-busbar rss_kb_before) kB to
$(v connections idle-busbar rss_kb_after) kB, $(v connections idle-busbar open) connections open, $(v connections idle-busbar errors) errors), nginx
$(v connections idle-nginx bytes_per_connection) B ($(v connections idle-nginx rss_kb_before) kB to $(v connections idle-nginx rss_kb_after) kB over its master and workers,
$(v connections idle-nginx open) open, $(v connections idle-nginx errors) errors). Kernel socket buffers are not in either figure.

**Before and after.** Before the event loops (busbar $BEFORE_COMMIT, a thread per connection, this
page's run of 2026-11-27) a cached read at 64 connections cost $BEFORE_INSTRUCTIONS instructions,
$BEFORE_CPU_US us of server CPU and $BEFORE_SWITCHES context switches; in this run it costs
$instructions_now instructions, $(v reads composed cpu_us) us and $(v reads composed switches) context switches (section 1).

Each loop owns its connections: a socket is registered once with \`EPOLLET\`, read into the loop's
buffer and parsed in place (llhttp), and an idle connection keeps no buffer of its own. A route that
never blocks (the cached read) is answered on the loop thread; the others go to the
\`[http] workers\` pool and their answers come back through the loop's queue. Deadlines sit in
one list per kind (idle, head, body, write), sorted by construction, so arming one is O(1).

![connections](bench/connections.png)

MD
}

# The paragraph of "Where a target is missed" when busbar misses a connection target at some count
# (req/s under 0.8x nginx's, p99 over 2x, or socket errors).
write_connections_missed() {
  local n r q e
  echo
  echo "**Connections (section 8).** Where busbar falls short of a connection target:"
  echo
  for n in $CONN_COUNTS; do
    r=$(ratio "$(v connections "busbar-$n" rps)" "$(v connections "nginx-$n" rps)")
    q=$(ratio "$(v connections "busbar-$n" p99)" "$(v connections "nginx-$n" p99)")
    e=$(v connections "busbar-$n" socket_errors)
    if missed "$r" ">=" 0.8 || missed "$q" "<=" 2 || missed "$e" "<=" 0; then
      echo "- $n connections: ${r}x nginx's requests/s, p99 ${q}x, $e socket errors; server CPU per request $(v connections "busbar-$n" cpu_us) us against nginx's $(v connections "nginx-$n" cpu_us) us, $(v connections "busbar-$n" switches) context switches per request against $(v connections "nginx-$n" switches)."
    fi
  done
}

# The paragraph of "Where a target is missed" when the cached read costs more instructions or CPU
# than before the event loops.
write_connections_missed_before_event_loops() {
  cat <<MD

**The cached read against before the event loops.** $instructions_now instructions and
$(v reads composed cpu_us) us of server CPU per read, against $BEFORE_INSTRUCTIONS and $BEFORE_CPU_US us at $BEFORE_COMMIT;
section 1 splits the instructions by part. The CPU figure comes from another run on this shared
machine, the instructions do not move with its load.
MD
}
