#!/usr/bin/env bash
# One run of one contender of the verify benchmark (databases: bench/verify_setup.sh).
#
# usage: bench/verify.sh CONTENDER PAIR TABLE
#   CONTENDER  ferry     ferry verify --source SRC --target TGT --tables TABLE (default jobs)
#              reladiff  reladiff SRC TABLE TGT TABLE -k KEY -c % (its defaults otherwise)
#              hashscan  one side's in-database hash scan of the whole table:
#                        PostgreSQL sum(hashtext(t::text)), MariaDB sum(crc32(concat_ws(...)))
#   PAIR       pg-same | pg-mod   PostgreSQL bench_verify_src vs PostgreSQL bench_verify_same / _mod
#              my-same | my-mod   PostgreSQL bench_verify_src vs MariaDB bench_verify_same / _mod
#              (hashscan: pg-* scans PostgreSQL bench_verify_src, my-* MariaDB bench_verify_same)
#   TABLE      accounts (pgbench_accounts, 5,000,000 rows) | mixed (bench_mixed, 2,000,000 rows)
#
# The contender's output goes to stdout. RELADIFF: the reladiff command (default:
# reladiff on PATH; install it in a venv of its own: pip install 'reladiff[postgresql,mysql]').
# FERRY: the ferry command. ferry runs from a new empty folder, so no journal is read.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
FERRY=${FERRY:-$(ferry_script)}
RELADIFF=${RELADIFF:-reladiff}
contender=$1 pair=$2 which=$3

case $which in
    accounts) table=pgbench_accounts key=aid cols="aid, bid, abalance, filler" ;;
    mixed) table=bench_mixed key=id cols="id, label, amount, seen, active, doc, note" ;;
    *) echo "unknown table $which" >&2; exit 2 ;;
esac
case $pair in
    pg-same) tgt=$(pg_url bench_verify_same) ;;
    pg-mod) tgt=$(pg_url bench_verify_mod) ;;
    my-same) tgt=$(my_url bench_verify_same) ;;
    my-mod) tgt=$(my_url bench_verify_mod) ;;
    *) echo "unknown pair $pair" >&2; exit 2 ;;
esac
src=$(pg_url bench_verify_src)

case $contender in
    ferry)
        work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-verify.XXXXXX")
        trap 'rm -rf "$work"' EXIT
        cd "$work"
        # exit 1 (differences found) is a result, not a failure of the run
        "$FERRY" verify --source "$src" --target "$tgt" --tables "$table" || [ $? = 1 ] ;;
    reladiff)
        # reladiff's mysql:// driver is mysql-connector; the URL form is the same
        "$RELADIFF" "$src" "$table" "$tgt" "$table" -k "$key" -c '%' ;;
    hashscan)
        if [ "${pair%%-*}" = pg ]; then
            psql_q -d bench_verify_src -Atc "SELECT sum(hashtext(t::text)) FROM $table t"
        else
            my_q -N bench_verify_same -e "SELECT sum(crc32(concat_ws('|', $cols))) FROM $table"
        fi ;;
    *) echo "unknown contender $contender" >&2; exit 2 ;;
esac
