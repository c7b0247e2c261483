#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, CI and demos.
#
#   scripts/pg-cluster.sh start DIR PORT   initdb DIR (if new), start it on 127.0.0.1:PORT, create
#                                          database "liaison"; prints the DSN on stdout
#   scripts/pg-cluster.sh stop DIR         stop it (fast shutdown)
#   scripts/pg-cluster.sh restart DIR      restart it (same port), e.g. to test reconnection
#
# Trust authentication on 127.0.0.1 only (no Unix socket outside DIR), fsync on. Works as root:
# initdb refuses to run as root, so the server then runs as the `postgres` system user (or
# `nobody` when that user does not exist) and DIR is handed to that user.
set -euo pipefail

PGBIN="${PGBIN:-}"
if [ -z "$PGBIN" ]; then
  for v in 17 16 15; do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then PGBIN="/usr/lib/postgresql/$v/bin"; break; fi
  done
fi
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "pg-cluster: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi

usage() { echo "usage: $0 start DIR PORT | stop DIR | restart DIR" >&2; exit 2; }

RUNAS=()
OWNER=""
if [ "$(id -u)" -eq 0 ]; then
  if id postgres >/dev/null 2>&1; then OWNER=postgres; else OWNER=nobody; fi
  RUNAS=(runuser -u "$OWNER" --)
fi

as_owner() { "${RUNAS[@]}" "$@"; }

cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || usage
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
data="$dir/data"

case "$cmd" in
  start)
    port="${3:-}"; [ -n "$port" ] || usage
    if [ -n "$OWNER" ]; then
      chown "$OWNER" "$dir"
      # The server user must be able to reach DIR.
      p="$dir"; while [ "$p" != "/" ]; do p="$(dirname "$p")"; chmod o+x "$p" 2>/dev/null || true; done
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
      as_owner "$PGBIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
      cat >"$data/pg_hba.conf" <<HBA
# pg-cluster.sh: trust on loopback TCP only
host all all 127.0.0.1/32 trust
HBA
      [ -z "$OWNER" ] || chown "$OWNER" "$data/pg_hba.conf"
    fi
    echo "$port" >"$dir/port"
    as_owner "$PGBIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='' -c fsync=on -c max_connections=200" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    if ! "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'liaison'" | grep -q 1; then
      "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE liaison" >/dev/null
    fi
    echo "postgresql://postgres@127.0.0.1:$port/liaison"
    ;;
  stop)
    if [ -f "$data/postmaster.pid" ]; then
      as_owner "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
    ;;
  restart)
    as_owner "$PGBIN/pg_ctl" -D "$data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null
    ;;
  *) usage ;;
esac
