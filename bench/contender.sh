#!/usr/bin/env bash
# Run ONE contender once: copy pgbench_accounts of bench_src (SCALE=10, the
# default) or bench_src_s$SCALE into TARGET_DB, prepared by bench/prepare.sh.
# Nothing else happens in this process, so timing it from outside times the
# copy alone. TARGET_DB `next` takes the next database of the prepared pool.
#
# usage: [SCALE=10] bench/contender.sh NAME TARGET_DB|next
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$BENCH_DIR/contenders.sh"

name=${1:?usage: bench/contender.sh NAME TARGET_DB|next}
tgt=${2:?usage: bench/contender.sh NAME TARGET_DB|next}
if [ "$tgt" = next ]; then
    n=$(($(cat "$BENCH_TMP/pool.$name") + 1))
    echo "$n" > "$BENCH_TMP/pool.$name"
    tgt="bench_tgt_${name//-/_}_$n"
fi
cmd=$(contender_cmd "$name" "$(src_db "${SCALE:-10}")" "$tgt")
cd "$BENCH_TMP/$tgt"   # ferry's journal of a URL run goes to ./.ferry/
exec sh -c "$cmd"
