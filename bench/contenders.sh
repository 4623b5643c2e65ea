# The contenders (sourced by prepare.sh, contender.sh and copy.sh).
#
#   pipe-text      psql COPY TO STDOUT | psql COPY FROM STDIN          PostgreSQL -> PostgreSQL
#   pipe-binary    the same, FORMAT binary                             PostgreSQL -> PostgreSQL
#   pipe-text-pk   pipe-text, then ALTER TABLE ADD PRIMARY KEY (aid)   PostgreSQL -> PostgreSQL
#                  (the same end state as ferry's: table, rows and primary key)
#   ferry-pg       ferry run --jobs 2 --no-verify                      PostgreSQL -> PostgreSQL
#   ferry-pg-verify ferry run --jobs 2 (with the verification)         PostgreSQL -> PostgreSQL
#   ferry-pg-plain ferry run transforms/plain.yaml (no transform)      PostgreSQL -> PostgreSQL
#   ferry-pg-transforms ferry run transforms/transforms.yaml           PostgreSQL -> PostgreSQL
#                  (abalance cast to bigint, filler renamed note, bid10 = bid * 10 added)
#   ferry-pg-transforms-rows the same with options.native_copy false   PostgreSQL -> PostgreSQL
#   pipe-mariadb   mariadb --batch --quick | psql COPY FROM STDIN      MariaDB -> PostgreSQL
#   pgloader       pgloader pgloader/defaults.load                     MariaDB -> PostgreSQL
#   pgloader-prefetch pgloader pgloader/prefetch.load (prefetch rows = 10000)
#   ferry-my       ferry run --jobs 2 --no-verify                      MariaDB -> PostgreSQL
#   ferry-my-verify ferry run --jobs 2 (with the verification)         MariaDB -> PostgreSQL
#
# The pipes write into a pgbench_accounts created beforehand (no primary key,
# as a COPY into a fresh table); ferry and pgloader create their table (and
# its primary key) themselves.

# FERRY: how to start ferry (default: the installed console script, see
# ferry_script in lib.sh); to time another tree:
# FERRY="python3 -m ferry.cli" PYTHONPATH=/path/to/tree/src
FERRY=${FERRY:-$(ferry_script)}

CONTENDERS="pipe-text pipe-binary pipe-text-pk ferry-pg ferry-pg-verify ferry-pg-plain ferry-pg-transforms ferry-pg-transforms-rows pipe-mariadb pgloader pgloader-prefetch ferry-my ferry-my-verify"

ACCOUNTS_DDL="CREATE TABLE pgbench_accounts (aid int NOT NULL, bid int, abalance int, filler char(84))"

# needs_table NAME: true when the contender expects the target table to exist
needs_table() { case $1 in pipe-*) return 0 ;; *) return 1 ;; esac; }

# contender_cmd NAME SOURCE_DB TARGET_DB: the command line, one shell string
contender_cmd() {
    local name=$1 src=$2 tgt=$3
    local ferry_pg="$FERRY run --source $(pg_url "$src") --target $(pg_url "$tgt") --tables pgbench_accounts --jobs 2"
    local plan_env="BENCH_SOURCE_DB=$src BENCH_TARGET_DB=$tgt"
    local ferry_my="$FERRY run --source $(my_url "$src") --target $(pg_url "$tgt") --tables pgbench_accounts --jobs 2"
    case $name in
    pipe-text) echo "psql -X -d $src -c 'COPY pgbench_accounts TO STDOUT' | psql -X -d $tgt -c 'COPY pgbench_accounts FROM STDIN'" ;;
    pipe-binary) echo "psql -X -d $src -c 'COPY pgbench_accounts TO STDOUT (FORMAT binary)' | psql -X -d $tgt -c 'COPY pgbench_accounts FROM STDIN (FORMAT binary)'" ;;
    pipe-text-pk) echo "$(contender_cmd pipe-text "$src" "$tgt") && psql -X -d $tgt -c 'ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid)'" ;;
    ferry-pg) echo "$ferry_pg --no-verify" ;;
    ferry-pg-verify) echo "$ferry_pg" ;;
    ferry-pg-plain) echo "$plan_env $FERRY run $BENCH_DIR/transforms/plain.yaml" ;;
    ferry-pg-transforms) echo "$plan_env $FERRY run $BENCH_DIR/transforms/transforms.yaml" ;;
    ferry-pg-transforms-rows) echo "$plan_env $FERRY run $BENCH_DIR/transforms/transforms-rows.yaml" ;;
    pipe-mariadb) echo "mariadb -h $MYHOST -P $MYPORT -u $MYUSER --batch --quick --skip-column-names -e 'SELECT aid, bid, abalance, filler FROM pgbench_accounts' $src | psql -X -d $tgt -c 'COPY pgbench_accounts FROM STDIN'" ;;
    pgloader) echo "BENCH_SOURCE_DB=$src BENCH_TARGET_DB=$tgt MYUSER=$MYUSER MYHOST=$MYHOST MYPORT=$MYPORT pgloader --quiet $BENCH_DIR/pgloader/defaults.load" ;;
    pgloader-prefetch) echo "BENCH_SOURCE_DB=$src BENCH_TARGET_DB=$tgt MYUSER=$MYUSER MYHOST=$MYHOST MYPORT=$MYPORT pgloader --quiet $BENCH_DIR/pgloader/prefetch.load" ;;
    ferry-my) echo "$ferry_my --no-verify" ;;
    ferry-my-verify) echo "$ferry_my" ;;
    *) echo "unknown contender: $name (one of: $CONTENDERS)" >&2; return 2 ;;
    esac
}

# prepare_target NAME TARGET_DB: a fresh target database (and a fresh working
# directory $BENCH_TMP/TARGET_DB, where ferry keeps its journal)
prepare_target() {
    local name=$1 tgt=$2
    PGOPTIONS="-c client_min_messages=warning" psql_q -d postgres \
        -c "DROP DATABASE IF EXISTS $tgt" -c "CREATE DATABASE $tgt"
    if needs_table "$name"; then psql_q -d "$tgt" -c "$ACCOUNTS_DDL"; fi
    rm -rf "${BENCH_TMP:?}/$tgt" && mkdir -p "$BENCH_TMP/$tgt"
}

# target_rows TARGET_DB: rows of pgbench_accounts in the target (any schema)
target_rows() {
    local rel
    rel=$(psql_q -d "$1" -Atc "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
                               WHERE relname = 'pgbench_accounts' LIMIT 1")
    [ -n "$rel" ] && psql_q -d "$1" -Atc "SELECT count(*) FROM $rel" || echo 0
}
