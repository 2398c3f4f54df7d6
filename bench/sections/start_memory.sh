# shellcheck shell=bash
# Section 6, start and memory: exec to ready with an empty table, and the memory per cached user at
# the biggest table of section 4 (its "size" rows). Reads STARTS, EMPTY_DB, BIG; the report reads
# per_user and beyond of report.sh.

measure_start_memory() {
  local i p ready_runs rss_empty rss_big string_bytes
  log "6. start: exec to ready with amqp, sqlite and users, empty table"
  ready_runs=""
  for i in $(seq "$STARTS"); do
    cp "$EMPTY_DB" "$WORK/start.db"
    new_port p
    start_server "start-$i" "$(conf "start-$i" amqp sqlite composed incremental "$WORK/start.db")" "$p" --exchange events
    ready_runs="$ready_runs $READY_MS"
    [ "$i" = 1 ] && record start empty rss_kb "$(rss_kb "$SERVER_PID")" kB
    stop_server "start-$i"
  done
  record start empty ready_ms "$(echo "$ready_runs" | median)" ms
  record start empty ready_runs "$ready_runs" ms
  rss_empty=$(value start empty rss_kb)
  rss_big=$(value size "$BIG-incremental" rss_kb)
  # Characters of id, name and email per user, the "strings" of the target.
  string_bytes=$(awk -v n="$BIG" 'BEGIN{for(i=0;i<n;i++)t+=8+length("User " i)+20; printf "%.1f", t/n}')
  record start "$BIG" preload_ms "$(value size "$BIG-incremental" preload_ms)" ms
  record start "$BIG" bytes_per_user "$(awk -v a="$rss_big" -v b="$rss_empty" -v n="$BIG" 'BEGIN{printf "%.0f", (a-b)*1024/n}')" B
  record start "$BIG" string_bytes_per_user "$string_bytes" B
}

# Section 6 of docs/BENCHMARKS.md.
write_start_memory_md() {
  local n
  cat <<MD
## 6. Start and memory

Exec to the first \`GET /health\` answering 200, with the amqp, sqlite and users plugins and an
empty table: median $(v start empty ready_ms) ms of $STARTS starts ($(v start empty ready_runs) ms).
Preload times are busbar's own log line (\`preload: loaded N users in X ms\`); resident memory is
VmRSS after preload.

| Users | ready (ms) | preload (ms) | RSS (MiB) |
| ---: | ---: | ---: | ---: |
| 0 | $(v start empty ready_ms) | - | $(awk -v a="$(v start empty rss_kb)" 'BEGIN{printf "%.1f", a/1024}') |
MD
  for n in $SIZES; do
    echo "| $n | $(v size "$n-incremental" ready_ms) | $(v size "$n-incremental" preload_ms) | $(awk -v a="$(v size "$n-incremental" rss_kb)" 'BEGIN{printf "%.1f", a/1024}') |"
  done
  cat <<MD

At $BIG users: $per_user bytes of RSS per user (RSS at $BIG minus RSS empty, over $BIG), of
which $(v start "$BIG" string_bytes_per_user) bytes are the characters of id, name and email:
**$beyond bytes beyond the strings**.

![start](bench/start.png)

MD
}

# The paragraph of "Where a target is missed" when 1M users take more than 2 s to preload.
write_start_memory_missed_preload() {
  cat <<MD

**Preload.** $(v start "$BIG" preload_ms) ms for 1M users. The reload reads the table through
\`Connection::findAll\`, which materialises every row as a map of column name to value through
\`Poco::Data::RecordSet::value\`; a perf profile of a 1M preload has RecordSet::value, malloc/free
and string copies of that path on top, and the users code far below.
MD
}
