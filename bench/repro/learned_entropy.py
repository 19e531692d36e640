#!/usr/bin/env python3
"""Table and plot of the entropy-bonus ablation (bench/repro/learned_entropy.sh): the held-out
validation regret on the training prior of each meta-training run, read from the model cards.
   learned_entropy.py RUN_DIR OUT_STEM"""
import json
import os
import statistics
import subprocess
import sys

run_dir, stem = sys.argv[1], sys.argv[2]
runs = []
for d, prior in [(1, ""), (2, ""), (3, ""), (6, ""), (6, "wide-")]:
    for e in ("0.01", "0.001", "0"):
        for r, suffix in ((1, ""), (8, ""), (8, "-b256")):
            path = os.path.join(run_dir, f"lstm-inc-{prior}d{d}-e{e}-r{r}{suffix}.json")
            if not os.path.exists(path):
                continue
            card = json.load(open(path))
            hist = card["validation"]["history"]
            regrets = [h["regret"] for h in hist]
            runs.append(dict(d=d, prior="bumps 0.15-0.6" if prior else "bumps 0.05-0.4", entropy=e, rollouts=r,
                             batch=card["batch"],
                             iterations=[h["iteration"] for h in hist], regrets=regrets,
                             se=card["validation"]["regret_sem"], best=min(regrets)))

with open(stem + ".csv", "w") as f:
    f.write("d,prior,entropy,rollouts,batch,episodes,regret\n")
    for run in runs:
        for it, reg in zip(run["iterations"], run["regrets"]):
            f.write(f"{run['d']},{run['prior']},{run['entropy']},{run['rollouts']},{run['batch']},{it * run['batch']},"
                    f"{reg:.6g}\n")

lines = ["# The entropy bonus in the `lstm` defaults' meta-training (issue 14)", "",
         "Held-out regret on the training prior (64 functions, 20 steps; lower is better) of REINFORCE "
         "meta-training with the `lstm-inc` recipe, by entropy-bonus weight and rollouts per function. "
         "'start' = the untrained network (iteration 0), 'last 10' = mean of the last 10 validations "
         "(the last quarter of the run; every run sees 4000 x 64 episodes: 4000 updates of batch 64, or 1000 of batch 256), 'best' = the checkpoint a card ships, 'se' = its standard error over "
         "the 64 functions (the card's regret_sem). Runs: "
         "`bench/repro/learned_entropy.sh`, then `bench/repro/learned_entropy.py DIR bench/results/learned_entropy`.", "",
         "| d | prior | entropy | rollouts | batch | validations | start | last 10 | best | se | last 10 - start |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
for run in runs:
    r = run["regrets"]
    last = statistics.mean(r[-10:])
    lines.append(f"| {run['d']} | {run['prior']} | {run['entropy']} | {run['rollouts']} | {run['batch']} | {len(r)} | {r[0]:.3f} | "
                 f"{last:.3f} | {run['best']:.3f} | {run['se']:.3f} | {last - r[0]:+.3f} |")
open(stem + ".md", "w").write("\n".join(lines) + "\n")

gp = [f"set terminal svg size 1500,520 dynamic font 'sans,10'", f"set output '{stem}.svg'",
      "set datafile separator ','", "set multiplot layout 1,5", "set xlabel 'episodes'", "set ylabel 'held-out regret'",
      "set key below font ',8'", "set xtics 128000"]
for d, prior in [(1, "bumps 0.05-0.4"), (2, "bumps 0.05-0.4"), (3, "bumps 0.05-0.4"), (6, "bumps 0.05-0.4"),
                 (6, "bumps 0.15-0.6")]:
    sel = [run for run in runs if run["d"] == d and run["prior"] == prior]
    if not sel:
        continue
    gp.append(f"set title 'd = {d}, {prior}'")
    plots = []
    for run in sel:
        cond = (f"($1=={d} && strcol(2) eq '{prior}' && strcol(3) eq '{run['entropy']}' && $4=={run['rollouts']} "
                f"&& $5=={run['batch']})")
        plots.append(f"'{stem}.csv' using ({cond} ? $6 : 1/0):7 with lines title 'entropy {run['entropy']}, "
                     f"{run['rollouts']} rollout(s)" + (f", batch {run['batch']}'" if run['batch'] != 64 else "'"))
    gp.append("plot " + ", ".join(plots))
gp.append("unset multiplot")
open(stem + ".gp", "w").write("\n".join(gp) + "\n")
subprocess.run(["gnuplot", stem + ".gp"], check=False)
