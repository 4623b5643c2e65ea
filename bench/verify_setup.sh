#!/usr/bin/env bash
# Create the databases of the verify benchmark (bench/verify.sh), idempotently.
#
#   PostgreSQL bench_verify_src   pgbench_accounts (pgbench scale 50: 5,000,000 rows)
#                                 and bench_mixed (2,000,000 rows: text, numeric,
#                                 timestamptz, boolean, json, NULLs in every column but the key)
#   PostgreSQL bench_verify_same  a copy of bench_verify_src (CREATE DATABASE ... TEMPLATE)
#   PostgreSQL bench_verify_mod   the same copy with 10 modified rows in each table
#   MariaDB    bench_verify_same  the same two tables (accounts by LOAD DATA,
#                                 bench_mixed copied by `ferry run`, so its column
#                                 types are the ones a ferry migration creates)
#   MariaDB    bench_verify_mod   a copy of bench_verify_same with the same 10 modified rows
#
# A database that already holds what it should is kept (checked by row counts and
# by a marker table holding the number of modified rows). FERRY: the ferry command
# (default: ferry on PATH).
#
# usage: bench/verify_setup.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
FERRY=${FERRY:-$(ferry_script)}
SCALE=50
ACCOUNTS=$((SCALE * 100000))
MIXED=2000000
SRC=bench_verify_src

# the 10 modified rows of each table (the same statements on both engines)
MOD_ACCOUNTS="UPDATE pgbench_accounts SET abalance = abalance + 1
    WHERE aid IN (1, 77777, 500000, 1234567, 2000001, 2500000, 3333333, 4000000, 4999999, 5000000)"
MOD_MIXED=(
    "UPDATE bench_mixed SET label = CONCAT(label, ' ') WHERE id = 1"
    "UPDATE bench_mixed SET amount = amount + 0.01 WHERE id = 250000"
    "UPDATE bench_mixed SET amount = NULL WHERE id = 400000"
    "UPDATE bench_mixed SET seen = NULL WHERE id = 600001"
    "UPDATE bench_mixed SET active = NOT active WHERE id = 800001"
    "UPDATE bench_mixed SET doc = NULL WHERE id = 1000001"
    "UPDATE bench_mixed SET note = 'changed' WHERE id = 1200000"
    "UPDATE bench_mixed SET note = NULL WHERE id = 1400001"
    "UPDATE bench_mixed SET label = NULL WHERE id = 1600001"
    "UPDATE bench_mixed SET amount = 0 WHERE id = 2000000"
)
# On MariaDB `NOT active` of a tinyint(1) is 0/1 as well; `seen` differs by type only.

MIXED_SQL="CREATE TABLE bench_mixed (id bigint PRIMARY KEY, label text, amount numeric(12,2),
    seen timestamptz, active boolean, doc json, note text);
INSERT INTO bench_mixed
SELECT i,
       CASE WHEN i % 23 = 0 THEN NULL ELSE 'label ' || md5(i::text) END,
       CASE WHEN i % 11 = 0 THEN NULL ELSE ((i::bigint * 7919) % 10000000) / 100.0 END,
       CASE WHEN i % 13 = 0 THEN NULL
            ELSE timestamptz '2020-01-01 00:00:00+00' + i * interval '1 second 1234 microseconds' END,
       CASE WHEN i % 17 = 0 THEN NULL ELSE i % 3 = 0 END,
       CASE WHEN i % 19 = 0 THEN NULL
            ELSE json_build_object('i', i, 'tag', 't' || (i % 7), 'ok', i % 2 = 0, 'v', i / 8.0) END,
       CASE WHEN i % 5 = 0 THEN NULL ELSE 'note ' || i END
FROM generate_series(1, $MIXED) AS i;
ANALYZE bench_mixed;"

pg_count() { psql_q -d "$1" -Atc "SELECT count(*) FROM $2" 2>/dev/null || true; }
my_count() { my_q -N -e "SELECT count(*) FROM $1.$2" 2>/dev/null || true; }
pg_marker() { psql_q -d "$1" -Atc "SELECT n FROM bench_verify_marker" 2>/dev/null || true; }
my_marker() { my_q -N -e "SELECT n FROM $1.bench_verify_marker" 2>/dev/null || true; }

setup_pg_src() {
    if [ "$(pg_count $SRC pgbench_accounts)" = $ACCOUNTS ] && [ "$(pg_count $SRC bench_mixed)" = $MIXED ]; then
        echo "postgresql $SRC: kept"; return
    fi
    echo "postgresql $SRC: pgbench -i -s $SCALE and bench_mixed"
    PGOPTIONS="-c client_min_messages=warning" psql_q -d postgres \
        -c "DROP DATABASE IF EXISTS bench_verify_same" -c "DROP DATABASE IF EXISTS bench_verify_mod" \
        -c "DROP DATABASE IF EXISTS $SRC" -c "CREATE DATABASE $SRC"
    "$PGBIN/pgbench" -i -q -s $SCALE -I dtgvp "$SRC"
    psql_q -d "$SRC" -c "DROP TABLE pgbench_branches, pgbench_tellers, pgbench_history" -c "$MIXED_SQL"
}

setup_pg_copy() {   # name, modified rows per table (0 or 10)
    local db=$1 n=$2
    if [ "$(pg_marker "$db")" = "$n" ]; then echo "postgresql $db: kept"; return; fi
    echo "postgresql $db: copy of $SRC with $n modified rows per table"
    PGOPTIONS="-c client_min_messages=warning" psql_q -d postgres \
        -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db TEMPLATE $SRC"
    if [ "$n" != 0 ]; then
        psql_q -d "$db" -c "$MOD_ACCOUNTS" "${MOD_MIXED[@]/#/-c}"
    fi
    psql_q -d "$db" -c "CREATE TABLE bench_verify_marker (n int)" -c "INSERT INTO bench_verify_marker VALUES ($n)"
}

setup_my_same() {
    local db=bench_verify_same
    if [ "$(my_marker $db)" = 0 ]; then echo "mariadb    $db: kept"; return; fi
    echo "mariadb    $db: pgbench_accounts by LOAD DATA, bench_mixed by ferry run"
    my_q -e "DROP DATABASE IF EXISTS $db; DROP DATABASE IF EXISTS bench_verify_mod; CREATE DATABASE $db;
             CREATE TABLE $db.pgbench_accounts (aid int NOT NULL PRIMARY KEY, bid int,
                 abalance int, filler char(84)) ENGINE=InnoDB"
    psql_q -d "$SRC" -c "COPY pgbench_accounts (aid, bid, abalance, filler) TO STDOUT" |
        my_q --local-infile=1 -e "SET unique_checks = 0;
             LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE $db.pgbench_accounts (aid, bid, abalance, filler)"
    local work
    work=$(mktemp -d)
    (cd "$work" && "$FERRY" run --source "$(pg_url $SRC)" --target "$(my_url $db)" \
        --tables bench_mixed --jobs 2 --no-verify >/dev/null)
    rm -rf "$work"
    my_q -e "ANALYZE TABLE $db.pgbench_accounts, $db.bench_mixed" >/dev/null
    my_q -e "CREATE TABLE $db.bench_verify_marker (n int); INSERT INTO $db.bench_verify_marker VALUES (0)"
}

setup_my_mod() {
    local db=bench_verify_mod stmt
    if [ "$(my_marker $db)" = 10 ]; then echo "mariadb    $db: kept"; return; fi
    echo "mariadb    $db: copy of bench_verify_same with 10 modified rows per table"
    my_q -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db;
             CREATE TABLE $db.pgbench_accounts LIKE bench_verify_same.pgbench_accounts;
             CREATE TABLE $db.bench_mixed LIKE bench_verify_same.bench_mixed;
             SET unique_checks = 0;
             INSERT INTO $db.pgbench_accounts SELECT * FROM bench_verify_same.pgbench_accounts;
             INSERT INTO $db.bench_mixed SELECT * FROM bench_verify_same.bench_mixed;"
    my_q "$db" -e "$MOD_ACCOUNTS"
    for stmt in "${MOD_MIXED[@]}"; do my_q "$db" -e "$stmt"; done
    my_q -e "ANALYZE TABLE $db.pgbench_accounts, $db.bench_mixed" >/dev/null
    my_q -e "CREATE TABLE $db.bench_verify_marker (n int); INSERT INTO $db.bench_verify_marker VALUES (10)"
}

setup_pg_src
setup_pg_copy bench_verify_same 0
setup_pg_copy bench_verify_mod 10
setup_my_same
setup_my_mod
compile_ferry   # the timed runs of bench/verify.sh start ferry byte-compiled
