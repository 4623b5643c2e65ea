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

# ferry as an installed copy runs: its own console script (a version manager's
# shim in front of it, pyenv's here, adds ~0.1 s of shell to every start) and
# its modules byte-compiled (`pip install .` compiles them; an editable checkout
# run with PYTHONDONTWRITEBYTECODE=1 recompiles its ~55 modules, ~0.1 s, at
# every start). FERRY overrides the command; `compile_ferry` byte-compiles the
# ferry that the console script's Python imports, outside any timing.
ferry_script() {
    local cache=$BENCH_TMP/ferry-script path   # found once, not in every timed run
    if [ ! -s "$cache" ]; then
        mkdir -p "$BENCH_TMP"
        path=$(command -v ferry)
        # a shim (pyenv's is a bash script) instead of pip's Python script: ask pyenv
        if ! head -1 "$path" | grep -q python && command -v pyenv >/dev/null; then
            path=$(pyenv which ferry)
        fi
        echo "$path" > "$cache"
    fi
    read -r path < "$cache"
    echo "$path"
}
# the Python that runs ferry's console script (its #! line)
ferry_python() { head -1 "$(ferry_script)" | sed 's/^#!//'; }
compile_ferry() {
    local py
    py=$(ferry_python)
    "$py" -m compileall -q "$("$py" -c 'import ferry, os; print(os.path.dirname(ferry.__file__))')" >/dev/null
}
