#!/usr/bin/env bash
# The main job measured against every method at equal cost (issue 15, "Measured"): tune the DQN
# dialogue policy of examples/dqn_restaurant.toml (sf_restaurant, env5, the space of seed 000) with
# each method for the same total cost (20 full evaluations: 10 seeds x 4000 training dialogues
# each), for several study seeds; retrain each study's best configuration, and the default one,
# on 10 fresh seeds at 2000 and at 4000 training dialogues; write a table of success and reward
# with 95 % intervals and a plot of the best value so far against cost.
#
#   bench/repro/main_job_compare.sh [--out bench/results/main_job] [--bin build/release/bin/metadial]
#       [--five "random tpe gp lstm-mf asha"] [--three "sobol lstm hyperband bohb"]
#       [--seeds5 "1 2 3 4 5"] [--seeds3 "1 2 3"] [--eval-seeds 10] [--eval-seed 1000]
#       [--dialogues "2000 4000"] [--threads 2] [--quick]
#
# Methods (every one spends max_cost = 20 target-fidelity evaluations):
#   random, sobol, tpe     the samplers of those names, 4000 dialogues per trial
#   gp                     GP-BO as in examples/dqn_restaurant_gp.toml (6 Sobol points first)
#   lstm                   the shipped default single-fidelity model for d = 3 (no `model` given)
#   lstm-mf                the main job (examples/dqn_restaurant.toml) with the shipped default
#                          model for d = 3 and 2 fidelities (no `model` given: models/lstm-mf-d3.pt
#                          today), choosing between 1000 dialogues (cost 0.25) and 4000 (cost 1)
#   asha, hyperband        random search whose trials report the mean greedy validation success
#                          every 500 dialogues (50 validation dialogues, free) and are stopped at
#                          the pruner's rungs (min_resource 1 report, reduction factor 3); a pruned
#                          trial costs the dialogues it ran / 4000
#   bohb                   sampler bohb with the hyperband pruner (HpBandSter's defaults)
#   default                no study: the default configuration, retrained like the others
#
# Resumable: every study lives in its own SQLite file under OUT/studies/; `metadial tune` on an
# existing study continues it to its budget, so a killed run loses at most the trial in flight.
# Each finished retraining appends its row to OUT/rows.csv at once and is skipped when the driver
# runs again. Stop it at any point (kill, end of session) and run the same command to continue.
# OUT/models.txt keeps the checksum of the model file each learned method ran with; a later run
# whose default model file differs is refused (it would continue those studies, and keep those
# rows, with another model): give a new --out.
# The table (OUT.md) and the plot (OUT.svg, if gnuplot is installed) are rewritten from whatever
# rows exist at the end of each run, with the number of study seeds each row has.
#
# --quick: a few dialogues, 2 seeds, cost 3: checks that every method runs end to end (bench/run_all.sh).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=bench/results/main_job
bin=$repo/build/release/bin/metadial
five="random tpe gp lstm-mf asha"
three="sobol lstm hyperband bohb"
seeds5="1 2 3 4 5"
seeds3="1 2 3"
eval_seeds=10
eval_seed=1000
dialogue_counts="2000 4000"
threads=2
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --five) five=$2; shift 2 ;;
    --three) three=$2; shift 2 ;;
    --seeds5) seeds5=$2; shift 2 ;;
    --seeds3) seeds3=$2; shift 2 ;;
    --eval-seeds) eval_seeds=$2; shift 2 ;;
    --eval-seed) eval_seed=$2; shift 2 ;;
    --dialogues) dialogue_counts=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) echo "main_job_compare: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "main_job_compare: no metadial program at '$bin' (build it, or give --bin)" >&2; exit 2; }

# Settings of a full run, and of --quick.
dialogues=4000 low=0.25 seeds=10 test=500 cost=20 every=500 validation=50
if [ "$quick" = 1 ]; then
  dialogues=40 seeds=2 test=20 cost=3 every=10 validation=10 eval_seeds=2
  dialogue_counts="20 40"
fi

mkdir -p "$out/configs" "$out/studies" "$out/logs"
rows=$out/rows.csv
[ -f "$rows" ] || echo "method,study_seed,dialogues,success,success_ci95,reward,reward_ci95,epsilon,h1,h2,best_trial,study_value,study_cost,eval_seeds,eval_seed" >"$rows"

# config METHOD: writes OUT/configs/METHOD.toml.
config() {
  local m=$1 sampler=$1 pruner="" sampler_table="" fidelities="" reports=""
  case "$m" in
    gp) sampler_table=$'[sampler]\nn_initial = 6' ;;
    lstm-mf) fidelities="fidelities = [$low, 1.0]" ;;  # the shipped default model for d = 3, 2 fidelities
    asha|hyperband) sampler=random; pruner=$m ;;
    bohb) pruner=hyperband ;;
  esac
  if [ -n "$pruner" ]; then
    reports="report_every = $every"$'\n'"validation_dialogues = $validation"
    pruner=$'[pruner]\n'"type = \"$pruner\""$'\nmin_resource = 1\nreduction_factor = 3'
  fi
  cat >"$out/configs/$m.toml" <<EOF
# Written by bench/repro/main_job_compare.sh: method $m at the cost of $cost full evaluations.
[study]
sampler = "$sampler"
trials = 1000          # an upper bound: the cost budget ends the study
max_cost = $cost
$sampler_table
$pruner

[objective]
function = "dqn-dialogue"
env = "env5"
domain = "sf_restaurant"
kb_entities = 271
dialogues = $dialogues
$fidelities
seeds = $seeds
threads = $threads
test_dialogues = $test
metric = "success"
$reports

[space.epsilon]
type = "float"
low = 0.1
high = 1.0

[space.h1]
type = "int"
low = 100
high = 500

[space.h2]
type = "int"
low = 30
high = 200
EOF
}

have_row() { grep -q "^$1,$2,$3," "$rows"; }

# compare METHOD SEED N: retrains the study's best (and the default) on fresh seeds at N dialogues.
compare() {
  local m=$1 s=$2 n=$3 db="$out/studies/$1-$2.db" json skip=()
  # The default configuration is retrained once (same fresh seeds for every study): its row is kept.
  have_row default 0 "$n" && skip=(--no-default)
  json=$("$bin" dialog compare "$out/configs/$m.toml" --storage "sqlite:$db" --study main --seeds "$eval_seeds" \
         --seed "$eval_seed" --dialogues "$n" --threads "$threads" "${skip[@]}" --json 2>>"$out/logs/$m-$s.log" | tail -1)
  /usr/bin/python3 - "$json" "$m" "$s" "$n" "$eval_seeds" "$eval_seed" >>"$rows" <<'PY'
import json, sys
j = json.loads(sys.argv[1]); m, s, n, es, e0 = sys.argv[2:]
def row(method, seed, side, best="", value="", cost=""):
    p = side["params"]
    print(",".join(str(x) for x in [method, seed, n, side["success_rate"], side["success_ci95"], side["avg_reward"],
          side["reward_ci95"], p["epsilon"], int(p["h1"]), int(p["h2"]), best, value, cost, es, e0]))
row(m, s, j["tuned"], j["best_trial"], j["study_value"], j["study_cost"])
PY
  if [ ${#skip[@]} -eq 0 ]; then
    /usr/bin/python3 -c '
import json, sys
j = json.loads(sys.argv[1]); d = j["default"]; p = d["params"]
print(",".join(str(x) for x in ["default", 0, sys.argv[2], d["success_rate"], d["success_ci95"], d["avg_reward"],
      d["reward_ci95"], p["epsilon"], int(p["h1"]), int(p["h2"]), "", "", "", sys.argv[3], sys.argv[4]]))' \
      "$json" "$n" "$eval_seeds" "$eval_seed" >>"$rows"
  fi
}

# check_model METHOD: the learned methods' default model file (the one default_model_path picks for
# d = 3 in $METADIAL_MODELS, else models/) must be the one OUT's studies and rows were made with.
check_model() {
  local m=$1 file sum old
  case "$m" in
    lstm) file=lstm-inc-d3.pt ;;
    lstm-mf) file=lstm-mf-d3.pt ;;
    *) return 0 ;;
  esac
  file=${METADIAL_MODELS:-models}/$file
  [ -f "$file" ] || { echo "main_job_compare: method $m: no model file '$file'" >&2; exit 2; }
  sum=$(sha256sum "$file" | cut -c1-16)
  old=
  [ -f "$out/models.txt" ] && old=$(awk -v m="$m" '$1 == m { print $2 }' "$out/models.txt" | tail -1)
  if [ -z "$old" ]; then
    echo "$m $sum $file" >>"$out/models.txt"
  elif [ "$old" != "$sum" ]; then
    echo "main_job_compare: $out/models.txt: method $m ran with a model of checksum $old, but '$file' is now $sum; give a new --out (or move $out/studies/$m-*.db and $m's rows of $rows away)" >&2
    exit 2
  fi
}

run_method() {
  local m=$1 s=$2 n done_all=1
  check_model "$m"
  for n in $dialogue_counts; do have_row "$m" "$s" "$n" || done_all=0; done
  [ "$done_all" = 1 ] && { echo "$m seed $s: done before"; return 0; }
  config "$m"
  local t0=$SECONDS
  # Continues the study if it exists (the budget is the study's, not this run's).
  "$bin" tune "$out/configs/$m.toml" --storage "sqlite:$out/studies/$m-$s.db" --study main --seed "$s" \
    >>"$out/logs/$m-$s.log" 2>&1
  for n in $dialogue_counts; do have_row "$m" "$s" "$n" || compare "$m" "$s" "$n"; done
  echo "$m seed $s: $((SECONDS - t0)) s"
}

for s in $seeds5; do for m in $five; do run_method "$m" "$s"; done; done
for s in $seeds3; do for m in $three; do run_method "$m" "$s"; done; done

/usr/bin/python3 "$repo/bench/repro/main_job_summary.py" --rows "$rows" --studies "$out/studies" --bin "$bin" \
  --out "$out" $([ "$quick" = 1 ] && echo --quick)
