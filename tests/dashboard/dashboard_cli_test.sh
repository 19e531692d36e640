#!/usr/bin/env bash
# `metadial dashboard` and `metadial report` on bad input: each is one line on stderr and exit 2 (a
# storage that does not exist, "memory", an unknown --study, a port in use, an --out that cannot be
# written); a good start prints the URL it serves; a report is one file that loads nothing from
# elsewhere; a command objective's log (its log_dir recorded by `tune`) shows in /api/trial.
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

# expect_error COMMAND WHAT ARGS...: exit 2, exactly one line on stderr, naming WHAT.
expect_error() {
  local cmd="$1" what="$2"; shift 2
  local code=0
  timeout 20 "$bin" "$cmd" "$@" >out.txt 2>err.txt || code=$?
  [ "$code" -eq 2 ] || fail "$cmd $*: exit $code, expected 2 ($(cat err.txt))"
  [ "$(wc -l <err.txt)" -eq 1 ] || fail "$cmd $*: $(wc -l <err.txt) lines on stderr, expected 1: $(cat err.txt)"
  grep -qF -- "$what" err.txt || fail "$cmd $*: stderr does not name '$what': $(cat err.txt)"
}
expect_user_error() { expect_error dashboard "$@"; }

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

# The report: one self-contained file (no src or href to any URL), with the data inline.
"$bin" report --storage "sqlite:$work/runs.db" --study lc --out "$work/report.html" >report.txt 2>report.err ||
  fail "report exited $?: $(cat report.err)"
grep -q "^report: wrote $work/report.html (.*4 trials" report.txt || fail "report printed: $(cat report.txt)"
[ -s report.html ] || fail "report.html is empty"
if grep -Eiq "(src|href)[[:space:]]*=[[:space:]]*[\"']?(https?:)?//" report.html; then
  fail "report.html loads something from elsewhere: $(grep -Eio "(src|href)[[:space:]]*=[^>]{0,60}" report.html | head -3)"
fi
grep -q '<script type="application/json" id="md-report">' report.html || fail "report.html holds no data"
grep -q '<h1 id="study-name">lc</h1>' report.html || fail "report.html does not name the study"
expect_error report "no study 'nope'" --storage "sqlite:$work/runs.db" --study nope --out "$work/r.html"
expect_error report "$work/no/such/folder/r.html" --storage "sqlite:$work/runs.db" --study lc --out "$work/no/such/folder/r.html"
expect_error report "missing.db" --storage "sqlite:$work/missing.db" --study lc --out "$work/r.html"
mkdir adir
expect_error report "$work/adir: writing failed" --storage "sqlite:$work/runs.db" --study lc --out "$work/adir"
[ ! -e adir.partial ] || fail "a failed report left adir.partial"
expect_error report "--study is required" --storage "sqlite:$work/runs.db" --out "$work/r.html"
[ ! -e "$work/r.html" ] || fail "a failed report left r.html"

# A command objective with log_dir: `tune` records the folder, the dashboard shows each trial's log tail.
cat > train.sh <<'SH'
#!/bin/sh
echo "training with x=$1"
i=0
while [ $i -lt 70 ]; do echo "epoch $i"; i=$((i + 1)); done
echo "a <warning> on stderr" >&2
echo "objective: $1"
SH
chmod +x train.sh
cat > cmd.toml <<'TOML'
[study]
name = "cmd"
sampler = "random"
trials = 2
seed = 1
[objective]
command = ["./train.sh", "{x}"]
log_dir = "logs"
[space.x]
type = "float"
low = 0.0
high = 1.0
TOML
"$bin" tune cmd.toml --storage "sqlite:$work/runs.db" >/dev/null 2>tune.err || fail "tune of the command objective: $(cat tune.err)"
[ -f logs/trial-1.out ] || fail "the command objective kept no log in $work/logs"

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

curl -sf "${url}api/trial?study=cmd&number=1" >trial.json || fail "GET /api/trial of the command study failed"
/usr/bin/python3 - "$work" <<'PY' || fail "/api/trial has no log tail: $(head -c 600 trial.json)"
import json, sys
j = json.load(open('trial.json'))
out, err = j['log']['out'], j['log']['err']
assert out['path'] == sys.argv[1] + '/logs/trial-1.out', out
assert len(out['lines']) == 50 and out['truncated'], out
assert out['lines'][-1].startswith('objective: '), out['lines'][-1]
assert out['lines'][-2] == 'epoch 69', out['lines'][-2]
assert err['lines'] == ['a <warning> on stderr'], err
PY
echo "dashboard_cli_test: ok"
