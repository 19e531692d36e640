#!/usr/bin/env bash
# `metadial dashboard` on bad input: each is one line on stderr and exit 2 (a storage that does not
# exist, "memory", an unknown --study, a port in use); and a good start prints the URL it serves.
# Arguments: the metadial binary, the source folder, the build folder.
set -euo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_user_error WHAT ARGS...: exit 2, exactly one line on stderr, naming WHAT.
expect_user_error() {
  local what="$1"; shift
  local code=0
  timeout 20 "$bin" dashboard "$@" >out.txt 2>err.txt || code=$?
  [ "$code" -eq 2 ] || fail "dashboard $*: exit $code, expected 2 ($(cat err.txt))"
  [ "$(wc -l <err.txt)" -eq 1 ] || fail "dashboard $*: $(wc -l <err.txt) lines on stderr, expected 1: $(cat err.txt)"
  grep -qF -- "$what" err.txt || fail "dashboard $*: stderr does not name '$what': $(cat err.txt)"
}

expect_user_error "missing.db" --storage "sqlite:$work/missing.db" --port 0
expect_user_error "--storage memory" --storage memory --port 0

cat > lc.toml <<'TOML'
[study]
name = "lc"
sampler = "random"
trials = 4
seed = 1
[objective]
function = "learning_curve"
steps = 5
TOML
"$bin" tune lc.toml --storage "sqlite:$work/runs.db" >/dev/null 2>&1 || fail "tune did not make the study"
expect_user_error "no study 'nope'" --storage "sqlite:$work/runs.db" --study nope --port 0

# A good start on any free port prints the URL; a second dashboard on that port is refused.
"$bin" dashboard --storage "sqlite:$work/runs.db" --study lc --port 0 >serve.txt 2>serve.err &
pid=$!
for _ in $(seq 1 100); do
  grep -q "^dashboard: http://127.0.0.1:" serve.txt 2>/dev/null && break
  sleep 0.1
done
url=$(sed -nE 's#^dashboard: (http://127\.0\.0\.1:[0-9]+/)\#study=lc serving .*#\1#p' serve.txt)
[ -n "$url" ] || fail "no URL printed: $(cat serve.txt serve.err)"
port=$(echo "$url" | sed -E 's#.*:([0-9]+)/$#\1#')
expect_user_error "127.0.0.1:$port" --storage "sqlite:$work/runs.db" --port "$port"
kill -0 "$pid" || fail "the first dashboard stopped"
echo "dashboard_cli_test: ok"
