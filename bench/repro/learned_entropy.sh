#!/usr/bin/env bash
# The entropy-bonus ablation of the `lstm` defaults' meta-training (issue 14): the same recipe as
# models/lstm-inc-d<d>.pt (REINFORCE, incumbent-centred proposals, the wide prior of Gaussian bumps,
# 4000 updates) with the entropy bonus at 0.01 (the trainer's default, the recipe until 2026-12-03)
# and at 0, with 1 and 8 rollouts per function; plus, at d = 6, the same pair on bumps 3x wider
# (0.15-0.6 per dimension), whose functions a 20-step search can improve on. Each run 2-6 minutes
# on one core; the validation history (64 held-out functions of the training prior, every 100
# updates) is in each model's card. Then bench/repro/learned_entropy.py writes the table and plot.
#   bench/repro/learned_entropy.sh [BUILD_DIR] [OUT_DIR]   (defaults build/release, build/entropy)
set -euo pipefail
BIN=${1:-build/release}/bin/metadial
OUT=${2:-build/entropy}
mkdir -p "$OUT"
inc="--proposal incumbent --lengthscale-min 0.05 --lengthscale-max 0.5 --anisotropy 3 --bumps 1 --bump-background 0.05"
base="--loss oi --horizon 20 --lr 5e-3 --validation 64 --seed 1 --threads 1"
common="$base --batch 64 --eval-every 100 --iterations 4000"
for d in 1 2 3 6; do
  for e in 0.01 0; do
    for r in 1 8; do
      f=$OUT/lstm-inc-d$d-e$e-r$r.pt
      [ -f "${f%.pt}.json" ] || $BIN meta-train optimizer --dims $d $common --rollouts $r --entropy $e $inc --out "$f"
    done
  done
done
# A middle weight (added 2026-12-03, second session): d = 2, 3 with 8 rollouts, d = 6 with 1 and 8.
for spec in 2:8 3:8 6:1 6:8; do
  d=${spec%%:*}; r=${spec#*:}
  f=$OUT/lstm-inc-d$d-e0.001-r$r.pt
  [ -f "${f%.pt}.json" ] || $BIN meta-train optimizer --dims $d $common --rollouts $r --entropy 0.001 $inc --out "$f"
done
# The same episodes in 4x larger batches (32 functions x 8 rollouts, 1000 updates), entropy 0: d = 3, 6.
for d in 3 6; do
  f=$OUT/lstm-inc-d$d-e0-r8-b256.pt
  [ -f "${f%.pt}.json" ] || $BIN meta-train optimizer --dims $d $base --batch 256 --eval-every 25 --iterations 1000 \
    --rollouts 8 --entropy 0 $inc --out "$f"
done
for e in 0.01 0; do
  f=$OUT/lstm-inc-wide-d6-e$e-r8.pt
  [ -f "${f%.pt}.json" ] || $BIN meta-train optimizer --dims 6 $common --rollouts 8 --entropy $e $inc \
    --bump-width-min 0.15 --bump-width-max 0.6 --out "$f"
done
/usr/bin/python3 "$(dirname "$0")/learned_entropy.py" "$OUT" bench/results/learned_entropy
