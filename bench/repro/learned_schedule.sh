#!/usr/bin/env bash
# Issue 14: candidates for the d = 3 `lstm` default, each one change from the recipe of the default they replace
# (bumps 0.15-0.6 wide, incumbent-centred proposals, entropy 0, 8 rollouts, lr 5e-3, batch 64, 4000 updates, seed 1):
#   c1-hidden128  128 hidden units        c2-iter8000  8000 updates         c3-seed2  training seed 2 (spread only)
#   c4-iter16000  16000 updates           c5-cos8000   8000 updates, learning rate cosine-decayed to 0 (--lr-final 0)
#   c6-cos4000    4000 updates, cosine-decayed to 0
# Each kept checkpoint is then evaluated, untrained (--iterations 0), on the old prior's (bumps 0.05-0.4) 64
# validation functions; c3 also on seed 1's validation functions. 3-16 min per run on one core (two at a time:
# at a time). Then d2-cos8000 and d6-cos8000: c5's change on the d = 2 and d = 6 defaults. c5 is the shipped models/lstm-inc-d3.pt (chosen by the rule in bench/results/learned_schedule.md).
# Then (fourth session of 2026-12-03, section `more`) c7/c8: training seeds 2 and 3 of c5's recipe, each kept
# checkpoint also on seed 1's validation functions; c9: c5's recipe for 16000 updates.
#   bench/repro/learned_schedule.sh [BUILD_DIR] [OUT_DIR] [SECTION]   (defaults build/release, build/s3, all;
#   SECTION = more runs only that section, stable only the fifth session's: c10 Adam 2e-3, c11 batches of 128,
#   mfinc-d3 c5's recipe with two fidelities; ppo: c12/c13 PPO's clipped objective at Adam 5e-3 and 2e-3; mf:
#   mfinc-e1-d3, mfinc-d3 with the entropy bonus 0.01; mf26: the same change at d = 2 and 6; perfn (sixth
#   session): c14 = c5 with each function's advantages scaled by their own sd (--advantage-per-function), c15 the
#   same at training seed 2, c16 at training seed 3; perfn12: the same change on the d = 1 and d = 2 defaults;
#   perfloor: c17 (d = 3) and d2-perfloor with each function's sd floored at the batch's)
set -euo pipefail
BIN=${1:-build/release}/bin/metadial
OUT=${2:-build/s3}
mkdir -p "$OUT"
inc="--proposal incumbent --lengthscale-min 0.05 --lengthscale-max 0.5 --anisotropy 3 --bumps 1 --bump-background 0.05"
common="--dims 3 --loss oi --horizon 20 --batch 64 --eval-every 100 --validation 64 --threads 1 --entropy 0 --lr 5e-3 --rollouts 8"
mid="--bump-width-min 0.15 --bump-width-max 0.6"
run() { local f=$1; shift; [ -f "${f%.pt}.json" ] || $BIN meta-train optimizer "$@" --out "$f"; }
candidate() {  # NAME HIDDEN SEED ITERATIONS [more flags]
  local c=$1 h=$2 s=$3 it=$4; shift 4
  run "$OUT/$c.pt" $common --hidden "$h" --seed "$s" --iterations "$it" $inc $mid "$@"
  run "$OUT/old-$c.pt" $common --hidden "$h" --seed 1 --iterations 0 $inc --init "$OUT/$c.pt"
  if [ "$s" != 1 ]; then run "$OUT/mid-$c.pt" $common --hidden "$h" --seed 1 --iterations 0 $inc $mid --init "$OUT/$c.pt"; fi
}
more() {
  run "$OUT/old-shipped.pt" $common --seed 1 --iterations 0 $inc --init models/lstm-inc-d3.pt  # c5 on the old prior
  candidate c7-cos8000-seed2 64 2 8000 --lr-final 0 &
  candidate c8-cos8000-seed3 64 3 8000 --lr-final 0 &
  wait
  candidate c9-cos16000 64 1 16000 --lr-final 0
}
stable() {
  # Fifth session of 2026-12-03 (section `stable`): c10 = c5 at Adam 2e-3, c11 = c5 with batches of 128 (16
  # functions x 8 rollouts); mfinc-d3 = c5's recipe with the main job's two fidelities (budget 100), its kept
  # checkpoint also on the shipped LSTM-MF model's prior (GP, lengthscales 0.1-0.4, no bumps).
  local mf="--fidelities 2 --budget 100 --lambda 0.9 --low-correlation 0.8"
  run "$OUT/old-shipped.pt" $common --seed 1 --iterations 0 $inc --init models/lstm-inc-d3.pt  # as in `more`
  (common=${common/--lr 5e-3/--lr 2e-3}; candidate c10-lr2e-3 64 1 8000 --lr-final 0) &
  { run "$OUT/mfinc-d3.pt" $common --seed 1 --iterations 8000 --lr-final 0 $inc $mid $mf
    run "$OUT/old-mfinc-d3.pt" $common --seed 1 --iterations 0 --proposal incumbent $mf --init "$OUT/mfinc-d3.pt"; } &
  wait
  (common=${common/--batch 64/--batch 128}; candidate c11-batch128 64 1 8000 --lr-final 0)
}
ppo() {
  # Then PPO's clipped objective (--ppo-epochs 4: four updates per batch, ratios clipped to 1 +- 0.2) on c5's
  # recipe at Adam 5e-3 (c12) and 2e-3 (c13).
  candidate c12-ppo4 64 1 8000 --lr-final 0 --ppo-epochs 4 &
  (common=${common/--lr 5e-3/--lr 2e-3}; candidate c13-ppo4-lr2e-3 64 1 8000 --lr-final 0 --ppo-epochs 4) &
  wait
}
perfn() {
  run "$OUT/old-shipped.pt" $common --seed 1 --iterations 0 $inc --init models/lstm-inc-d3.pt  # as in `more`
  # c7 (section `more`, c5's recipe at seed 2), the comparison for c15: its cards, if that run folder is here.
  for x in c7-cos8000-seed2 mid-c7-cos8000-seed2 c8-cos8000-seed3 mid-c8-cos8000-seed3; do [ -f "$OUT/$x.json" ] || cp "build/s3/$x.json" "$OUT/" 2>/dev/null || true; done
  candidate c14-perfn 64 1 8000 --lr-final 0 --advantage-per-function &
  candidate c15-perfn-seed2 64 2 8000 --lr-final 0 --advantage-per-function &
  wait
  candidate c16-perfn-seed3 64 3 8000 --lr-final 0 --advantage-per-function
  # After the choice, as information: each kept checkpoint on 256 fresh functions (seed 11) of the training prior.
  local m
  for m in models/lstm-inc-d3 "$OUT/c14-perfn" "$OUT/c15-perfn-seed2" build/s3/c7-cos8000-seed2 "$OUT/c16-perfn-seed3" \
    build/s3/c8-cos8000-seed3; do
    [ -f "$m.pt" ] || continue
    run "$OUT/v256-$(basename "$m").pt" ${common/--validation 64/--validation 256} --seed 11 --iterations 0 $inc $mid --init "$m.pt"
  done
}
# small_default D ENTROPY: the command of models/lstm-inc-dD.pt (its card: seed 1, 4000 updates, 8 rollouts), d = 1, 2.
small_default() {
  echo "--dims $1 --loss oi --horizon 20 --lr 5e-3 --batch 64 --rollouts 8 --entropy $2 --eval-every 100 --validation 64" \
    "--seed 1 --iterations 4000 --threads 1 $inc"
}
perfn12() {
  # The same change on the d = 1 and d = 2 defaults' own recipes.
  run "$OUT/d1-perfn.pt" $(small_default 1 0.01) --advantage-per-function &
  run "$OUT/d2-perfn.pt" $(small_default 2 0) --advantage-per-function &
  wait
}
perfloor() {
  # Per-function advantages with each function's sd floored at the batch's (--advantage-sd-floor 1): on the d = 2
  # default's command and on c5's recipe (d = 3, seed 1).
  local f="--advantage-per-function --advantage-sd-floor 1"
  run "$OUT/d2-perfloor.pt" $(small_default 2 0) $f &
  candidate c17-perfloor 64 1 8000 --lr-final 0 $f &
  wait
}
# v256 D BASE_FLAGS WIDE_PRIOR_FLAGS: the two-fidelity candidate $OUT/mfinc-e1-dD.pt and the model it would replace,
# models/lstm-mf-dD.pt of commit 859f1a0 ($OUT/mf-dD-859f1a0.pt), untrained, on 256 fresh functions (seed 11) of the
# latter's prior (GP, lengthscales 0.1-0.4: v256-old-*) and of the candidate's (v256-new-*).
v256() {
  local d=$1 base=$2 wide=$3 prev="$OUT/mf-d$1-859f1a0.pt" cand="$OUT/mfinc-e1-d$1.pt"
  local v="$base --validation 256 --seed 11 --iterations 0 --fidelities 2 --budget 100 --lambda 0.9 --low-correlation 0.8"
  run "$OUT/v256-old-mfinc-e1-d$d.pt" $v --proposal incumbent --init "$cand"
  run "$OUT/v256-old-mf-d$d-859f1a0.pt" $v --init "$prev"
  run "$OUT/v256-new-mfinc-e1-d$d.pt" $v --proposal incumbent $wide --init "$cand"
  run "$OUT/v256-new-mf-d$d-859f1a0.pt" $v $wide --init "$prev"
}
pin_mf() {  # D: models/lstm-mf-dD of commit 859f1a0, the model each two-fidelity candidate is measured against
  for x in pt json; do [ -f "$OUT/mf-d$1-859f1a0.$x" ] || git show 859f1a0:models/lstm-mf-d$1.$x > "$OUT/mf-d$1-859f1a0.$x"; done
}
mf() {
  # mfinc-d3's fidelity choice collapsed (cost 92 from update 900 on): the same with the shipped LSTM-MF model's
  # entropy bonus 0.01 (mfinc-e1-d3; shipped as models/lstm-mf-d3.pt in the fifth session), scored first on the
  # previous model's 64 validation functions, then by v256.
  local mf="--fidelities 2 --budget 100 --lambda 0.9 --low-correlation 0.8" wide=${inc/--proposal incumbent/}
  pin_mf 3
  run "$OUT/mfinc-e1-d3.pt" ${common/--entropy 0/--entropy 0.01} --seed 1 --iterations 8000 --lr-final 0 $inc $mid $mf
  run "$OUT/old-mfinc-e1-d3.pt" $common --seed 1 --iterations 0 --proposal incumbent $mf --init "$OUT/mfinc-e1-d3.pt"
  # Informative (no rule): the previous model on the candidates' prior (bumps 0.15-0.6).
  run "$OUT/new-shipped-mf-d3.pt" ${common/--entropy 0/--entropy 0.01} --seed 1 --iterations 0 $wide $mid $mf \
    --init "$OUT/mf-d3-859f1a0.pt"
  v256 3 "${common/--validation 64/}" "$wide $mid"
}
mf26() {
  # The shipped d = 3 change at d = 2 and 6: each d's single-fidelity default recipe (lstm-inc-d2: 8 rollouts;
  # lstm-inc-d6: 1 rollout; 4000 updates, bumps 0.05-0.4) with the entropy bonus 0.01 and two fidelities, scored by v256.
  local mf="--fidelities 2 --budget 100 --lambda 0.9 --low-correlation 0.8" d base
  for spec in 2:8 6:1; do
    d=${spec%%:*}
    pin_mf $d
    base="--dims $d --loss oi --horizon 20 --lr 5e-3 --batch 64 --rollouts ${spec#*:} --entropy 0.01 --eval-every 100 --threads 1"
    { run "$OUT/mfinc-e1-d$d.pt" $base --validation 64 --seed 1 --iterations 4000 $inc $mf
      v256 $d "$base" "${inc/--proposal incumbent/}"; } &
  done
  wait
}
if [ "${3:-all}" = more ]; then more; exit 0; fi
if [ "${3:-all}" = stable ]; then stable; exit 0; fi
if [ "${3:-all}" = ppo ]; then ppo; exit 0; fi
if [ "${3:-all}" = mf ]; then mf; exit 0; fi
if [ "${3:-all}" = mf26 ]; then mf26; exit 0; fi
if [ "${3:-all}" = perfn ]; then perfn; exit 0; fi
if [ "${3:-all}" = perfn12 ]; then perfn12; exit 0; fi
if [ "${3:-all}" = perfloor ]; then perfloor; exit 0; fi
# The default these candidates were measured against (commit 3c36b9e), and its score on the old prior.
for x in pt json; do [ -f "$OUT/prev-default.$x" ] || git show 3c36b9e:models/lstm-inc-d3.$x > "$OUT/prev-default.$x"; done
run "$OUT/old-prev-default.pt" $common --seed 1 --iterations 0 $inc --init "$OUT/prev-default.pt"
candidate c2-iter8000 64 1 8000 &
candidate c5-cos8000 64 1 8000 --lr-final 0 &
wait
candidate c1-hidden128 128 1 4000 &
candidate c6-cos4000 64 1 4000 --lr-final 0 &
wait
candidate c3-seed2 64 2 4000 &
candidate c4-iter16000 64 1 16000 &
wait
# The shipped change (8000 updates, cosine decay to 0) applied to the d = 2 and d = 6 defaults' own recipes.
for spec in "2:8" "6:1"; do
  d=${spec%%:*}
  run "$OUT/d$d-cos8000.pt" --dims "$d" --loss oi --horizon 20 --lr 5e-3 --batch 64 --rollouts "${spec#*:}" --entropy 0 \
    --eval-every 100 --validation 64 --seed 1 --iterations 8000 --lr-final 0 --threads 1 $inc &
done
wait
# The main job's LSTM-MF d = 3 model (its default recipe stopped after 150 s, 282 updates): 3000 updates with the
# cosine decay, entropy 0.01 (its recipe: mf3-e1, shipped as models/lstm-mf-d3.pt) and 0 (mf3-e0).
[ -f "$OUT/prev-mf-d3.json" ] || git show 3c36b9e:models/lstm-mf-d3.json > "$OUT/prev-mf-d3.json"
for e in 1:0.01 0:0; do
  run "$OUT/mf3-e${e%%:*}.pt" --dims 3 --horizon 20 --loss oi --fidelities 2 --budget 100 --lambda 0.9 --low-correlation 0.8 \
    --seed 1 --iterations 3000 --lr-final 0 --batch 64 --lr 0.005 --entropy "${e#*:}" --hidden 64 --eval-every 100 \
    --validation 64 --threads 1 &
done
wait
more
/usr/bin/python3 "$(dirname "$0")/learned_schedule.py" "$OUT" bench/results/learned_schedule
