#!/usr/bin/env bash
# Runs every micro-benchmark (bench_*) and every reproduction driver (repro_*) of a build, the
# drivers in a quick-check mode: the smallest settings that still run each one end to end (data
# loading, training, every method, writing its tables), in seconds rather than the minutes to
# hours of the full reproductions. It checks that they run, not their numbers: for the numbers,
# run a driver with the settings its bench/results/<name>.md records.
#
#   bench/run_all.sh [BUILD_DIR]        (default build/release; `make bench` builds it first)
#
# Environment:
#   BENCH_MIN_TIME  --benchmark_min_time of the micro-benchmarks, seconds (default 0.05)
#   BENCH_ONLY      run only the programs whose name matches this extended regex
#   BENCH_TIMEOUT   seconds after which one program counts as failed (default 300)
#   METADIAL_DATA   the data folder (core/data.h; default here: ../shared/data if present)
#
# Nothing is written over the checked-in results: each driver runs in a scratch copy of the
# repository layout, bench/results/quick/root (git-ignored; examples, models and data are
# symbolic links to the real ones, ../shared/data to the data folder), with its outputs under
# bench/results/quick/root/bench/results and its log in bench/results/quick/logs/<name>.log.
# A driver whose data set is missing is skipped, not failed. Exit status: 1 if any program
# failed or is missing, else 0; a table with each program's status and wall time comes last.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$repo" && cd "${1:-build/release}" 2>/dev/null && pwd) || { echo "run_all: no build folder ${1:-build/release} (run make build)"; exit 1; }
bin="$build/bench"
quick="$repo/bench/results/quick"
min_time=${BENCH_MIN_TIME:-0.05}
only=${BENCH_ONLY:-}
limit=${BENCH_TIMEOUT:-300}

# The data folder (core/data.h): $METADIAL_DATA, else ../shared/data next to the repository, else
# the default ~/.local/share/metadial. Drivers that still read ../shared/data find it through root/.
if [ -z "${METADIAL_DATA:-}" ]; then
  if [ -d "$repo/../shared/data" ]; then METADIAL_DATA=$(cd "$repo/../shared/data" && pwd)
  else METADIAL_DATA=${XDG_DATA_HOME:-$HOME/.local/share}/metadial; fi
fi
export METADIAL_DATA

rm -rf "$quick"
mkdir -p "$quick/logs" "$quick/root/bench/results" "$quick/shared"
for d in examples models data; do ln -s "$repo/$d" "$quick/root/$d"; done
ln -s "$METADIAL_DATA" "$quick/shared/data"   # ../shared/data as seen from root/
out=bench/results   # relative to root/

# program[:variant] | data set it needs (in the data folder; "" = none) | quick-check arguments
drivers=(
  "repro_dialog_rule||20 0"
  "repro_sampler_regret||--seeds 1 --threads 2 --out $out"
  "repro_dqn_dialog||--envs env1 --seeds 1 --dialogues 100 --every 50 --test-dialogues 20 --threads 2 --timing 0 --out $out"
  "repro_lstm_dialog||--trials 2 --seeds 1 --dialogues 100 --low-dialogues 50 --every 50 --test-dialogues 20 --eval-seeds 1 --threads 2 --out $out"
  "repro_learned_runtime||--dims 1 --steps 10 --out $out"
  "repro_learned_regret||--dims 1 --functions 2 --seeds 1 --named branin --threads 2 --out $out"
  "repro_learned_mf_cost||--dims 1 --functions 2 --seeds 1 --named branin_mf --threads 2 --out $out"
  "repro_learned_open_loop||--dims 1 --functions 2 --sets 1 --out $out"
  "repro_learned_transfer||--dims 2 --named branin --functions 2 --seeds 1 --steps 5 --out $out"
  "repro_learned_prior||--functions 5 --dims 1 2 --out $out"
  "repro_trial_overhead||--storages memory,sqlite --n 50,200 --dir $out --csv $out/trial_overhead.csv"
  "repro_trial_overhead:postgres||--storages postgres --n 20,50 --csv $out/trial_overhead_postgres.csv"
  "repro_mf_schedulers||--seeds 1 --budget 3 --out $out"
  "repro_tpe_peer||--seeds 1 --out $out/tpe_peer_metadial.csv"
  "repro_storage_workers||--workers 1,2 --trials 40 --gp-workers 2 --gp-prefill 10 --gp-trials 13 --dir $out --out $out/storage_workers"
  "repro_hyprl_svm|hpo-metadata/svm|--folds 5 --max-folds 1 --seeds 1 --trials 5 --episodes 20 --threads 1 --out $out"
  "repro_e2e_dst_simm|simulated-dialogue/sim-M|--epochs 1 --small --out $out"
  "repro_e2e_interactive||--train 20 --sl-epochs 1 --il-a 5 --il-b 10 --rl 20 --eval 10 --eval-every 10"
  "repro_user_profiles_simm|simulated-dialogue/sim-M|--dialogues 50 --out $out/user_profiles_simm"
  "repro_transfer_weight_drift|mnist-t10k|--variants base --seeds 1 --iterations 100 --record 100 --threads 1 --out $out"
  "repro_memn2n_babi|babi-dialog|--tasks 1 --epochs 1:1 --threads 1 --out $out"
  "repro_transfer_dialog|personalized-dialog|--task 1 --settings 50 --rows 0,4 --seeds 1 --iterations 20 --eval-every 10 --related-dialogs 50 --test-dialogs 50 --threads 2 --out $out"
  "repro_transfer_noisy_images|mnist-t10k|--data mnist --corruption shift --seeds 1 --iterations 20 --only ones learned --threads 2 --out $out"
  "repro_online_controller|mnist-t10k|--seeds 1 --steps 50 --interval 25 --meta-runs 1 --search 1 --datasets mnist --out $out"
  "repro_online_controller:dqn||--target dqn_dialog --seeds 1 --steps 20 --interval 10 --meta-runs 1 --search 1 --datasets env1 --out $out"
)

names=() statuses=() times=()
failed=0
record() { names+=("$1"); statuses+=("$2"); times+=("$3"); [[ "$2" == FAIL* || "$2" == MISSING ]] && failed=1; return 0; }

# run NAME CMD...: runs in root/, logs to logs/NAME.log, records status and wall time.
run() {
  local name=$1; shift
  local log="$quick/logs/${name//:/-}.log" t0 t1 rc
  printf '%-30s ' "$name"
  t0=$(date +%s.%N)
  (cd "$quick/root" && timeout "$limit" "$@") >"$log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  if [ $rc -eq 0 ]; then
    record "$name" ok "$secs"; echo "ok    ${secs} s"
  else
    [ $rc -eq 124 ] && rc="timeout ${limit} s"
    record "$name" "FAIL ($rc)" "$secs"; echo "FAIL  ${secs} s ($rc; log: ${log#$repo/})"
    tail -5 "$log" | sed 's/^/    /'
  fi
}

wanted() { [ -z "$only" ] || [[ "$1" =~ $only ]]; }

# Every bench_* of the build, whatever its name.
shopt -s nullglob
benches=("$bin"/bench_*)
shopt -u nullglob
[ ${#benches[@]} -gt 0 ] || { echo "run_all: no bench_* programs in $bin"; failed=1; }
for b in "${benches[@]}"; do
  [ -x "$b" ] || continue
  name=$(basename "$b")
  wanted "$name" || continue
  run "$name" "$b" --benchmark_min_time="$min_time" --benchmark_out="$quick/$name.json" --benchmark_out_format=json
done

# Every repro_* must have a quick-check line above: a new driver without one fails here.
declare -A listed=()
for entry in "${drivers[@]}"; do p=${entry%%|*}; listed[${p%%:*}]=1; done
for p in "$bin"/repro_*; do
  [ -x "$p" ] || continue
  name=$(basename "$p")
  wanted "$name" || continue
  if [ -z "${listed[$name]:-}" ]; then
    echo "run_all: $name has no quick-check settings in bench/run_all.sh"; record "$name" MISSING 0
  fi
done

for entry in "${drivers[@]}"; do
  IFS='|' read -r name needs args <<<"$entry"
  prog=${name%%:*}
  wanted "$name" || continue
  if [ ! -x "$bin/$prog" ]; then
    echo "run_all: $bin/$prog is not built"; record "$name" MISSING 0; continue
  fi
  if [ -n "$needs" ] && [ ! -e "$METADIAL_DATA/$needs" ]; then
    printf '%-30s skipped (no %s)\n' "$name" "$METADIAL_DATA/$needs"; record "$name" "skipped (no data)" 0; continue
  fi
  # shellcheck disable=SC2086  # the arguments are words
  run "$name" "$bin/$prog" $args
done

# Drivers written as scripts over the metadial program (bench/repro/*.sh), in their quick mode.
if wanted main_job_compare; then
  run main_job_compare "$repo/bench/repro/main_job_compare.sh" --quick --seeds5 1 --seeds3 1 \
    --bin "$build/bin/metadial" --out "$out/main_job"
fi

echo
printf '%-30s %-22s %9s\n' program status "wall (s)"
printf '%-30s %-22s %9s\n' ------- ------ --------
total=0
for i in "${!names[@]}"; do
  printf '%-30s %-22s %9s\n' "${names[$i]}" "${statuses[$i]}" "${times[$i]}"
  total=$(awk -v a="$total" -v b="${times[$i]}" 'BEGIN { printf "%.1f", a + b }')
done
printf '%-30s %-22s %9s\n' total "" "$total"
echo "outputs: ${quick#$repo/}/root/bench/results, logs: ${quick#$repo/}/logs"
exit $failed
