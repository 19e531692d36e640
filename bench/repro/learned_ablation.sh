#!/usr/bin/env bash
# Issue 14, part 1: which causes explain why the learned LSTM samplers do not transfer? Trains d = 3
# REINFORCE models that differ in one lever each, for the same 2000 updates (batch 64, loss oi,
# horizon 20, seed 1; ~6 min each on one core), and measures them with repro_learned_transfer on the
# frozen benchmarks (Branin/Currin are d = 2 and have no d = 3 model, so the table reads d = 3:
# Hartmann-3 and the frozen GP-prior functions of d = 3), 20 seeds, 50 trials:
#   A  the shipped recipe (absolute proposals, the GP prior of the paper's notebooks), but 2000 updates
#   B  A with incumbent-centred proposals (--proposal incumbent)
#   C  A with the wider prior (short lengthscales, anisotropy, Gaussian-bump family)
#   D  B and C together
#   E  D with horizon 50
#   F  D with hidden 128
#   G  D with every function of the bumps family (--bumps 1: minimizers away from the faces)
#   H  D trained by the pathwise gradient (--method gradient, sampled proposals; 1000 updates, lr 3e-3)
#   I  G with a faint GP background under the bumps (--bump-background 0.05; G: 0.3)
#   bench/repro/learned_ablation.sh [BUILD_DIR] [MODEL_DIR]   (defaults build/release, /tmp/learned-ablation)
# Two trainings run at a time; a model already in MODEL_DIR is not retrained (delete it to redo).
# Writes bench/results/learned_ablation.{md,csv,svg,...}; the diagnosis that motivated C, D and G
# (where the priors' minima lie) is build/release/bench/repro_learned_prior (learned_prior.md).
set -euo pipefail
BUILD=${1:-build/release}
DIR=${2:-/tmp/learned-ablation}
BIN=$BUILD/bin/metadial
mkdir -p "$DIR"
common="meta-train optimizer --dims 3 --loss oi --seed 1 --batch 64 --eval-every 100 --validation 64 --threads 1"
rl="--iterations 2000 --lr 5e-3"   # REINFORCE
wide="--lengthscale-min 0.05 --lengthscale-max 0.5 --anisotropy 3 --bumps 0.5"
train() {  # NAME FLAGS...
  local name=$1; shift
  [ -f "$DIR/$name-d3.pt" ] && [ -f "$DIR/$name-d3.json" ] && return 0
  $BIN $common "$@" --out "$DIR/$name-d3.pt" > "$DIR/$name.log" 2>&1
}
( train A $rl --horizon 20 --proposal absolute; train C $rl --horizon 20 --proposal absolute $wide; train E $rl --horizon 50 --proposal incumbent $wide
  train G $rl --horizon 20 --proposal incumbent --lengthscale-min 0.05 --lengthscale-max 0.5 --anisotropy 3 --bumps 1
  train I $rl --horizon 20 --proposal incumbent --lengthscale-min 0.05 --lengthscale-max 0.5 --anisotropy 3 --bumps 1 \
    --bump-background 0.05 ) &
( train B $rl --horizon 20 --proposal incumbent; train D $rl --horizon 20 --proposal incumbent $wide; train F $rl --horizon 20 --proposal incumbent $wide --hidden 128
  train H --horizon 20 --proposal incumbent $wide --method gradient --iterations 1000 --lr 3e-3 ) &
wait
extra=()
for n in A B C D E F G H I; do extra+=(--extra "$n=$DIR/$n-d{d}.pt"); done
"$BUILD/bench/repro_learned_transfer" --name learned_ablation --dims 3 --named hartmann3 --seeds 20 --functions 100 \
  --steps 50 --only random GP-BO LSTM A B C D E F G H I "${extra[@]}"
