# shellcheck shell=bash
# Section 14, cached reads over HTTPS: GET /users/{id} on busbar (composed, SQLite, [http] tls =
# true) against nginx over HTTPS, serving the same bytes with the same certificate, at 64 and
# 1000 keep-alive connections; wrk makes one handshake per connection, so this is the cost of
# TLS records on each request, not of handshakes. Reads READ_USERS, ROUNDS, DURATION and EMPTY_DB;
# makes $WORK/user.json when section 1 has not.

HTTPS_CONNECTIONS="64 1000"
HTTPS_CASES="busbar nginx"

# make_bench_certificate: a self-signed RSA 2048 certificate for 127.0.0.1 in $WORK/tls.
make_bench_certificate() {
  mkdir -p "$WORK/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/tls/server.key" \
    -out "$WORK/tls/server.crt" 2>/dev/null
  chmod 600 "$WORK/tls/server.key"
}

# wait_https PORT: until a user is served over HTTPS (busbar's admin port answers before it).
wait_https() {
  for _ in $(seq 400); do
    curl -sf --cacert "$WORK/tls/server.crt" "https://127.0.0.1:$1/users/u0000042" >/dev/null && return 0
    sleep 0.05
  done
  log "14. nothing answered over HTTPS on port $1"
  return 1
}

measure_https_reads() {
  local round c n conf line
  log "14. cached reads over HTTPS: busbar against nginx, $READ_USERS users"
  make_bench_certificate
  cp "$EMPTY_DB" "$WORK/https.db"
  seed_sqlite "$WORK/https.db" "$READ_USERS"
  declare -gA HTTPS_PORT HTTPS_PID
  new_port "HTTPS_PORT[busbar]"
  new_port "ADMIN_OF[https]"
  conf="$(conf https local sqlite composed incremental "$WORK/https.db" \
    "[http]\ntls = true\ntls_cert_file = $WORK/tls/server.crt\ntls_key_file = $WORK/tls/server.key")"
  # Started through its admin listener, which stays plain HTTP.
  line="$("$TOOL" start "${ADMIN_OF[https]}" "$WORK/https.log" -- "$BUSBAR" --config "$conf" \
    --bind "127.0.0.1:${HTTPS_PORT[busbar]}" --admin-bind "127.0.0.1:${ADMIN_OF[https]}")"
  HTTPS_PID[busbar]="${line#* }"
  PIDS+=("${HTTPS_PID[busbar]}")
  wait_https "${HTTPS_PORT[busbar]}"
  [ -s "$WORK/user.json" ] ||
    curl -sf --cacert "$WORK/tls/server.crt" "https://127.0.0.1:${HTTPS_PORT[busbar]}/users/u0000042" >"$WORK/user.json"
  new_port "HTTPS_PORT[nginx]"
  start_nginx nginx-https "${HTTPS_PORT[nginx]}" "$WORK/tls"
  HTTPS_PID[nginx]=$NGINX_PID
  wait_https "${HTTPS_PORT[nginx]}"
  for round in $(seq "$ROUNDS"); do
    for n in $HTTPS_CONNECTIONS; do
      for c in $HTTPS_CASES; do
        WRK_SCHEME=https wrk_run "https-$c-$n" "${HTTPS_PORT[$c]}" "$WORK/get.lua" "$n" \
          "${HTTPS_PID[$c]}" $(pgrep -P "${HTTPS_PID[$c]}")
      done
    done
    log "  round $round done"
  done
  for n in $HTTPS_CONNECTIONS; do
    for c in $HTTPS_CASES; do
      record https "$c-$n" rps "$(awk '{print $1}' "$WORK/https-$c-$n.runs" | median | xargs printf '%.0f')" req/s
      record https "$c-$n" p99 "$(awk '{print $2}' "$WORK/https-$c-$n.runs" | median)" us
      record https "$c-$n" cpu_us "$(awk '{print $3}' "$WORK/https-$c-$n.runs" | median)" us/request
      record https "$c-$n" errors "$(awk '{s += $6 + $7} END {print s + 0}' "$WORK/https-$c-$n.runs")" count
      record https "$c-$n" rounds "$(awk '{printf "%.0f ", $1}' "$WORK/https-$c-$n.runs")" req/s
    done
  done
  stop_pid "${HTTPS_PID[busbar]}"
  stop_pid "${HTTPS_PID[nginx]}"
}

write_https_reads_md() {
  local n
  cat <<MD
## 14. Cached reads over HTTPS

\`GET /users/{id}\` over $READ_USERS users as in section 1, over TLS: busbar composed (SQLite, local
transport) with \`[http] tls = true\`, nginx (\`listen ... ssl\`, \`worker_processes auto\`)
serving busbar's JSON for one user; the same self-signed RSA 2048 certificate, TLS 1.3, OpenSSL's
default cipher (AES-256-GCM). Keep-alive: each of wrk's connections makes one handshake, then
${DURATION} s of requests per case, connection count and round.

| Connections | busbar req/s (median) | nginx req/s (median) | busbar vs nginx | p99 busbar / nginx | server CPU per request busbar / nginx | socket errors + non-2xx busbar / nginx | rounds busbar; nginx (req/s) |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
MD
  for n in $HTTPS_CONNECTIONS; do
    echo "| $n | $(v https "busbar-$n" rps) | $(v https "nginx-$n" rps) | $(ratio "$(v https "busbar-$n" rps)" "$(v https "nginx-$n" rps)")x | $(ms "$(v https "busbar-$n" p99)") / $(ms "$(v https "nginx-$n" p99)") ms | $(v https "busbar-$n" cpu_us) / $(v https "nginx-$n" cpu_us) us | $(v https "busbar-$n" errors) / $(v https "nginx-$n" errors) | $(v https "busbar-$n" rounds); $(v https "nginx-$n" rounds) |"
  done
  cat <<MD

The goal is at least 0.8x nginx at both connection counts. wrk, both servers and the kernel share
this machine's two cores, so the ratio and the CPU per request are the figures to compare.
MD
}
