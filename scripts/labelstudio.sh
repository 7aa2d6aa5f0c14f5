#!/usr/bin/env bash
# A real Label Studio for Winnow's tests and benchmarks, on 127.0.0.1 (never for production:
# it turns SSRF protection off so webhooks may call back to 127.0.0.1).
#   scripts/labelstudio.sh start   installs it into its own virtualenv if missing, initialises
#                                  an admin with an API token, starts it, prints env
#   scripts/labelstudio.sh stop
#   scripts/labelstudio.sh env     prints WINNOW_TEST_LABEL_STUDIO_URL / _TOKEN, what the tests
#                                  and benchmarks read (scripts/test evals it; the tests must
#                                  not get WINNOW_LABEL_STUDIO_*, which would configure every app)
#   scripts/labelstudio.sh winnow-env  prints WINNOW_LABEL_STUDIO_URL / _TOKEN, what `winnow`
#                                  reads: eval "$(bash scripts/labelstudio.sh winnow-env)"
#   scripts/labelstudio.sh status  exits 0 when it answers /health
# The virtualenv is $WINNOW_LS_VENV (default ~/.cache/winnow/label-studio-1.23.2, kept between
# runs: Label Studio's pins clash with Winnow's). Data: $WINNOW_VAR/label-studio; port
# $WINNOW_LS_PORT (default 58080).
set -euo pipefail

version=1.23.2
root=$(cd "$(dirname "$0")/.." && pwd)
var=${WINNOW_VAR:-$root/var}
venv=${WINNOW_LS_VENV:-$HOME/.cache/winnow/label-studio-$version}
port=${WINNOW_LS_PORT:-58080}
data=$var/label-studio
run=$var/run
url=http://127.0.0.1:$port

log() { echo "labelstudio: $*" >&2; }

install() {
  if [ -x "$venv/bin/label-studio" ]; then
    return
  fi
  log "installing label-studio==$version into $venv (about 90 s)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "label-studio==$version" >&2
}

token() { cat "$data/token"; }

init() {
  if [ -s "$data/token" ]; then
    return
  fi
  mkdir -p "$data"
  local tok pass
  tok=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
  pass=$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')
  log "initialising (about 30 s)"
  # --opt=value: a random password may begin with "-", which argparse would take for an option.
  (cd "$data" && LABEL_STUDIO_BASE_DATA_DIR="$data/base" "$venv/bin/label-studio" init winnow \
    --no-browser --username=admin@winnow.test --password="$pass" --user-token="$tok" \
    --enable-legacy-api-token >"$data/init.log" 2>&1)
  echo "$tok" >"$data/token"
}

healthy() {
  python3 -c 'import sys, urllib.request as u; u.urlopen(sys.argv[1], timeout=2).read()' \
    "$url/health" >/dev/null 2>&1
}

start() {
  install
  init
  mkdir -p "$run"
  if healthy; then
    log "already running on $port"
    return
  fi
  (
    cd "$data"
    LABEL_STUDIO_BASE_DATA_DIR="$data/base" SSRF_PROTECTION_ENABLED=false \
      nohup "$venv/bin/label-studio" start winnow --no-browser --host 127.0.0.1 --port "$port" \
      >"$run/label-studio.log" 2>&1 </dev/null &
    echo $! >"$run/label-studio.pid"
  )
  for _ in $(seq 120); do
    healthy && break
    sleep 1
  done
  healthy || { log "did not start; see $run/label-studio.log"; exit 1; }
  log "started on $url"
}

stop() {
  if [ -s "$run/label-studio.pid" ]; then
    kill "$(cat "$run/label-studio.pid")" 2>/dev/null || true
    for _ in $(seq 50); do
      healthy || break
      sleep 0.2
    done
    rm -f "$run/label-studio.pid"
  fi
  log "stopped"
}

print_env() {
  echo "export WINNOW_TEST_LABEL_STUDIO_URL=$url"
  echo "export WINNOW_TEST_LABEL_STUDIO_TOKEN=$(token)"
}

print_winnow_env() {
  echo "export WINNOW_LABEL_STUDIO_URL=$url"
  echo "export WINNOW_LABEL_STUDIO_TOKEN=$(token)"
}

case "${1:-}" in
  start) start; print_env
    log "for winnow itself: eval \"\$(bash $0 winnow-env)\" (the lines above are the tests')" ;;
  stop) stop ;;
  status) if healthy; then echo running; else echo stopped; exit 1; fi ;;
  env) print_env ;;
  winnow-env) print_winnow_env ;;
  install) install ;;
  *) echo "usage: $0 start|stop|status|env|winnow-env|install" >&2; exit 2 ;;
esac
