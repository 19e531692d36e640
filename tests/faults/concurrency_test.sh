#!/usr/bin/env bash
# Many workers on one SQLite study keep its promises (issue 21, items 1 and 2):
#  1. six `metadial tune` processes with --trials N end with exactly N complete trials (each
#     process used to count the study once at start and then only its own trials: 6 x N);
#  2. the same with a slow command objective while two of the six are killed with kill -9: their
#     trials' programs die with them (no orphan), the survivors fail the dead workers' trials while
#     they run (not only a later `tune`), replace them, and the study still ends with exactly N
#     complete trials, none left running, numbers gap-free;
#  3. the study-wide cost budget (max_cost) holds across processes the same way.
# Arguments: the metadial binary, the source folder, the build folder.
set -euo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }

# count STATE DB STUDY: trials of that state
count() {
  "$bin" trials --storage "sqlite:$2" --study "$3" --csv | awk -F, -v s="$1" 'NR > 1 && $2 == s' | wc -l
}
check_numbers() {  # numbers 0..n-1, each once
  "$bin" trials --storage "sqlite:$1" --study "$2" --csv |
    awk -F, 'NR > 1 { if ($1 != NR - 2) bad = 1; n++ } END { exit bad }' || fail "trial numbers of $2 are not gap-free"
}

# --- 1. six processes, a fast built-in objective -------------------------------------------
cat > fast.toml <<'TOML'
[study]
sampler = "random"
trials = 120
[objective]
function = "branin"
TOML
for i in 1 2 3 4 5 6; do
  "$bin" tune fast.toml --storage sqlite:conc.db --study fast --seed "$i" --jobs 2 > "fast$i.out" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a tune process failed: $(cat fast*.out)"; done
pids=()
n=$(count complete conc.db fast)
[ "$n" -eq 120 ] || fail "six processes with --trials 120 made $n complete trials"
check_numbers conc.db fast
echo "ok 1: six processes, --trials 120 -> $n complete"

# --- 2. kill -9 two of six workers of a slow objective ---------------------------------------
# The two workers to be killed run with VICTIM set: their trials' programs never finish, so each
# is surely inside a running trial when it is killed (waiting for "some trial started" raced: on
# a busy machine a worker could be between two trials at the kill, leaving nothing to fail).
cat > slow.sh <<'SH'
#!/bin/sh
echo "$PPID $$" >> programs.log
if [ -n "${VICTIM:-}" ]; then
  echo "$PPID" >> hung.log
  exec sleep 60
fi
sleep 0.3
echo "objective: $1"
SH
chmod +x slow.sh
cat > slow.toml <<'TOML'
[study]
sampler = "random"
trials = 40
heartbeat_interval_s = 0.2
heartbeat_timeout_s = 5
max_consecutive_failures = 100
[objective]
command = ["./slow.sh", "{x}"]
[space.x]
type = "float"
low = 0.0
high = 1.0
TOML
for i in 1 2 3 4 5 6; do
  if [ "$i" -le 2 ]; then
    VICTIM=1 "$bin" tune slow.toml --storage sqlite:conc.db --study slow --seed "$i" > "slow$i.out" 2>&1 &
  else
    "$bin" tune slow.toml --storage sqlite:conc.db --study slow --seed "$i" > "slow$i.out" 2>&1 &
  fi
  pids+=($!)
done
# Kill the two victims once each has a trial running (its program has started and waits).
hung=0
for _ in $(seq 1 600); do
  if grep -qx "${pids[0]}" hung.log 2>/dev/null && grep -qx "${pids[1]}" hung.log 2>/dev/null; then hung=1; break; fi
  sleep 0.05
done
[ "$hung" -eq 1 ] || fail "the two victim workers did not start a trial within 30 s: $(cat slow1.out slow2.out)"
kill -9 "${pids[0]}" "${pids[1]}"
wait "${pids[0]}" "${pids[1]}" 2>/dev/null || true
# The killed workers' programs die with them (PR_SET_PDEATHSIG), instead of running on as orphans.
sleep 0.1
for killed in "${pids[0]}" "${pids[1]}"; do
  for program in $(awk -v w="$killed" '$1 == w { print $2 }' programs.log); do
    # A killed program may linger as a zombie until init reaps it: dead all the same.
    state=$(awk '{ print $3 }' "/proc/$program/stat" 2>/dev/null || true)
    if [ -n "$state" ] && [ "$state" != Z ]; then fail "program $program of killed worker $killed is still running"; fi
  done
done
for p in "${pids[@]:2}"; do wait "$p" || fail "a surviving tune process failed: $(cat slow*.out)"; done
pids=()
complete=$(count complete conc.db slow)
running=$(count running conc.db slow)
died=$("$bin" trials --storage sqlite:conc.db --study slow --csv | grep -c "died while running" || true)
[ "$complete" -eq 40 ] || fail "after kill -9 of two workers: $complete complete trials, expected 40"
[ "$running" -eq 0 ] || fail "after the survivors finished, $running trials are still 'running'"
[ "$died" -eq 2 ] || fail "the two killed workers' trials were not failed as 'died' ($died, expected 2)"
check_numbers conc.db slow
echo "ok 2: kill -9 of 2 of 6 workers -> $complete complete, $died failed as died, 0 running"

# --- 3. the cost budget across processes ------------------------------------------------------
cat > cost.toml <<'TOML'
[study]
sampler = "random"
trials = 0
max_cost = 30
[objective]
function = "branin"
TOML
for i in 1 2 3 4; do
  "$bin" tune cost.toml --storage sqlite:conc.db --study cost --seed "$i" --jobs 2 > "cost$i.out" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a tune process failed: $(cat cost*.out)"; done
pids=()
total=$("$bin" trials --storage sqlite:conc.db --study cost --csv | awk -F, 'NR > 1' | wc -l)
# Each branin trial costs 1; at most the 8 trials running when the budget was reached add theirs.
[ "$total" -ge 30 ] && [ "$total" -le 38 ] || fail "max_cost 30 across 4 processes ran $total trials"
echo "ok 3: max_cost 30 across four processes -> $total trials"
