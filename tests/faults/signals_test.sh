#!/usr/bin/env bash
# Ctrl-C, SIGTERM and SIGHUP to `metadial tune` (issue 21, item 3). Two trials of a command
# objective are running (each program leaves a background child in its process group); then:
#  1-3. one SIGINT / SIGTERM / SIGHUP: exit 130 / 143 / 129, no process of the trials left (they
#       used to keep running with parent 1), both trials stored as failed "interrupted by SIG...",
#       none left running, the summary printed. For SIGHUP the programs ignore SIGTERM: they get
#       SIGKILL after the grace period;
#  4.   SIGINT twice, programs that ignore SIGTERM: exit 130 at once (no summary, no waiting for
#       the grace period), no process of the trials left.
# Arguments: the metadial binary, the source folder, the build folder.
set -euo pipefail
set -m  # background jobs in their own process groups, with SIGINT not ignored (as in a terminal)
bin=$(realpath "$1")
work=$(mktemp -d)
tune_pid=
cleanup() {
  set +e
  [ -n "$tune_pid" ] && kill -9 "$tune_pid" 2>/dev/null
  # After a failure: trial processes still alive, recognized by their working folder (a pid alone
  # may have been reused).
  local p
  for p in $(cat "$work"/*/pids/* 2>/dev/null); do
    case "$(readlink "/proc/$p/cwd" 2>/dev/null)" in
      "$work"/*) kill -9 "$p" 2>/dev/null ;;
    esac
  done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }

# alive PID: a live process (not a zombie waiting for a reaper) has this pid
alive() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

now_ms() { date +%s%3N; }

# start CASE SCRIPT: a study of 10 trials, 2 at a time, in folder CASE; returns when both
# running programs have written "PID CHILD_PID" to CASE/pids/<trial number>.
start() {
  mkdir -p "$1/pids"
  cp "$2" "$1/prog.sh"
  cat > "$1/study.toml" <<'TOML'
[study]
sampler = "random"
trials = 10
jobs = 2
max_consecutive_failures = 100
[objective]
command = ["./prog.sh", "{x}"]
[space.x]
type = "float"
low = 0.0
high = 1.0
TOML
  "$bin" tune "$1/study.toml" --storage "sqlite:$1/db" --study s > "$1/out" 2>&1 &
  tune_pid=$!
  for _ in $(seq 200); do
    [ "$(cat "$1"/pids/* 2>/dev/null | wc -w)" -ge 4 ] && return 0
    sleep 0.1
  done
  fail "$1: two trials did not start within 20 s: $(cat "$1/out")"
}

# finish CASE: waits (at most 15 s) for tune to exit; sets rc to its exit status
finish() {
  for _ in $(seq 150); do
    alive "$tune_pid" || break
    sleep 0.1
  done
  alive "$tune_pid" && fail "$1: metadial still runs 15 s after the signal"
  rc=0
  wait "$tune_pid" || rc=$?
  tune_pid=
}

# no_leftovers CASE: every trial program and its background child are gone (within 2 s)
no_leftovers() {
  local a b
  for _ in $(seq 20); do
    local left=0
    while read -r a b; do
      if alive "$a" || alive "$b"; then left=1; fi
    done < <(cat "$1"/pids/*)
    [ "$left" -eq 0 ] && return 0
    sleep 0.1
  done
  fail "$1: trial processes left running: $(cat "$1"/pids/* | tr '\n' ' ')"
}

cat > term.sh <<'SH'
#!/bin/sh
sleep 30 &
echo "$$ $!" > "pids/$METADIAL_TRIAL_NUMBER"
wait
echo "objective: $1"
SH
cat > stubborn.sh <<'SH'
#!/bin/sh
trap '' TERM
sleep 30 &
echo "$$ $!" > "pids/$METADIAL_TRIAL_NUMBER"
wait
echo "objective: $1"
SH
chmod +x term.sh stubborn.sh

# --- 1-3. one signal -------------------------------------------------------------------------
for case in "INT 130 term.sh" "TERM 143 term.sh" "HUP 129 stubborn.sh"; do
  read -r sig code prog <<< "$case"
  start "$sig" "$prog"
  t0=$(now_ms)
  kill -"$sig" "$tune_pid"
  finish "$sig"
  t1=$(now_ms)
  [ "$rc" -eq "$code" ] || fail "SIG$sig: exit status $rc, expected $code: $(cat "$sig/out")"
  no_leftovers "$sig"
  csv=$("$bin" trials --storage "sqlite:$sig/db" --study s --csv)
  running=$(grep -c '^[0-9]*,running,' <<< "$csv" || true)
  interrupted=$(grep -c "^[0-9]*,failed,.*interrupted by SIG$sig" <<< "$csv" || true)
  [ "$running" -eq 0 ] || fail "SIG$sig: $running trials left running: $csv"
  [ "$interrupted" -ge 2 ] || fail "SIG$sig: $interrupted trials failed as interrupted (expected the 2 running): $csv"
  grep -q "interrupted by SIG$sig" "$sig/out" || fail "SIG$sig: no summary: $(cat "$sig/out")"
  echo "ok SIG$sig: exit $rc after $((t1 - t0)) ms, no trial process left, $interrupted trials failed as interrupted"
done

# --- 4. a second Ctrl-C exits at once ----------------------------------------------------------
start INT2 stubborn.sh
t0=$(now_ms)
kill -INT "$tune_pid"
sleep 0.3
kill -INT "$tune_pid"
finish INT2
t1=$(now_ms)
[ "$rc" -eq 130 ] || fail "second SIGINT: exit status $rc, expected 130: $(cat INT2/out)"
# Exited from the signal handler: no summary (that would come after the 3 s grace period).
grep -q "stopped" INT2/out && fail "second SIGINT: the run went on to its summary: $(cat INT2/out)"
no_leftovers INT2
echo "ok second SIGINT: exit $rc after $((t1 - t0)) ms, no trial process left"
