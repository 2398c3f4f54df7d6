# shellcheck shell=bash
# The plots: one PNG per section in docs/bench/ (OUT), drawn by one gnuplot script from the CSV and
# $WORK/prop-{b,c}.buckets. Reads READ_CASES, WRITE_CASES, SIZES, CONN_COUNTS, ROUNDS,
# WRITE_CONNECTIONS and PROP_RATE; the plots share gnuplot's settings, so they stay one script.

write_plots() {
  local c b mode n s total
  for c in $READ_CASES; do echo "$c $(value reads "$c" rps) $(value reads "$c" p99)"; done >"$WORK/reads.dat"
  for b in $WRITE_CASES; do echo "$b $(value writes "$b" rps) $(value writes "$b" p99)"; done >"$WORK/writes.dat"
  for mode in incremental reload; do
    for n in $SIZES; do echo "$n $(value size "$n-$mode" us_per_event) $(value size "$n-$mode" lag_p99)"; done >"$WORK/size-$mode.dat"
  done
  for n in $SIZES; do
    echo "$n $(value size "$n-incremental" preload_ms) $(awk -v a="$(value size "$n-incremental" rss_kb)" 'BEGIN{print a/1024}')"
  done >"$WORK/start.dat"
  {
    echo "applied(10k,incremental) $(value throughput applied-10k-incremental rate)"
    echo "bench-publish(no-confirm) $(value throughput bench-publisher-window-0 rate)"
    echo "bench-publish(confirms,256) $(value throughput bench-publisher-window-256 rate)"
    echo "busbar-publisher(confirms) $(value throughput busbar-publisher rate)"
    for b in $WRITE_CASES; do echo "busbar-PUT+publish($b) $(value writes "$b" rps)"; done
  } >"$WORK/throughput.dat"
  for s in b c; do
    total=$(awk '{t+=$2}END{print t+0}' "$WORK/prop-$s.buckets")
    awk -v tot="$total" 'tot>0{t+=$2; print $1/1000, 100*t/tot}' "$WORK/prop-$s.buckets" >"$WORK/prop-$s.cdf"
  done

  for n in $CONN_COUNTS; do
    echo "$n $(value connections "busbar-$n" rps) $(value connections "nginx-$n" rps) $(value connections "busbar-$n" p99) $(value connections "nginx-$n" p99)"
  done >"$WORK/connections.dat"

  gnuplot <<GNUPLOT
set terminal pngcairo size 900,500 font "sans,10"
set style fill solid 0.6 border -1
set boxwidth 0.6
set grid ytics

set output "$OUT/reads.png"
set title "1. Cached reads: GET /users/{id}, 10k users, 64 connections (median of $ROUNDS rounds)" noenhanced
set ylabel "requests/s"
set y2label "p99 latency (ms)"
set y2tics
set yrange [0:*]
set y2range [0:*]
plot "$WORK/reads.dat" using 0:2:xtic(1) with boxes title "requests/s", \
     "" using 0:(\$3/1000) axes x1y2 with linespoints pt 7 title "p99 (ms)"

set output "$OUT/writes.png"
set title "2. Writes: PUT /users/{id}, amqp transport, $WRITE_CONNECTIONS connections" noenhanced
plot "$WORK/writes.dat" using 0:2:xtic(1) with boxes title "requests/s", \
     "" using 0:(\$3/1000) axes x1y2 with linespoints pt 7 title "p99 (ms)"
unset y2tics
unset y2label

set output "$OUT/propagation.png"
set title "3. Propagation: apply lag on the two consuming servers, $PROP_RATE writes/s"
set xlabel "apply lag (ms, bucket bound)"
set ylabel "% of events applied within"
set logscale x
set yrange [0:100]
plot "$WORK/prop-b.cdf" using 1:2 with steps lw 2 title "server B", \
     "$WORK/prop-c.cdf" using 1:2 with steps lw 2 title "server C"

set output "$OUT/table_size.png"
set title "4. Apply cost per event by table size (SQLite)"
set xlabel "users in the table"
set ylabel "microseconds per applied event"
set logscale xy
set yrange [*:*]
plot "$WORK/size-incremental.dat" using 1:2 with linespoints pt 7 lw 2 title "refresh = incremental", \
     "$WORK/size-reload.dat" using 1:2 with linespoints pt 5 lw 2 title "refresh = reload"
unset logscale
unset xlabel

set output "$OUT/throughput.png"
set title "5. Event throughput (events/s)"
set ylabel "events/s"
set yrange [0:*]
set xtics rotate by -20
plot "$WORK/throughput.dat" using 0:2:xtic(1) with boxes notitle
set xtics norotate

set output "$OUT/start.png"
set title "6. Preload time and resident memory by table size (refresh = incremental)"
set xlabel "users in the table"
set ylabel "preload (ms)"
set y2label "RSS after preload (MiB)"
set y2tics
set logscale x
plot "$WORK/start.dat" using 1:2 with linespoints pt 7 lw 2 title "preload (ms)", \
     "" using 1:3 axes x1y2 with linespoints pt 5 lw 2 title "RSS (MiB)"

set output "$OUT/connections.png"
set title "8. Keep-alive connections: GET /users/{id}, busbar and nginx (median of $ROUNDS rounds)" noenhanced
set xlabel "concurrent keep-alive connections"
set xrange [40:16000]
set ylabel "requests/s"
set y2label "p99 latency (ms)"
set logscale x
set yrange [0:*]
set y2range [0:*]
plot "$WORK/connections.dat" using 1:2 with linespoints pt 7 lw 2 title "busbar req/s", \
     "" using 1:3 with linespoints pt 5 lw 2 title "nginx req/s", \
     "" using 1:(\$4/1000) axes x1y2 with linespoints pt 7 dt 2 title "busbar p99 (ms)", \
     "" using 1:(\$5/1000) axes x1y2 with linespoints pt 5 dt 2 title "nginx p99 (ms)"
GNUPLOT
}
