# shellcheck shell=bash
# Section 4, table size: per table size and refresh mode, one consuming SQLite server's start,
# memory, apply cost of an unpaced burst and lag of a paced run; it runs section 5's publishers on
# its 10k-user incremental server. Reads SIZES, EMPTY_DB, APPLY_COUNT, PROP_RATE, AMQP_URL, EXCHANGE
# (and BIG, first, flat, reload_growth of report.sh for the report).

# One consuming server per size and refresh mode; events come from busbar-bench straight to the
# exchange, so the cost measured is the consumer's alone.
measure_table_size() {
  local n mode name p burst paced rate broker c0 c1 b0 b1 out d0 lag
  for n in $SIZES; do
    cp "$EMPTY_DB" "$WORK/size.db"
    seed_sqlite "$WORK/size.db" "$n"
    for mode in incremental reload; do
      log "4. table size: $n users, refresh = $mode"
      name="size-$n-$mode"
      new_port p
      start_server "$name" "$(conf "$name" amqp sqlite composed "$mode" "$WORK/size.db")" "$p" --exchange events
      record size "$n-$mode" ready_ms "$READY_MS" ms
      record size "$n-$mode" preload_ms "$(sed -n 's/.*preload: loaded [0-9]* users in \([0-9]*\) ms.*/\1/p' "$WORK/$name.log" | tail -1)" ms
      record size "$n-$mode" rss_kb "$(rss_kb "$SERVER_PID")" kB
      if [ "$mode" = incremental ]; then
        burst=$APPLY_COUNT paced=$((PROP_RATE * 2)) rate=$PROP_RATE
      else
        # One reload per event: few events, or a big table would take minutes.
        case "$n" in
          1000 | 10000) burst=50 paced=20 rate=20 ;;
          100000) burst=10 paced=5 rate=5 ;;
          *) burst=3 paced=3 rate=1 ;;
        esac
      fi
      broker=$(pgrep -x beam.smp | tr '\n' ' ')
      c0=$(cpu_ticks "$SERVER_PID") b0=$(cpu_ticks $broker)
      out="$("$TOOL" apply "$AMQP_URL" "$EXCHANGE" "$burst" "$n" "$p" 60 || true)"
      c1=$(cpu_ticks "$SERVER_PID") b1=$(cpu_ticks $broker)
      record size "$n-$mode" cpu_us_per_event "$(awk -v t=$((c1 - c0)) -v n="$burst" 'BEGIN{printf "%.1f", t * 10000 / n}')" us
      record size "$n-$mode" broker_cpu_us_per_event "$(awk -v t=$((b1 - b0)) -v n="$burst" 'BEGIN{printf "%.1f", t * 10000 / n}')" us
      log "  burst of $burst: $out"
      # A broker restarted by someone else drops the server's queue and the burst with it.
      case "$out" in timeout*) record size "$n-$mode" burst_lost "$out" "" ;; esac
      record size "$n-$mode" us_per_event "$(echo "$out" | awk '$1=="applied"{print $8}')" us
      record size "$n-$mode" applied_rate "$(echo "$out" | awk '$1=="applied"{print $6}')" events/s
      if [ "$mode" = incremental ] && [ "$n" = 10000 ]; then
        measure_event_throughput "$p" "$n"
      fi
      reset_lag "$name"
      d0=$(delivered "$p")
      # The broker is shared: a restart by another user fails this step, not the whole run.
      "$TOOL" publish "$AMQP_URL" "$EXCHANGE" "$paced" "$rate" "$n" >/dev/null ||
        log "  $name: publishing failed (broker restarted?)"
      wait_delivered "$p" $((d0 + paced)) 300 || log "  $name did not apply the paced events"
      lag=($(apply_lag "$p" "$name"))
      record size "$n-$mode" lag_p50 "${lag[1]}" us
      record size "$n-$mode" lag_p99 "${lag[3]}" us
      record size "$n-$mode" lag_max "${lag[4]}" us
      record size "$n-$mode" paced "$paced events at $rate/s" ""
      stop_server "$name"
    done
  done
  # Section 5's applied rate is the burst at 10k users, incremental.
  record throughput applied-10k-incremental rate "$(value size 10000-incremental applied_rate)" events/s
}

# Section 4 of docs/BENCHMARKS.md.
write_table_size_md() {
  local n mode
  cat <<MD
## 4. Table size

One consuming server (amqp, composed, SQLite) per table size and refresh mode. The apply cost
is an unpaced burst published by \`busbar-bench apply\` straight to the exchange (UserWasUpdated
envelopes for existing users, newer versions), divided by the time until the server's
\`delivered\` count covers it. The lag percentiles come from a paced run afterwards.
With \`reload\`, every event reloads the whole table, so bursts and paced runs are short.

| Users | refresh | us per event | applied/s | busbar CPU per event | broker CPU per event | paced run | lag p50 | lag p99 | lag max |
| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |
MD
  for n in $SIZES; do
    for mode in incremental reload; do
      echo "| $n | $mode | $(v size "$n-$mode" us_per_event) | $(v size "$n-$mode" applied_rate) | $(v size "$n-$mode" cpu_us_per_event) us | $(v size "$n-$mode" broker_cpu_us_per_event) us | $(v size "$n-$mode" paced) | $(ms "$(v size "$n-$mode" lag_p50)") ms | $(ms "$(v size "$n-$mode" lag_p99)") ms | $(ms "$(v size "$n-$mode" lag_max)") ms |"
    done
  done
  cat <<MD

$(grep ',burst_lost,' "$CSV" | awk -F, '{print "- burst at " $2 " did not complete: " $4}')

Incremental cost at $BIG users vs $first: ${flat}x. Reload cost at $BIG vs $first: ${reload_growth}x
(it reads and rebuilds the whole table per event, so it grows with the table).

![table size](bench/table_size.png)

MD
}
