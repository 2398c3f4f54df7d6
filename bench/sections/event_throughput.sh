# shellcheck shell=bash
# Section 5, event throughput: what busbar-bench's publisher (no confirms, then confirms with 256
# in flight) and busbar's own amqp publisher push through the broker to one consuming server.
# table_size.sh calls measure_event_throughput on its 10k-user incremental server; reads
# APPLY_COUNT, AMQP_URL, EXCHANGE, and WRITE_CASES for the report.

# measure_event_throughput PORT USERS: the publishers against the consuming server on PORT.
measure_event_throughput() {
  local p="$1" n="$2" window d0 pub
  for window in 0 256; do
    d0=$(delivered "$p")
    pub="$("$TOOL" publish "$AMQP_URL" "$EXCHANGE" "$APPLY_COUNT" 0 "$n" "$window" || true)"
    record throughput "bench-publisher-window-$window" rate "$(echo "$pub" | awk '{print $6}')" events/s
    wait_delivered "$p" $((d0 + APPLY_COUNT)) 120 || true
  done
  # busbar's own publisher (the amqp transport's code), with no HTTP or database before it.
  d0=$(delivered "$p")
  pub="$("$TOOL" publisher "$AMQP_URL" "$EXCHANGE" "$APPLY_COUNT" "$n" || true)"
  log "  busbar publisher alone: $pub"
  record throughput busbar-publisher rate "$(echo "$pub" | awk '$1=="confirmed"{print $6}')" events/s
  record throughput busbar-publisher cpu_us_per_event "$(echo "$pub" | awk '$1=="confirmed"{print $8}')" us
  wait_delivered "$p" $((d0 + APPLY_COUNT)) 120 || true
}

# Section 5 of docs/BENCHMARKS.md.
write_event_throughput_md() {
  local b
  cat <<MD
## 5. Event throughput

| Measure | events/s |
| --- | ---: |
| Applied by one server (burst of $APPLY_COUNT, 10k users, incremental) | $(v throughput applied-10k-incremental rate) |
| busbar-bench publishing, no confirms (broker ceiling, one server consuming) | $(v throughput bench-publisher-window-0 rate) |
| busbar-bench publishing, confirms with 256 in flight (as busbar's publisher) | $(v throughput bench-publisher-window-256 rate) |
| busbar's publisher alone (amqp transport, confirms, 256 in flight) | $(v throughput busbar-publisher rate) |
MD
  for b in $WRITE_CASES; do echo "| busbar publishing: PUT/s with $b (one confirmed event per PUT) | $(v writes "$b" rps) |"; done
  cat <<MD

The applied rate is the whole chain on two cores: busbar-bench publishing, RabbitMQ routing and
delivering, busbar consuming. busbar's own CPU per applied event at 10k users was
$(v size 10000-incremental cpu_us_per_event) us (one core would apply about
$(awk -v c="$(v size 10000-incremental cpu_us_per_event)" 'BEGIN{ if (c > 0) printf "%.0f", 1e6 / c; else print "-" }') events/s), the broker's $(v size 10000-incremental broker_cpu_us_per_event) us
(section 4 has both for every size).

\`busbar-bench publisher\` runs the amqp transport's own \`AmqpPublisher\` (plugins/amqp, the code and
settings a server publishes with) on $APPLY_COUNT user events as fast as its queue takes them, no
HTTP or database before it, to the same exchange with the same consuming server: that is what one
server can publish, $(v throughput busbar-publisher cpu_us_per_event) us of CPU per event on the publishing side (envelope,
queue, publish, confirm). Through HTTP a server publishes one event per accepted write, so there
its rate is its PUT rate, held by the database write (section 2).

![throughput](bench/throughput.png)

MD
}

# write_event_throughput_missed_applied RATE: the paragraph of "Where a target is missed" when one
# server applies fewer than 20k events/s.
write_event_throughput_missed_applied() {
  local applied="$1"
  cat <<MD

**Events applied by one server (sections 4 and 5).** $applied/s against 20000/s, with
$(v size 10000-incremental cpu_us_per_event) us of busbar's CPU and $(v size 10000-incremental broker_cpu_us_per_event) us of the broker's per event. The burst is
published straight to the exchange and consumed by the server: no HTTP on this path. This script
does not break the cost down further.
MD
}

# The paragraph of "Where a target is missed" when busbar's publisher confirms fewer than 10k
# events/s.
write_event_throughput_missed_publisher() {
  cat <<MD

**Confirmed publishing.** busbar's publisher alone confirmed $(v throughput busbar-publisher rate) events/s against
$(v throughput bench-publisher-window-256 rate) for busbar-bench's own publisher with the same window (section 5).
MD
}
