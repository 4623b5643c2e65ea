# Shared settings of the benchmark scripts (sourced, not run).
# Override any of them from the environment.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER
MYHOST=${MYHOST:-127.0.0.1}
MYPORT=${MYPORT:-3306}
MYUSER=${MYUSER:-root}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
# scratch space: per-run working directories (ferry's journal) and pgloader files
BENCH_TMP=${BENCH_TMP:-/tmp/ferry-bench}

# bench_src holds scale 10 (1,000,000 rows); any other scale N lives in bench_src_sN
src_db() {
    local scale=${1:-10}
    if [ "$scale" = 10 ]; then echo bench_src; else echo "bench_src_s$scale"; fi
}

pg_url() { echo "postgresql://$PGUSER@$PGHOST:$PGPORT/$1"; }
my_url() { echo "mysql://$MYUSER@$MYHOST:$MYPORT/$1"; }

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
my_q() { mariadb -h "$MYHOST" -P "$MYPORT" -u "$MYUSER" "$@"; }

pg_db_exists() {
    [ "$(psql_q -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]
}
