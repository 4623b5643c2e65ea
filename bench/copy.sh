#!/usr/bin/env bash
# One run of each contender, side by side: a fresh target database before each
# run (outside the timing), the run timed with /usr/bin/time -v (wall clock and
# peak memory of the largest process), the target's row count checked.
#
# usage: [SCALE=10] bench/copy.sh [NAME ...]     (default: every contender)
# Run bench/setup.sh $SCALE first. Contenders: see bench/contenders.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$BENCH_DIR/contenders.sh"

scale=${SCALE:-10}
src=$(src_db "$scale")
rows=$((scale * 100000))
tgt=bench_tgt_copy
mkdir -p "$BENCH_TMP"
log="$BENCH_TMP/copy.log"
: > "$log"

printf '%-18s %9s %12s %10s %9s  %s\n' contender seconds rows/s "peak MB" "rows ok" "(scale $scale, $src, $rows rows)"
for name in ${@:-$CONTENDERS}; do
    cmd=$(contender_cmd "$name" "$src" "$tgt")
    prepare_target "$name" "$tgt"
    echo "== $name: $cmd" >> "$log"
    status=0
    ( cd "$BENCH_TMP/$tgt" && /usr/bin/time -v -o "$BENCH_TMP/time.txt" sh -c "$cmd" >> "$log" 2>&1 ) || status=$?
    cat "$BENCH_TMP/time.txt" >> "$log"
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$BENCH_TMP/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$BENCH_TMP/time.txt")
    got=$(target_rows "$tgt")
    ok=$([ "$status" = 0 ] && [ "$got" = "$rows" ] && echo yes || echo "NO ($got, exit $status)")
    printf '%-18s %9.2f %12.0f %10s %9s\n' "$name" "$wall" "$(echo "$rows / $wall" | bc -l)" "$rss" "$ok"
done
echo "commands and their output: $log"
