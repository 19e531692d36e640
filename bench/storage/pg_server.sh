#!/bin/sh
# A throwaway PostgreSQL server for the storage benchmarks, with PostgreSQL's durable defaults
# (fsync = on, synchronous_commit = on, full_page_writes = on), so that metadial and Optuna are
# measured against the same server in one session (the tests' server runs with fsync = off).
#
#   bench/storage/pg_server.sh start DIR [PORT]   # initdb in DIR, start on 127.0.0.1:PORT (default
#                                                 # 54329), create databases "bench" (metadial's) and
#                                                 # "optuna" (Optuna's tables have the same names);
#                                                 # prints the URL of "bench"
#   bench/storage/pg_server.sh stop DIR           # stop it and remove DIR
#
# Login is trust on 127.0.0.1 only (a benchmark server: no password to handle). The server refuses
# to run as root: as root, initdb and pg_ctl run as the `postgres` user (Debian's package creates it).
set -eu
cmd=${1:-}
dir=${2:-}
port=${3:-54329}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR [PORT]" >&2
  exit 2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ ! -x "$bin/initdb" ]; then
  echo "$0: no initdb under /usr/lib/postgresql/*/bin (install Debian's postgresql: scripts/setup-deps)" >&2
  exit 2
fi
as_user=""
if [ "$(id -u)" -eq 0 ]; then as_user="setpriv --reuid=postgres --regid=postgres --init-groups"; fi

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ -n "$as_user" ] && chown postgres:postgres "$dir"
    $as_user "$bin/initdb" -D "$dir/data" -U metadial --auth=trust -E UTF8 --no-locale > "$dir/initdb.log" 2>&1
    cat >> "$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 80
EOF
    $as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start > /dev/null
    "$bin/psql" -h 127.0.0.1 -p "$port" -U metadial -d postgres -qc "CREATE DATABASE bench"
    "$bin/psql" -h 127.0.0.1 -p "$port" -U metadial -d postgres -qc "CREATE DATABASE optuna"
    echo "postgresql://metadial@127.0.0.1:$port/bench"
    ;;
  stop)
    $as_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
