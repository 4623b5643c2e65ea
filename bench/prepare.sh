#!/usr/bin/env bash
# Fresh target databases for a contender, before (and outside) its timed runs.
#
#   bench/prepare.sh NAME TARGET_DB   one fresh target TARGET_DB
#   bench/prepare.sh NAME --pool N    N fresh targets bench_tgt_<name>_1..N, handed
#                                     out in turn by `bench/contender.sh NAME next`
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$BENCH_DIR/contenders.sh"

name=${1:?usage: bench/prepare.sh NAME TARGET_DB | NAME --pool N}
contender_cmd "$name" x y >/dev/null
compile_ferry
mkdir -p "$BENCH_TMP"
if [ "${2:-}" = --pool ]; then
    count=${3:?--pool needs a count}
    base="bench_tgt_${name//-/_}"
    # drop what an earlier, larger pool left
    for old in $(psql_q -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE '${base}\_%'"); do
        PGOPTIONS="-c client_min_messages=warning" psql_q -d postgres -c "DROP DATABASE IF EXISTS $old"
    done
    for i in $(seq 1 "$count"); do prepare_target "$name" "${base}_$i"; done
    echo 0 > "$BENCH_TMP/pool.$name"
    echo "$count fresh targets ${base}_1..$count"
else
    prepare_target "$name" "${2:?usage: bench/prepare.sh NAME TARGET_DB}"
fi
