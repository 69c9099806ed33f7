#!/bin/bash
# Starts a throwaway PostgreSQL 15 server for tests and benchmarks and prints its libpq
# connection string on stdout. The cluster lives in a new temp dir, listens on a free loopback
# port and on a unix socket in that dir. As root, the server runs as the `postgres` user (or
# `nobody`): initdb and postgres refuse to run as root.
#
#   conn=$(tests/postgres/start_postgres.sh)        # start; connection string on stdout
#   tests/postgres/start_postgres.sh stop "$dir"    # stop and delete (dir is printed on stderr)
#
# Needs Debian's postgresql-15 package. Set PGBIN to use other server binaries.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
USER_NAME=faultline

run_as_server_user() {
  if [[ $(id -u) -eq 0 ]]; then
    local user=postgres
    id -u postgres >/dev/null 2>&1 || user=nobody
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

if [[ ${1:-} == stop ]]; then
  dir=${2:?usage: start_postgres.sh stop DIR}
  [[ -f $dir/data/PG_VERSION ]] || { echo "$dir is not a cluster started by this script" >&2; exit 2; }
  run_as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  rm -rf "$dir"
  exit 0
fi

for tool in initdb pg_ctl postgres; do
  [[ -x $PGBIN/$tool ]] || { echo "$PGBIN/$tool not found: install postgresql-15" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/faultline-pg.XXXXXX)
if [[ $(id -u) -eq 0 ]]; then
  owner=postgres
  id -u postgres >/dev/null 2>&1 || owner=nobody
  chown "$owner" "$dir"
fi

port=""
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 20000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
    port=$candidate
    break
  fi
done
[[ -n $port ]] || { echo "no free loopback port found" >&2; exit 1; }

run_as_server_user "$PGBIN/initdb" -D "$dir/data" -U "$USER_NAME" -A trust -E UTF8 --locale=C \
  --no-sync --no-instructions >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
run_as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" \
  start >/dev/null || { cat "$dir/postgres.log" >&2; exit 1; }

echo "PostgreSQL running in $dir; stop with: $0 stop $dir" >&2
echo "host=$dir port=$port user=$USER_NAME dbname=postgres"
