# shellcheck shell=bash
# Measuring: CPU ticks, context switches and memory of processes, the machine's busy share, a
# server's metrics (delivered events, apply lag), and wrk loads with their per-request costs.
# Reads WORK, READ_USERS and DURATION; write_wrk_scripts puts get.lua and put.lua in WORK.

# cpu_ticks PID...: user + system clock ticks (1/100 s) of the processes and their children
# threads; nginx's workers are counted through their master.
cpu_ticks() {
  local total=0 pid
  for pid in "$@" $(for q in "$@"; do pgrep -P "$q"; done); do
    [ -r "/proc/$pid/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
# machine_ticks: "busy total" clock ticks of every CPU since boot (/proc/stat; idle and iowait
# are not busy).
machine_ticks() {
  awk '$1 == "cpu" {busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6}' /proc/stat
}
# busy_percent "BUSY0 TOTAL0" "BUSY1 TOTAL1": the share of the machine's CPU time in between.
busy_percent() {
  awk -v a="$1" -v b="$2" 'BEGIN{split(a, x, " "); split(b, y, " ");
    printf "%.0f", (y[2] > x[2]) ? 100 * (y[1] - x[1]) / (y[2] - x[2]) : 0}'
}
# context_switches PID...: voluntary + involuntary switches of every thread of the processes and
# their children.
context_switches() {
  local pid
  for pid in "$@" $(for q in "$@"; do pgrep -P "$q"; done); do
    cat /proc/"$pid"/task/*/status 2>/dev/null
  done | awk '/ctxt_switches/{s += $2} END{print s + 0}'
}
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
# delivered PORT: the deliveries that ran every subscriber (GET /metrics)
delivered() {
  curl -sf "http://127.0.0.1:$1/metrics" | awk '$1 == "busbar_events_applied_total" {print $2}'
}
# reset_lag NAME: zeroes the server's apply lag histogram (and its max), on its admin listener.
reset_lag() {
  curl -sf -o /dev/null -X POST \
    "http://127.0.0.1:${ADMIN_OF[$1]}/admin/metrics/reset?metric=busbar_event_apply_lag_seconds"
}
# apply_lag PORT NAME: the apply lag histogram of GET /metrics as "count p50 p90 p99 max" in us,
# a percentile being the upper bound of the bucket it falls in (at most the max); and in
# $WORK/NAME.buckets "bound_us count" per non-empty bucket (+Inf's bound is the max).
apply_lag() {
  curl -sf "http://127.0.0.1:$1/metrics" >"$WORK/$2.metrics"
  awk -v buckets="$WORK/$2.buckets" '
    /^busbar_event_apply_lag_seconds_bucket/ {
      match($0, /le="[^"]*"/); n++; bound[n] = substr($0, RSTART + 4, RLENGTH - 5); cum[n] = $NF
    }
    $1 == "busbar_event_apply_lag_max_seconds" { max = $2 * 1e6 }
    END {
      printf "" >buckets
      previous = 0
      for (i = 1; i <= n; i++) {
        us[i] = bound[i] == "+Inf" ? max : bound[i] * 1e6
        if (us[i] > max) us[i] = max
        if (cum[i] > previous) printf "%.0f %d\n", us[i], cum[i] - previous >buckets
        previous = cum[i]
      }
      total = cum[n]
      line = total + 0
      split("0.5 0.9 0.99", fractions, " ")
      for (f = 1; f <= 3; f++) {
        value = 0
        for (i = 1; i <= n && total > 0; i++) if (cum[i] >= fractions[f] * total) { value = us[i]; break }
        line = line " " sprintf("%.0f", value)
      }
      printf "%s %.0f\n", line, max
    }' "$WORK/$2.metrics"
}
# wait_delivered PORT TARGET TIMEOUT_S
wait_delivered() {
  local deadline=$(($(date +%s) + $3))
  while [ "$(delivered "$1")" -lt "$2" ]; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.05
  done
}
# rss_total PID...: resident kB of the processes and their children
rss_total() {
  local total=0 pid
  for pid in "$@" $(for q in "$@"; do pgrep -P "$q"; done); do
    total=$((total + $(rss_kb "$pid")))
  done
  echo "$total"
}

# wrk_run LABEL PORT SCRIPT CONNECTIONS [PID...]: appends "rps p99_us cpu_us_per_request
# wrk_cpu_us_per_request switches_per_request socket_errors non_2xx" to $WORK/LABEL.runs; the CPU
# is that of the server processes PID... (not the databases'). WRK_SCHEME=https loads over TLS;
# WRK_PRIORITY=realtime runs wrk under SCHED_FIFO, so that it takes its core whenever it is ready.
wrk_run() {
  local out label="$1" port="$2" script="$3" connections="$4" c0 c1
  shift 4
  c0=$(cpu_ticks "$@")
  x0=$(context_switches "$@")
  w0=$(awk '{print $16 + $17}' /proc/$$/stat)  # this shell's waited children: wrk, once it ends
  local launcher=()
  [ "${WRK_PRIORITY:-}" = realtime ] && launcher=(chrt --fifo 1)
  out="$(BENCH_IDS=$READ_USERS "${launcher[@]}" wrk -t2 -c"$connections" -d"${DURATION}s" --latency -s "$script" \
    "${WRK_SCHEME:-http}://127.0.0.1:$port" 2>&1)"
  c1=$(cpu_ticks "$@")
  x1=$(context_switches "$@")
  w1=$(awk '{print $16 + $17}' /proc/$$/stat)
  set -- "$label"
  echo "$out" >>"$WORK/$1.wrk"
  local rps p99 errors
  rps="$(echo "$out" | awk '/^Requests\/sec:/{print $2}')"
  p99="$(echo "$out" | awk '$1=="99%"{v=$2; u=v; gsub(/[0-9.]/,"",u); sub(/[a-z]+$/,"",v);
    m=(u=="us")?1:(u=="ms")?1000:(u=="s")?1000000:1; printf "%.0f", v*m}')"
  errors="$(echo "$out" | awk '/Non-2xx|Socket errors/{print}')"
  [ -n "$errors" ] && log "$1: $errors"
  local socket_errors non_2xx
  socket_errors="$(echo "$out" | awk '/Socket errors:/{gsub(",", ""); print $4 + $6 + $8 + $10}')"
  non_2xx="$(echo "$out" | awk '/Non-2xx/{print $NF}')"
  local requests cpu
  requests="$(echo "$out" | awk '/requests in/{print $1}')"
  cpu="$(awk -v t=$((c1 - c0)) -v n="$requests" 'BEGIN{ if (n > 0) printf "%.1f", t * 10000 / n; else print 0 }')"
  local wrk_cpu
  wrk_cpu="$(awk -v t=$((w1 - w0)) -v n="$requests" 'BEGIN{ if (n > 0) printf "%.1f", t * 10000 / n; else print 0 }')"
  local switches
  switches="$(awk -v t=$((x1 - x0)) -v n="$requests" 'BEGIN{ if (n > 0) printf "%.2f", t / n; else print 0 }')"
  echo "$rps $p99 $cpu $wrk_cpu $switches ${socket_errors:-0} ${non_2xx:-0}" >>"$WORK/$1.runs"
}

# write_wrk_scripts: the request mixes of every wrk load, GET and PUT of random existing users.
write_wrk_scripts() {
  cat >"$WORK/get.lua" <<'LUA'
-- GET /users/u<random>: the same request mix for busbar and the baselines.
local n = tonumber(os.getenv("BENCH_IDS") or "10000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", string.format("/users/u%07d", math.random(0, n - 1)))
end
LUA
  cat >"$WORK/put.lua" <<'LUA'
-- PUT /users/u<random>: updates of existing users.
local n = tonumber(os.getenv("BENCH_IDS") or "10000")
math.randomseed(os.time())
local headers = { ["Content-Type"] = "application/json" }
local counter = 0
request = function()
  counter = counter + 1
  local id = string.format("u%07d", math.random(0, n - 1))
  return wrk.format("PUT", "/users/" .. id, headers,
    string.format('{"name":"Bench %d","email":"%s@example.org"}', counter, id))
end
LUA
}
