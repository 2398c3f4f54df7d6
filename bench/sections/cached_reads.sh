# shellcheck shell=bash
# Section 1, cached reads: GET /users/{id} on busbar (composed, and persistent on each backend)
# against nginx and bare Poco; system calls (strace), instructions (callgrind) and the repositories
# alone. Reads EMPTY_DB, READ_USERS, READ_CONNECTIONS, ROUNDS, CG_SECONDS, REPO_SECONDS, BUILD;
# leaves nginx and bare Poco running, READ_PORT and READ_PID (section 8 uses nginx), READ_CASES.

READ_CASES="nginx poco composed sqlite mysql postgresql"

measure_cached_reads() {
  local name
  log "1. cached reads: $READ_USERS users, $READ_CONNECTIONS connections, ${DURATION}s x $ROUNDS rounds"
  start_read_servers
  measure_reads_under_load
  log "1b. system calls per request under strace"
  syscall_case composed "${READ_PORT[composed]}" "${READ_PID[composed]}"
  syscall_case poco "${READ_PORT[poco]}" "${READ_PID[poco]}"
  syscall_case nginx "${READ_PORT[nginx]}" $(pgrep -P "${READ_PID[nginx]}")
  for name in composed persistent-sqlite persistent-mysql persistent-postgresql; do stop_server "$name"; done
  measure_instructions
  measure_repositories
}

# start_read_servers: every case of READ_CASES on its port READ_PORT[case], its process READ_PID[case].
start_read_servers() {
  cp "$EMPTY_DB" "$WORK/reads.db"
  seed_sqlite "$WORK/reads.db" "$READ_USERS"

  declare -gA READ_PORT
  new_port "READ_PORT[composed]"
  start_server composed "$(conf composed local sqlite composed incremental "$WORK/reads.db")" "${READ_PORT[composed]}"
  new_port "READ_PORT[sqlite]"
  start_server persistent-sqlite "$(conf persistent-sqlite local sqlite persistent incremental "$WORK/reads.db")" "${READ_PORT[sqlite]}"
  new_port "READ_PORT[mysql]"
  start_server persistent-mysql "$(conf persistent-mysql local mysql persistent incremental)" "${READ_PORT[mysql]}"
  seed_mysql "$READ_USERS"
  new_port "READ_PORT[postgresql]"
  start_server persistent-postgresql "$(conf persistent-postgresql local postgresql persistent incremental)" "${READ_PORT[postgresql]}"
  seed_pg "$READ_USERS"

  # The baselines serve busbar's own bytes for one user.
  curl -sf "http://127.0.0.1:${READ_PORT[composed]}/users/u0000042" >"$WORK/user.json"
  new_port "READ_PORT[poco]"
  "$TOOL" serve "${READ_PORT[poco]}" "$WORK/user.json" &
  PIDS+=($!)
  declare -gA READ_PID=([composed]="${PID_OF[composed]}" [sqlite]="${PID_OF[persistent-sqlite]}"
    [mysql]="${PID_OF[persistent-mysql]}" [postgresql]="${PID_OF[persistent-postgresql]}" [poco]=$!)
  new_port "READ_PORT[nginx]"
  start_nginx nginx "${READ_PORT[nginx]}"
  READ_PID[nginx]=$NGINX_PID
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:${READ_PORT[poco]}/users/u0000001" >/dev/null && break; sleep 0.05; done
}

measure_reads_under_load() {
  local round c
  for round in $(seq "$ROUNDS"); do
    for c in $READ_CASES; do
      wrk_run "read-$c" "${READ_PORT[$c]}" "$WORK/get.lua" "$READ_CONNECTIONS" "${READ_PID[$c]}"
    done
    log "  round $round done"
  done
  for c in $READ_CASES; do
    record reads "$c" rps "$(awk '{print $1}' "$WORK/read-$c.runs" | median | xargs printf '%.0f')" req/s
    record reads "$c" p99 "$(awk '{print $2}' "$WORK/read-$c.runs" | median)" us
    record reads "$c" rounds "$(awk '{printf "%.0f ", $1}' "$WORK/read-$c.runs")" req/s
    record reads "$c" cpu_us "$(awk '{print $3}' "$WORK/read-$c.runs" | median)" us/request
    record reads "$c" wrk_cpu_us "$(awk '{print $4}' "$WORK/read-$c.runs" | median)" us/request
    record reads "$c" switches "$(awk '{print $5}' "$WORK/read-$c.runs" | median)" switches/request
  done
}

# System calls per request under strace -c: the kernel's share, which callgrind does not see.
# syscall_case NAME PORT PID...: the load is wrk with WRK_SCRIPT (get.lua when unset).
syscall_case() {
  local name="$1" port="$2" strace_pid requests
  shift 2
  local attach=()
  for pid in "$@"; do attach+=(-p "$pid"); done
  strace -f -c -o "$WORK/st-$name.txt" "${attach[@]}" 2>/dev/null &
  strace_pid=$!
  sleep 1
  requests="$(BENCH_IDS=$READ_USERS wrk -t1 -c4 -d"${CG_SECONDS}s" -s "${WRK_SCRIPT:-$WORK/get.lua}" \
    "http://127.0.0.1:$port" | awk '/requests in/{print $1}')"
  kill -INT "$strace_pid"
  wait "$strace_pid" || true
  record syscalls "$name" per_request "$(awk -v n="$requests" '$NF=="total"{printf "%.1f", $4 / n}' "$WORK/st-$name.txt")" calls/request
  record syscalls "$name" breakdown "$(awk -v n="$requests" '$1 ~ /^[0-9.]+$/ && $NF != "total" && $4 / n >= 0.05 {
    printf "%s%s %.1f", sep, $NF, $4 / n; sep = " · " }' "$WORK/st-$name.txt")" calls/request
}

# Instructions per request under callgrind: a count the machine's noise cannot move, and the
# profile of where busbar's share goes. Light load (4 connections), after a warm-up.
# callgrind_case NAME PORT PARTS CMD...: PARTS is a file of "COST_PATTERN|LABEL" lines; the
# requests carry the header CG_HEADER when it is set; the load is wrk with WRK_SCRIPT (get.lua
# when unset).
callgrind_case() {
  local name="$1" port="$2" parts="$3"
  shift 3
  local line vpid requests total cost
  local -a header=()
  if [ -n "${CG_HEADER:-}" ]; then header=(-H "$CG_HEADER"); fi
  line="$("$TOOL" start "$port" "$WORK/cg-$name.log" -- "$(command -v valgrind)" --tool=callgrind \
    --callgrind-out-file="$WORK/cg-$name.out" "$@")"
  vpid="${line#* }"
  PIDS+=("$vpid")
  local script="${WRK_SCRIPT:-$WORK/get.lua}"
  BENCH_IDS=$READ_USERS wrk -t1 -c4 -d"${CG_SECONDS}s" "${header[@]}" -s "$script" "http://127.0.0.1:$port" >/dev/null
  callgrind_control -z "$vpid" >/dev/null
  requests="$(BENCH_IDS=$READ_USERS wrk -t1 -c4 -d"${CG_SECONDS}s" "${header[@]}" -s "$script" "http://127.0.0.1:$port" |
    awk '/requests in/{print $1}')"
  callgrind_control -d "$vpid" >/dev/null
  stop_pid "$vpid"
  total="$(callgrind_annotate "$WORK/cg-$name.out.1" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",", "", $1); print $1}')"
  record reads "$name" instructions "$((total / requests))" instructions/request
  callgrind_annotate --inclusive=yes "$WORK/cg-$name.out.1" 2>/dev/null >"$WORK/cg-$name.txt"
  # part COST_PATTERN LABEL: inclusive instructions per request of the first matching function
  while IFS='|' read -r pattern label; do
    cost="$({ grep -m1 -F -- "$pattern" "$WORK/cg-$name.txt" || true; } |
      awk -v n="$requests" '{gsub(",", "", $1); printf "%.0f", $1 / n}')"
    if [ -n "$cost" ]; then record callgrind "$name" "$label" "$cost" instructions/request; fi
  done <"$parts"
}

measure_instructions() {
  local p
  local BENCH_TOKEN=bench-reader-5f0c2a9d4b7e1f3a
  cat >"$WORK/parts-composed" <<'PARTS'
http_codec.cpp:busbar::host::RequestParser::parse(|parse the request (llhttp)
http_exchange.cpp:busbar::host::HttpExchange::begin(|route the head
http_exchange.cpp:busbar::host::HttpExchange::run(|checks + handler
http_codec.cpp:busbar::host::appendResponse(|format the answer
http_connection.cpp:busbar::host::HttpConnection::flush()|send (user space)
http_router.cpp:busbar::host::HttpRouter::match(|busbar: router match
access_policy.cpp:busbar::host::AccessPolicy::decide(|auth: token check
registerUserRoutes(busbar::Routes&, busbar::users::UserService&, bool)::{lambda|users: GET handler
InMemoryUserRepository::find|users: in-memory find
PARTS
  cat >"$WORK/parts-poco" <<'PARTS'
HTTPServerRequestImpl::HTTPServerRequestImpl|parse the request (Poco)
FixedHandler::handleRequest|checks + handler
PARTS
  cat >"$WORK/parts-reactor" <<'PARTS'
ReactorConnection::onReadable|reactor: read + find the head's end + send
PARTS
  log "1c. instructions per request under callgrind"
  new_port p
  callgrind_case composed "$p" "$WORK/parts-composed" "$BUSBAR" --config "$WORK/composed.conf" --bind "127.0.0.1:$p"
  # The same server with the consistency observer off (section 10): its read path is the same.
  { cat "$WORK/composed.conf"; printf '[consistency]\nenabled = false\n'; } >"$WORK/composed-unobserved.conf"
  new_port p
  callgrind_case unobserved "$p" "$WORK/parts-composed" "$BUSBAR" --config "$WORK/composed-unobserved.conf" --bind "127.0.0.1:$p"
  # The same server where every read needs a token ([http] auth = bearer, open_reads = false).
  printf '%s\n' "$BENCH_TOKEN" >"$WORK/reader.token"
  chmod 600 "$WORK/reader.token"
  { cat "$WORK/composed.conf"
    printf '[http]\nauth = bearer\nopen_reads = false\n[token.reader]\nscopes = read\nfile = %s\n' "$WORK/reader.token"
  } >"$WORK/composed-token.conf"
  new_port p
  CG_HEADER="Authorization: Bearer $BENCH_TOKEN" callgrind_case token "$p" "$WORK/parts-composed" \
    "$BUSBAR" --config "$WORK/composed-token.conf" --bind "127.0.0.1:$p"
  new_port p
  callgrind_case poco "$p" "$WORK/parts-poco" "$TOOL" serve "$p" "$WORK/user.json"
  new_port p
  callgrind_case reactor "$p" "$WORK/parts-reactor" "$TOOL" serve-reactor "$p" "$WORK/user.json"
  sed 's/InMemoryUserRepository::find|users: in-memory find/DbalUserRepository::find|users: SQLite find (Poco::Data)/' \
    "$WORK/parts-composed" >"$WORK/parts-sqlite"
  new_port p
  callgrind_case sqlite "$p" "$WORK/parts-sqlite" "$BUSBAR" --config "$WORK/persistent-sqlite.conf" --bind "127.0.0.1:$p"
}

measure_repositories() {
  local pair
  log "1d. the repositories alone, no HTTP"
  BENCH_USERS=$READ_USERS "$BUILD/bin/busbar-repository-bench" --benchmark_min_time="$REPO_SECONDS" \
    --benchmark_format=csv 2>/dev/null >"$WORK/repositories.csv"
  for pair in cached:BM_CachedFind sqlite:BM_SqliteFind; do
    record repositories "${pair%%:*}" find_ns "$(awk -F, -v n="${pair#*:}" '{gsub(/"/, "", $1)} $1==n{printf "%.0f", $4}' "$WORK/repositories.csv")" ns
  done
}

# Section 1 of docs/BENCHMARKS.md.
write_cached_reads_md() {
  local c label busbar_loop reactor_loop
  cat <<MD
## 1. Cached reads

\`GET /users/{id}\` over $READ_USERS users, random ids, keep-alive, $READ_CONNECTIONS connections,
${DURATION} s per case and round. nginx serves busbar's JSON for one user as a static file
(\`worker_processes auto\`); bare Poco is \`busbar-bench serve\`, Poco's HTTPServer with the 64
threads busbar had before its event loops, answering the same bytes; busbar is
\`repository = composed\` (SQLite, local transport) and \`repository = persistent\` on each
backend.

| Case | requests/s (median) | p99 latency | busbar composed vs this | server CPU per request | context switches per request | wrk CPU per request | rounds (req/s) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |
MD
  for c in $READ_CASES; do
    echo "| $c | $(v reads "$c" rps) | $(ms "$(v reads "$c" p99)") ms | $(ratio "$(v reads composed rps)" "$(v reads "$c" rps)")x | $(v reads "$c" cpu_us) us | $(v reads "$c" switches) | $(v reads "$c" wrk_cpu_us) us | $(v reads "$c" rounds) |"
  done
  cat <<MD

Server CPU per request is user + system time of the server's processes over the load divided by
the requests served (for the persistent cases it leaves out the database's own CPU); wrk's is
the load generator's own. On this machine wrk, the servers and the kernel's loopback share two
cores, so requests/s also depends on how the scheduler splits them; CPU per request is the
steadier figure. By it, busbar composed costs $(ratio "$(v reads composed cpu_us)" "$(v reads poco cpu_us)")x the bare Poco server and $(ratio "$(v reads composed cpu_us)" "$(v reads nginx cpu_us)")x nginx per request.
MD
  cat <<MD

System calls per request (\`strace -f -c\` on the server's processes, 4 connections): what
callgrind below does not see, and most of a request's CPU on this machine.

| Server | calls per request | which |
| --- | ---: | --- |
MD
  for c in nginx poco composed; do
    echo "| $c | $(v syscalls "$c" per_request) | $(v syscalls "$c" breakdown) |"
  done
  cat <<MD

busbar serves connections on one epoll loop per core (\`host/http/\`, section 8): a socket is
registered once, edge-triggered, so a keep-alive request costs a read, a write and a share of one
\`epoll_wait\`; the cached read runs on the loop thread, without a hand-off. Poco 1.11's
HTTPServer, the bare baseline, gives each connection a thread and waits for each request with
\`Socket::poll\`, which creates, arms, waits on and closes an epoll instance per call.

Under callgrind (4 connections, after a warm-up), a cached read costs
$(v reads composed instructions) instructions in busbar, $(v reads poco instructions) in the bare
Poco server answering the same bytes ($(ratio "$(v reads composed instructions)" "$(v reads poco instructions)")x), $(v reads reactor instructions) in Poco's
SocketReactor answering them without parsing anything (\`busbar-bench serve-reactor\`: the cost of
Poco's event dispatch alone) and $(v reads sqlite instructions) in busbar with
\`repository = persistent\` on SQLite. Inclusive instructions per request:

| Part | busbar composed | busbar persistent SQLite | bare Poco | Poco SocketReactor |
| --- | ---: | ---: | ---: | ---: |
| whole request (every thread) | $(v reads composed instructions) | $(v reads sqlite instructions) | $(v reads poco instructions) | $(v reads reactor instructions) |
MD
  for label in "parse the request (llhttp)" "parse the request (Poco)" "route the head" \
    "checks + handler" "format the answer" "send (user space)" "busbar: router match" \
    "users: GET handler" "users: in-memory find" "users: SQLite find (Poco::Data)" \
    "reactor: read + find the head's end + send"; do
    echo "| $label | $(v callgrind composed "$label") | $(v callgrind sqlite "$label") | $(v callgrind poco "$label") | $(v callgrind reactor "$label") |"
  done
  cat <<MD

With \`[http] auth = bearer\` and \`open_reads = false\`, every read carries a bearer token: the
check (\`AccessPolicy::decide\`: the SHA-256 of the token and a compare with each granted one's)
costs $(v callgrind token "auth: token check") instructions per request, and the whole request
$(v reads token instructions) against $(v reads composed instructions) without it
($(ratio "$(v reads token instructions)" "$(v reads composed instructions)")x).

The consistency observer (section 10) runs on a thread of its own and never calls the read path.
The composed server above has it on at its defaults; the same server with it off costs
$(v reads unobserved instructions) instructions per request for the whole process (the observer's
own work, spread over the requests, is the difference), and the GET handler costs
$(v callgrind unobserved "users: GET handler") instructions with it off against
$(v callgrind composed "users: GET handler") with it on.
MD
  busbar_loop=$(awk -v w="$(v reads composed instructions)" -v a="$(v callgrind composed "parse the request (llhttp)")" \
    -v b="$(v callgrind composed "route the head")" -v c="$(v callgrind composed "checks + handler")" \
    -v d="$(v callgrind composed "format the answer")" 'BEGIN{print w - a - b - c - d}')
  reactor_loop=$(awk -v w="$(v reads reactor instructions)" -v a="$(v callgrind reactor "reactor: read + find the head's end + send")" 'BEGIN{print w - a}')
  cat <<MD

Take away what each does with the bytes, and what is left is the event loop: $busbar_loop
instructions per request in busbar (epoll, dispatch, deadlines, the read and the write), against
$reactor_loop in Poco's SocketReactor for its dispatch alone (its handler's own read and write
excluded): why busbar has a small epoll loop of its own (\`host/http/event_loop.h\`).

The repositories alone, without HTTP (\`busbar-repository-bench\`, Google Benchmark, one thread,
random ids over the same $READ_USERS users): a cached find (\`ComposedUserRepository\`) takes
$(v repositories cached find_ns) ns, the persistent SQLite find (\`DbalUserRepository\` through Poco::Data)
$(v repositories sqlite find_ns) ns: **$(ratio "$(v repositories sqlite find_ns)" "$(v repositories cached find_ns)")x**.

![reads](bench/reads.png)

MD
}

# The paragraph of "Where a target is missed" when busbar's reads fall short of nginx's or bare
# Poco's.
write_cached_reads_missed_baselines() {
  cat <<MD

**Reads against nginx and bare Poco.** By CPU per request busbar composed costs
$(ratio "$(v reads composed cpu_us)" "$(v reads nginx cpu_us)")x nginx and $(ratio "$(v reads composed cpu_us)" "$(v reads poco cpu_us)")x the bare Poco server
(section 1), with $(v syscalls composed per_request) system calls per read against nginx's $(v syscalls nginx per_request) and
$(v reads composed switches) context switches per request against nginx's $(v reads nginx switches); section 1 splits its
instructions by part. On two cores shared with wrk, the split of CPU between wrk and the server
decides requests/s as much as the server's own cost does.
MD
}

# write_cached_reads_missed_persistent BACKEND RATIO: the paragraph of "Where a target is missed"
# when busbar composed is less than 5x the persistent server on BACKEND.
write_cached_reads_missed_persistent() {
  local b="$1" r="$2"
  if [ "$b" = sqlite ]; then
    cat <<MD

**Reads against persistent SQLite (${r}x).** SQLite runs inside the server, so a persistent
read is the cached read plus one indexed lookup through Poco::Data: no network, no other process.
The lookup is all that differs: $(v callgrind sqlite "users: SQLite find (Poco::Data)") instructions under callgrind (\`DbalUserRepository::find\`) against
$(v callgrind composed "users: in-memory find") for the cache's (\`InMemoryUserRepository::find\`), and $(ratio "$(v repositories sqlite find_ns)" "$(v repositories cached find_ns)")x apart as repositories alone
(section 1). Everything else is paid by both: the HTTP request, which is nearly all of busbar's
cached read ($(v reads composed cpu_us) us of server CPU), and wrk's own CPU on the same two cores ($(v reads composed wrk_cpu_us) us per cached
request, $(v reads sqlite wrk_cpu_us) us per persistent one). Requests/s therefore compares (lookup + HTTP + wrk) with
(HTTP + wrk): by CPU $(awk -v p="$(v reads sqlite cpu_us)" -v c="$(v reads composed cpu_us)" -v w="$(v reads composed wrk_cpu_us)" -v x="$(v reads sqlite wrk_cpu_us)" 'BEGIN{ if (c + w > 0) printf "%.1f", (p + x) / (c + w); else print "-" }')x, about the measured ratio. 5x would take a lookup of about
$(awk -v c="$(v reads composed cpu_us)" -v w="$(v reads composed wrk_cpu_us)" -v x="$(v reads sqlite wrk_cpu_us)" 'BEGIN{ printf "%.0f", 5 * (c + w) - x - c }') us of server CPU, against the $(awk -v p="$(v reads sqlite cpu_us)" -v c="$(v reads composed cpu_us)" 'BEGIN{ printf "%.1f", p - c }') us it costs here: the cache removes the lookup,
and what is left, the HTTP request and the load generator, no cache can remove.
MD
  else
    cat <<MD

**Reads against persistent $b (${r}x).** The persistent server costs $(ratio "$(v reads "$b" cpu_us)" "$(v reads composed cpu_us)")x the composed
one's CPU per request ($(v reads "$b" cpu_us) us against $(v reads composed cpu_us) us, the database's own CPU not
counted); requests/s moves with how the two cores are shared with the database server.
MD
  fi
}
