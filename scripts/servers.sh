#!/usr/bin/env bash
# Find the PostgreSQL and MariaDB servers the tests use, or start throwaway ones.
#
# Sourced by scripts/test. Run directly, it makes the servers available and runs
# a command with FERRY_TEST_PG_URL / FERRY_TEST_MYSQL_URL exported, then stops
# whatever it started:
#     scripts/servers.sh python -m pytest tests/e2e -x
#     scripts/servers.sh            # an interactive shell
#
# Needs: a Python with psycopg and mysqlclient ($PY, default python3) to probe the
# servers; apt-get (as root) to install the server packages when they are missing.

FERRY_PG_DEFAULT_URL="postgresql://postgres@127.0.0.1:5432/postgres"
FERRY_MYSQL_DEFAULT_URL="mysql://root@127.0.0.1:3306/mysql"
FERRY_SCRATCH=""
FERRY_PG_STARTED=""     # "<bindir>|<datadir>" of the PostgreSQL we started
FERRY_MDB_PID=""        # pid of the mariadbd we started
FERRY_APT_UPDATED=""

ferry_log() { echo "ferry-test: $*" >&2; }

ferry_die() { ferry_log "error: $*"; exit 1; }

# A URL without its password, safe to print.
ferry_redact() { sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#' <<<"$1"; }

# --- Debian packages --------------------------------------------------------------

ferry_pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

# Install Debian packages (apt-get update once per run first).
ferry_apt_install() {
  command -v apt-get >/dev/null || ferry_die "missing $*, and no apt-get to install them"
  [[ $EUID -eq 0 ]] || ferry_die "missing $*: install them (apt-get install $*) or run as root"
  if [[ -z $FERRY_APT_UPDATED ]]; then
    ferry_log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || ferry_die "apt-get update failed"
    FERRY_APT_UPDATED=1
  fi
  ferry_log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || ferry_die "apt-get install $* failed"
}

# Install the command-line clients the dataset loaders use.
ferry_ensure_clients() {
  local missing=()
  command -v psql >/dev/null || missing+=(postgresql-client)
  command -v mariadb >/dev/null || command -v mysql >/dev/null || missing+=(mariadb-client)
  if ((${#missing[@]})); then ferry_apt_install "${missing[@]}"; fi
}

# --- probing ----------------------------------------------------------------------

# ferry_url_answers ENGINE URL: exit 0 when a session can be opened within 3 s.
ferry_url_answers() {
  "${PY:-python3}" - "$1" "$2" <<'EOF'
import sys
engine, url = sys.argv[1:]
from ferry.secrets import parse_url, redact
try:
    u = parse_url(url)
    if engine == "postgresql":
        import psycopg
        psycopg.connect(url, connect_timeout=3).close()
    else:
        import MySQLdb
        MySQLdb.connect(host=u.host, port=u.port, user=u.user, password=u.password,
                        connect_timeout=3).close()
except Exception as exc:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    print(f"ferry-test: {redact(url)} does not answer: {redact(first)}", file=sys.stderr)
    sys.exit(1)
EOF
}

ferry_free_port() {
  "${PY:-python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ferry_scratch() {
  if [[ -z $FERRY_SCRATCH ]]; then
    FERRY_SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/ferry-servers.XXXXXX")
    chmod 755 "$FERRY_SCRATCH"
  fi
}

# Run a command as the service user when we are root (initdb refuses root).
ferry_as() {
  local user=$1; shift
  if [[ $EUID -eq 0 ]]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# --- PostgreSQL -------------------------------------------------------------------

ferry_pg_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x $dir/initdb && -x $dir/pg_ctl ]] && { echo "$dir"; return 0; }
  done
  dir=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")
  [[ -x $dir/initdb && -x $dir/pg_ctl ]] && { echo "$dir"; return 0; }
  return 1
}

ferry_start_pg() {
  local bindir port dir
  bindir=$(ferry_pg_bindir) || { ferry_apt_install postgresql postgresql-client; bindir=$(ferry_pg_bindir); } \
    || ferry_die "no initdb/pg_ctl found even after installing postgresql"
  ferry_scratch
  port=$(ferry_free_port)
  dir=$FERRY_SCRATCH/pg
  mkdir -p "$dir"
  [[ $EUID -eq 0 ]] && chown postgres:postgres "$dir"
  ferry_log "starting a throwaway PostgreSQL ($bindir) on 127.0.0.1:$port in $dir"
  ferry_as postgres "$bindir/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
    -A trust --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; ferry_die "initdb failed"; }
  FERRY_PG_STARTED="$bindir|$dir"
  ferry_as postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 -o \
    "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$dir/log" >&2; ferry_die "PostgreSQL did not start"; }
  export FERRY_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
}

ferry_stop_pg() {
  [[ -n $FERRY_PG_STARTED ]] || return 0
  local bindir=${FERRY_PG_STARTED%%|*} dir=${FERRY_PG_STARTED#*|}
  ferry_as postgres "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  FERRY_PG_STARTED=""
}

# --- MariaDB ----------------------------------------------------------------------

ferry_mariadbd() {
  local p
  for p in "$(command -v mariadbd 2>/dev/null)" /usr/sbin/mariadbd; do
    [[ -n $p && -x $p ]] && { echo "$p"; return 0; }
  done
  return 1
}

ferry_start_mariadb() {
  local server port dir user_opt=() i
  if ! server=$(ferry_mariadbd) || ! command -v mariadb-install-db >/dev/null; then
    ferry_apt_install mariadb-server mariadb-client
    server=$(ferry_mariadbd) || ferry_die "no mariadbd found even after installing mariadb-server"
  fi
  ferry_scratch
  port=$(ferry_free_port)
  dir=$FERRY_SCRATCH/mdb
  mkdir -p "$dir"
  if [[ $EUID -eq 0 ]]; then chown mysql:mysql "$dir"; user_opt=(--user=mysql); fi
  ferry_log "starting a throwaway MariaDB ($server) on 127.0.0.1:$port in $dir"
  mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$dir/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
    || { cat "$dir/install.log" >&2; ferry_die "mariadb-install-db failed"; }
  # character set as in Debian's packaged configuration (50-server.cnf)
  "$server" --no-defaults "${user_opt[@]}" --datadir="$dir/data" --socket="$dir/mysql.sock" \
    --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/mariadbd.pid" \
    --log-error="$dir/error.log" --max_allowed_packet=256M --innodb_buffer_pool_size=256M \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --innodb_flush_log_at_trx_commit=0 --skip-name-resolve </dev/null >/dev/null 2>&1 &
  FERRY_MDB_PID=$!
  export FERRY_TEST_MYSQL_URL="mysql://root@127.0.0.1:$port/mysql"
  for ((i = 0; i < 120; i++)); do
    kill -0 "$FERRY_MDB_PID" 2>/dev/null || { cat "$dir/error.log" >&2; ferry_die "MariaDB exited"; }
    ferry_url_answers mysql "$FERRY_TEST_MYSQL_URL" 2>/dev/null && return 0
    sleep 0.5
  done
  cat "$dir/error.log" >&2
  ferry_die "MariaDB did not answer within 60 s"
}

ferry_stop_mariadb() {
  [[ -n $FERRY_MDB_PID ]] || return 0
  local i
  kill "$FERRY_MDB_PID" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$FERRY_MDB_PID" 2>/dev/null || break
    sleep 0.5
  done
  kill -9 "$FERRY_MDB_PID" 2>/dev/null || true
  wait "$FERRY_MDB_PID" 2>/dev/null || true
  FERRY_MDB_PID=""
}

# --- both -------------------------------------------------------------------------

# Use the servers named by the environment; start throwaway ones where none answer,
# or always when FERRY_TEST_OWN_SERVERS=1 (isolation from other work on shared servers).
ferry_ensure_servers() {
  export FERRY_TEST_PG_URL=${FERRY_TEST_PG_URL:-$FERRY_PG_DEFAULT_URL}
  export FERRY_TEST_MYSQL_URL=${FERRY_TEST_MYSQL_URL:-$FERRY_MYSQL_DEFAULT_URL}
  if [[ ${FERRY_TEST_OWN_SERVERS:-0} == 1 ]]; then
    ferry_start_pg
    ferry_start_mariadb
    return 0
  fi
  ferry_url_answers postgresql "$FERRY_TEST_PG_URL" || ferry_start_pg
  ferry_url_answers mysql "$FERRY_TEST_MYSQL_URL" || ferry_start_mariadb
}

ferry_stop_servers() {
  ferry_stop_mariadb
  ferry_stop_pg
  if [[ -n $FERRY_SCRATCH ]]; then rm -rf "$FERRY_SCRATCH"; FERRY_SCRATCH=""; fi
}

# Call once from the script that sources this file: servers stop however it ends.
ferry_trap_cleanup() {
  trap 'rc=$?; ferry_stop_servers; exit $rc' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  if [[ -z ${PY:-} ]]; then
    if [[ -x ${FERRY_VENV:-.venv}/bin/python ]]; then PY=${FERRY_VENV:-.venv}/bin/python; else PY=python3; fi
  fi
  ferry_trap_cleanup
  ferry_ensure_clients
  ferry_ensure_servers
  ferry_log "FERRY_TEST_PG_URL=$(ferry_redact "$FERRY_TEST_PG_URL")"
  ferry_log "FERRY_TEST_MYSQL_URL=$(ferry_redact "$FERRY_TEST_MYSQL_URL")"
  if (($#)); then "$@"; else "${SHELL:-bash}"; fi
fi
