# shellcheck shell=bash
# Section 3, propagation: A takes paced PUTs on three servers sharing one exchange and one MariaDB
# database with a prefilled event log; B and C report their apply lag, busbar-bench watches B serve
# A's writes; then lower rates. Reads PROP_RATE, PROP_SECONDS, PROP_LOG, SWEEP_RATES, SWEEP_SECONDS
# and READ_USERS; sets PROP_PORT and leaves $WORK/prop-{b,c}.buckets for the plot.

# Three servers on one exchange and one MariaDB database (SQLite's single writer cannot take
# 1,000 PUT/s here with a bounded p99); A takes paced PUTs, B and C apply them.
measure_propagation() {
  local s before_b before_c ticks0 put_out sent before lag i m rate
  log "3. propagation: $PROP_RATE writes/s for ${PROP_SECONDS}s, $PROP_LOG events in the log"
  prefill_event_log
  declare -gA PROP_PORT
  for s in a b c; do
    new_port "PROP_PORT[$s]"
    start_server "prop-$s" "$(conf "prop-$s" amqp mysql composed incremental)" "${PROP_PORT[$s]}" --exchange events
  done
  for s in b c; do reset_lag "prop-$s"; done
  before_b=$(delivered "${PROP_PORT[b]}")
  before_c=$(delivered "${PROP_PORT[c]}")
  # And, every 50th write, how long after A's answer B serves it (busbar-bench polls B).
  ticks0=$(machine_ticks)
  put_out="$("$TOOL" put "${PROP_PORT[a]}" "$PROP_RATE" "$PROP_SECONDS" "$READ_USERS" "${PROP_PORT[b]}" || true)"
  record propagation machine busy "$(busy_percent "$ticks0" "$(machine_ticks)")" %
  sent=$(echo "$put_out" | awk '{print $2}')
  record propagation writer sent "$sent" writes
  record propagation writer rate "$(echo "$put_out" | awk '{print $4}')" writes/s
  record propagation writer put_p99 "$(echo "$put_out" | awk '{print $8}')" us
  record propagation writer errors "$(echo "$put_out" | awk '{print $10}')" count
  record propagation visible p50 "$(echo "$put_out" | awk '{print $12}')" us
  record propagation visible p99 "$(echo "$put_out" | awk '{print $14}')" us
  record propagation visible max "$(echo "$put_out" | awk '{print $16}')" us
  record propagation visible count "$(echo "$put_out" | awk '{print $18}')" writes
  record propagation visible missed "$(echo "$put_out" | awk '{print $20}')" writes
  for s in b c; do
    before=$([ $s = b ] && echo "$before_b" || echo "$before_c")
    wait_delivered "${PROP_PORT[$s]}" $((before + sent)) 60 || log "server $s did not apply all $sent events"
    lag=($(apply_lag "${PROP_PORT[$s]}" "prop-$s"))
    i=0
    for m in count p50 p90 p99 max; do
      record propagation "server-$s" "$m" "${lag[$i]}" us
      i=$((i + 1))
    done
  done
  # The same servers at lower rates: how the lag follows the machine's load.
  for rate in $SWEEP_RATES; do
    log "3. propagation at $rate writes/s for ${SWEEP_SECONDS}s"
    for s in b c; do reset_lag "prop-$s"; done
    before_b=$(delivered "${PROP_PORT[b]}")
    before_c=$(delivered "${PROP_PORT[c]}")
    ticks0=$(machine_ticks)
    put_out="$("$TOOL" put "${PROP_PORT[a]}" "$rate" "$SWEEP_SECONDS" "$READ_USERS" "${PROP_PORT[b]}" || true)"
    record propagation "rate-$rate" busy "$(busy_percent "$ticks0" "$(machine_ticks)")" %
    sent=$(echo "$put_out" | awk '{print $2}')
    record propagation "rate-$rate" visible_p99 "$(echo "$put_out" | awk '{print $14}')" us
    for s in b c; do
      before=$([ $s = b ] && echo "$before_b" || echo "$before_c")
      wait_delivered "${PROP_PORT[$s]}" $((before + sent)) 60 || log "server $s did not apply all $sent events"
      lag=($(apply_lag "${PROP_PORT[$s]}" "prop-$s-$rate"))
      record propagation "rate-$rate" "p50-$s" "${lag[1]}" us
      record propagation "rate-$rate" "p99-$s" "${lag[3]}" us
    done
  done
  for s in a b c; do stop_server "prop-$s"; done
}

# A server's log in its steady state holds up to the retention's count (1,000,000 by default):
# PROP_LOG confirmed events after the head, written before the servers start, one per
# millisecond up to now, with the ids the host gives them (UUID version 7: the time, then random
# bits). A server started and stopped first makes the tables (section 2's servers have made them
# already, but not in `bench/run --only propagation`).
prefill_event_log() {
  local dirty port
  new_port port
  start_server prop-schema "$(conf prop-schema amqp mysql composed incremental)" "$port"
  stop_server prop-schema
  MYSQL_PWD="$BUSBAR_TEST_MYSQL_PASSWORD" mysql -h127.0.0.1 -P"$BUSBAR_TEST_MYSQL_PORT" \
    -u"$BUSBAR_TEST_MYSQL_USER" "$BUSBAR_TEST_MYSQL_DATABASE" <<SQL
INSERT INTO busbar_events (event_id, seq, event_type, occurred_on, origin, version, payload,
                           logged_at, published)
  SELECT LOWER(CONCAT(LPAD(HEX(m.ms >> 16), 8, '0'), '-', LPAD(HEX(m.ms & 65535), 4, '0'), '-7',
                      SUBSTR(MD5(m.seq), 1, 3), '-8', SUBSTR(MD5(m.seq), 4, 3), '-',
                      SUBSTR(MD5(m.seq), 7, 12))),
         h.seq + m.seq, 'UserWasUpdated', m.ms * 1000, 'bench', 1,
         '{"id":"u0000000","name":"Paced 0","email":"u0000000@example.org","version":1}',
         m.ms * 1000, 1
  FROM (SELECT s.seq, CAST(UNIX_TIMESTAMP() * 1000 AS UNSIGNED) - $PROP_LOG + s.seq AS ms
        FROM seq_1_to_$PROP_LOG s) m
  JOIN busbar_event_head h ON h.id = 1;
UPDATE busbar_event_head SET seq = seq + $PROP_LOG WHERE id = 1;
SQL
  # The prefill leaves the buffer pool dirty; a server's steady state has long had it written out.
  for _ in $(seq 1 60); do
    dirty=$(MYSQL_PWD="$BUSBAR_TEST_MYSQL_PASSWORD" mysql -N -h127.0.0.1 -P"$BUSBAR_TEST_MYSQL_PORT" \
      -u"$BUSBAR_TEST_MYSQL_USER" -e "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'" |
      awk '{print $2}')
    [ "${dirty:-0}" -lt 2000 ] && break
    sleep 1
  done
  record propagation log events "$(MYSQL_PWD="$BUSBAR_TEST_MYSQL_PASSWORD" mysql -N -h127.0.0.1 \
    -P"$BUSBAR_TEST_MYSQL_PORT" -u"$BUSBAR_TEST_MYSQL_USER" "$BUSBAR_TEST_MYSQL_DATABASE" \
    -e "SELECT COUNT(*) FROM busbar_events")" events
}

# Section 3 of docs/BENCHMARKS.md.
write_propagation_md() {
  local s rate worst
  cat <<MD
## 3. Propagation

Three servers on one exchange (amqp, composed, one MariaDB database whose event log holds
$(v propagation log events) events when the load starts, as a server's log does under its
retention: one per millisecond before the load, with ids made as the host makes them; the load
starts once InnoDB has written out what writing them left dirty). \`busbar-bench put\` sends
$PROP_RATE PUT/s to server A for ${PROP_SECONDS} s (open loop over 16 connections); B and C
report their apply lag (time applied minus the event's \`occurred_on\`, the histogram
\`busbar_event_apply_lag_seconds\` of \`GET /metrics\`, reset before the load through the admin
listener). \`occurred_on\` is taken before A answers the PUT and busbar writes it
with millisecond digits, so the lag is an upper bound of "write response to visible" (up to
1 ms of truncation included).

Writer: $(v propagation writer sent) PUTs at $(v propagation writer rate)/s achieved, PUT p99
$(ms "$(v propagation writer put_p99)") ms, $(v propagation writer errors) errors.

| Server | events | p50 | p90 | p99 | max |
| --- | ---: | ---: | ---: | ---: | ---: |
MD
  for s in b c; do
    echo "| $s | $(v propagation "server-$s" count) | $(ms "$(v propagation "server-$s" p50)") ms | $(ms "$(v propagation "server-$s" p90)") ms | $(ms "$(v propagation "server-$s" p99)") ms | $(ms "$(v propagation "server-$s" max)") ms |"
  done
  cat <<MD

Percentiles are upper bounds of the histogram's buckets (0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50,
75 ms...), the max its own gauge.

From A's answer to B serving the write: \`busbar-bench put\` hands every 50th write (user,
version, time of A's answer) to a thread that polls B's \`GET /users/{id}\` over one keep-alive
connection, round-robin over the writes still awaited with a pause of 0.5 ms between passes (so
that the polls cost B next to nothing; each delay may be up to 0.5 ms long), until B serves
that version: p50
$(ms "$(v propagation visible p50)") ms, p99 $(ms "$(v propagation visible p99)") ms, max $(ms "$(v propagation visible max)") ms over $(v propagation visible count) writes
($(v propagation visible missed) not served within 5 s). This is what a client of B sees, and it
leaves out A's own commit, which the apply lag above includes (its \`occurred_on\` is stamped
before the commit).

The same three servers then take ${SWEEP_SECONDS} s at lower rates. Everything runs on this
machine's $(nproc) cores: the servers, MariaDB, RabbitMQ and \`busbar-bench\` itself; "busy" is the
share of all cores' time spent outside idle (\`/proc/stat\`) during the load.

| writes/s | busy | apply p50 (B) | apply p99 (worst of B, C) | A's answer to B serving it, p99 |
| ---: | ---: | ---: | ---: | ---: |
MD
  for rate in $SWEEP_RATES; do
    worst=$(for s in b c; do v propagation "rate-$rate" "p99-$s"; done | sort -g | tail -1)
    echo "| $rate | $(v propagation "rate-$rate" busy)% | $(ms "$(v propagation "rate-$rate" p50-b)") ms | $(ms "$worst") ms | $(ms "$(v propagation "rate-$rate" visible_p99)") ms |"
  done
  worst=$(for s in b c; do v propagation "server-$s" p99; done | sort -g | tail -1)
  echo "| $PROP_RATE | $(v propagation machine busy)% | $(ms "$(v propagation server-b p50)") ms | $(ms "$worst") ms | $(ms "$(v propagation visible p99)") ms |"
  cat <<MD

![propagation](bench/propagation.png)

MD
}

# The paragraph of "Where a target is missed" when the apply lag's p99 (prop_p99, worst of B and C)
# is over 10 ms.
write_propagation_missed() {
  cat <<MD

**Propagation (section 3).** Apply lag p99 $(ms "$prop_p99") ms (p50 $(ms "$(v propagation server-b p50)") ms on B) against 10 ms;
B applied $(v propagation server-b count) and C $(v propagation server-c count) of the $(v propagation writer sent) events in the time
the script waits. The lag runs from the event's \`occurred_on\` on A to its application on B or C.
With the event log, \`occurred_on\` is stamped inside the write's transaction, before its commit,
and on MariaDB an event leaves A only once numbered: the lag holds the write's own transaction
(which A's client waits for too: PUT p99 $(ms "$(v propagation writer put_p99)") ms, $(v propagation writer errors) errors), the rest of the numbering
round under way when it committed, and its own round (docs/architecture.md): a locking read,
an UPDATE and COMMIT, each a round trip to MariaDB that, on two cores shared by three servers, the broker, the
database and the load, waits for a core at both ends (a round held up holds every event behind
it); then the broker hop. Flushes to disk take little of it (an fdatasync takes about 0.1 ms on this disk). Before the
event log the event was published after the commit, unlogged, and stamped at dispatch, after it.
From A's answer to B serving the write, which leaves A's commit out (section 3): p99
$(ms "$(v propagation visible p99)") ms, p50 $(ms "$(v propagation visible p50)") ms.
The machine was $(v propagation machine busy)% busy during that load; section 3's table shows
the same servers at lower rates, where fewer of these waits find both cores taken.
MD
}
