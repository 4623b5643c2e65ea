#!/usr/bin/env bash
# Create the benchmark sources, idempotently:
#   PostgreSQL bench_src: pgbench -i -s SCALE (pgbench_accounts = SCALE x 100,000 rows)
#   MariaDB    bench_src: the same pgbench_accounts rows
#       (aid int PRIMARY KEY, bid int, abalance int, filler char(84))
# Scale 10 goes into bench_src, any other scale N into bench_src_sN.
# A source that already holds the expected rows is left alone.
#
# usage: bench/setup.sh [SCALE ...]        (default: 10)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

setup_pg() {
    local db=$1 rows=$2 have=""
    if pg_db_exists "$db"; then
        have=$(psql_q -d "$db" -Atc "SELECT count(*) FROM pgbench_accounts" 2>/dev/null || true)
    fi
    if [ "$have" = "$rows" ]; then
        echo "postgresql $db: pgbench_accounts has $rows rows, kept"
        return
    fi
    echo "postgresql $db: pgbench -i -s $scale"
    PGOPTIONS="-c client_min_messages=warning" psql_q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    "$PGBIN/pgbench" -i -q -s "$scale" "$db"
}

setup_my() {
    local db=$1 rows=$2 have=""
    have=$(my_q -N -e "SELECT count(*) FROM $db.pgbench_accounts" 2>/dev/null || true)
    if [ "$have" = "$rows" ]; then
        echo "mariadb    $db: pgbench_accounts has $rows rows, kept"
        return
    fi
    echo "mariadb    $db: loading pgbench_accounts from postgresql $db"
    my_q -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db;
             CREATE TABLE $db.pgbench_accounts (aid int NOT NULL PRIMARY KEY, bid int,
                 abalance int, filler char(84)) ENGINE=InnoDB"
    # COPY text output (tab separated, \N for NULL) is LOAD DATA's default format
    psql_q -d "$db" -c "COPY pgbench_accounts (aid, bid, abalance, filler) TO STDOUT" |
        my_q --local-infile=1 -e "SET unique_checks = 0;
             LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE $db.pgbench_accounts
             (aid, bid, abalance, filler)"
    my_q -e "ANALYZE TABLE $db.pgbench_accounts" >/dev/null
}

for scale in "${@:-10}"; do
    db=$(src_db "$scale")
    rows=$((scale * 100000))
    setup_pg "$db" "$rows"
    setup_my "$db" "$rows"
done
