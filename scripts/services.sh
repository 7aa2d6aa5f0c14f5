#!/usr/bin/env bash
# Start or stop the PostgreSQL and Redis servers Winnow's tests and benchmarks use, on 127.0.0.1.
#   scripts/services.sh start   installs them with apt-get if missing, starts them, prints env
#   scripts/services.sh stop
#   scripts/services.sh env     prints the WINNOW_TEST_* variables for the running servers
#   scripts/services.sh status  exits 0 when both are running
# Data lives under $WINNOW_VAR (default: ./var), ports are $WINNOW_PG_PORT / $WINNOW_REDIS_PORT.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
var=${WINNOW_VAR:-$root/var}
pg_port=${WINNOW_PG_PORT:-55432}
redis_port=${WINNOW_REDIS_PORT:-56379}
pg_data=$var/pg
run=$var/run

log() { echo "services: $*" >&2; }

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && echo "$dir"
}

ensure_installed() {
  if [ -z "$(pg_bin)" ] || ! command -v redis-server >/dev/null; then
    log "installing postgresql and redis-server with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql redis-server >/dev/null
  fi
}

# PostgreSQL will not run as root: run its tools as the postgres user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_pg() {
  local bin; bin=$(pg_bin)
  mkdir -p "$var" "$run"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$run"; fi
  if [ ! -s "$pg_data/PG_VERSION" ]; then
    mkdir -p "$pg_data"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$pg_data"; fi
    as_pg "$bin/initdb" -D "$pg_data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if as_pg "$bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
    log "postgresql already running on $pg_port"
  else
    as_pg "$bin/pg_ctl" -D "$pg_data" -l "$run/postgresql.log" -w -t 60 start \
      -o "-p $pg_port -k $run -c listen_addresses=127.0.0.1 -c max_connections=200" >/dev/null
    log "postgresql started on 127.0.0.1:$pg_port"
  fi
  for db in winnow_test winnow_bench; do
    if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
      as_pg "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$db"
    fi
  done
}

start_redis() {
  mkdir -p "$var/redis" "$run"
  if redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
    log "redis already running on $redis_port"
    return
  fi
  redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --dir "$var/redis" \
    --save "" --appendonly no --pidfile "$run/redis.pid" --logfile "$run/redis.log"
  for _ in $(seq 50); do
    redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  log "redis started on 127.0.0.1:$redis_port"
}

print_env() {
  echo "export WINNOW_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$pg_port/winnow_test"
  echo "export WINNOW_TEST_REDIS_URL=redis://127.0.0.1:$redis_port/1"
  echo "export WINNOW_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$pg_port/winnow_bench"
  echo "export WINNOW_BENCH_REDIS_URL=redis://127.0.0.1:$redis_port/2"
}

stop() {
  local bin; bin=$(pg_bin || true)
  if [ -n "$bin" ] && [ -s "$pg_data/PG_VERSION" ]; then
    as_pg "$bin/pg_ctl" -D "$pg_data" -m fast stop >/dev/null 2>&1 || true
  fi
  redis-cli -h 127.0.0.1 -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  log "stopped"
}

running() {
  local bin; bin=$(pg_bin || true)
  [ -n "$bin" ] && [ -s "$pg_data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$pg_data" status \
    >/dev/null 2>&1 && redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1
}

case "${1:-}" in
  start) ensure_installed; start_pg; start_redis; print_env ;;
  status) if running; then echo running; else echo stopped; exit 1; fi ;;
  stop) stop ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
