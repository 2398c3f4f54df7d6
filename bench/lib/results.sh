# shellcheck shell=bash
# The run's figures: one CSV row per measure (section,case,metric,value,unit) in $WORK/results.csv,
# copied to docs/bench/ at the end, and the arithmetic the sections and the report share. Reads
# ROOT and WORK; start_results sets OUT and CSV.

start_results() {
  OUT="$ROOT/docs/bench"
  mkdir -p "$OUT"
  CSV="$WORK/results.csv"
  echo "section,case,metric,value,unit" >"$CSV"
}

record() { echo "$1,$2,$3,$4,$5" >>"$CSV"; }
# record_watched_load SECTION CASE OUTPUT: the figures of one `busbar-bench put ... WATCH_PORT`
# run (its one line of output): writes sent and errors, and the watched server's view of them.
record_watched_load() {
  local section="$1" case="$2" out="$3"
  record "$section" "$case" sent "$(echo "$out" | awk '{print $2}')" writes
  record "$section" "$case" errors "$(echo "$out" | awk '{print $10}')" count
  record "$section" "$case" visible_p50 "$(echo "$out" | awk '{print $12}')" us
  record "$section" "$case" visible_p99 "$(echo "$out" | awk '{print $14}')" us
  record "$section" "$case" visible_max "$(echo "$out" | awk '{print $16}')" us
  record "$section" "$case" visible_missed "$(echo "$out" | awk '{print $20}')" writes
}
# value SECTION CASE METRIC: a recorded value (the last one)
value() { awk -F, -v s="$1" -v c="$2" -v m="$3" '$1==s&&$2==c&&$3==m{v=$4}END{print v}' "$CSV"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1}END{if(NR==0){print "";exit} if(NR%2)print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if(b+0==0)print "n/a"; else printf "%.2f", a/b}'; }
