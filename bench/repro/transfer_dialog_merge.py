#!/usr/bin/env python3
"""Merges runs of repro_transfer_dialog (several --first-seed runs) into one table and plot.

    python3 bench/repro/transfer_dialog_merge.py bench/results/transfer_dialog.csv \
        bench/results/transfer_dialog_seeds2to4.csv --out bench/results

Appends an "All seeds" section to transfer_dialog.md (mean ± sample sd over every seed found
for each method and setting) and rewrites transfer_dialog_plot.csv / transfer_dialog.svg from
the merged means (gnuplot).
"""
import argparse
import csv
import statistics
import subprocess
from collections import defaultdict

LABELS = [
    ("primary-only", "Primary"),
    ("pretrain-finetune", "Primary + Related Pre-Training"),
    ("joint", "Primary + Related"),
    ("multi-task", "Primary + Auxiliary Related (Multi-Task)"),
    ("learned", "Weighted Auxiliary Related: Proposed"),
    ("random-fixed", "Weighted Auxiliary Related: Random-Fixed"),
    ("random-changing", "Weighted Auxiliary Related: Random-Changing"),
]

ap = argparse.ArgumentParser()
ap.add_argument("csv", nargs="+")
ap.add_argument("--out", default="bench/results")
args = ap.parse_args()

acc = defaultdict(dict)  # (method, setting) -> {seed: test}
for path in args.csv:
    with open(path) as f:
        for row in csv.DictReader(f):
            acc[(row["method"], int(row["setting"]))][int(row["seed"])] = 100 * float(row["test"])
settings = sorted({s for (_, s) in acc})
methods = [(m, l) for m, l in LABELS if any((m, s) in acc for s in settings)]


def cell(v):
    if not v:
        return "-"
    sd = statistics.stdev(v) if len(v) > 1 else 0.0
    return f"{statistics.mean(v):.1f} ± {sd:.1f} (n={len(v)})"


lines = ["", "## All seeds (merged by bench/repro/transfer_dialog_merge.py)", "",
         "Inputs: " + ", ".join(f"`{p}`" for p in args.csv) + ". Per-response test accuracy (%), mean ± sd over n seeds.", "",
         "| method | " + " | ".join(str(s) for s in settings) + " |",
         "|---|" + "---|" * len(settings)]
for m, l in methods:
    lines.append(f"| {l} | " + " | ".join(cell(list(acc[(m, s)].values())) for s in settings) + " |")
md_path = f"{args.out}/transfer_dialog.md"
with open(md_path) as f:
    text = f.read().split("\n## All seeds")[0].rstrip("\n")
with open(md_path, "w") as f:
    f.write(text + "\n" + "\n".join(lines) + "\n")

with open(f"{args.out}/transfer_dialog_plot.csv", "w") as f:
    for s in settings:
        f.write(str(s) + "".join(f" {statistics.mean(acc[(m, s)].values()) if acc[(m, s)] else 0:.2f}" for m, _ in methods) + "\n")
gp = [f"set terminal svg size 1000,480", f"set output '{args.out}/transfer_dialog.svg'",
      "set style data histogram", "set style histogram clustered gap 1", "set style fill solid 0.8 border -1",
      "set ylabel 'per-response test accuracy (%)'", "set xlabel 'primary training dialogues'",
      "set key outside right", "set yrange [40:80]",
      "set title 'Meta-weighted transfer, personalized bAbI task 1 (mean over all seeds)'"]
plots = [f"'{args.out}/transfer_dialog_plot.csv' using {k + 2}{':xtic(1)' if k == 0 else ''} title '{l}'"
         for k, (_, l) in enumerate(methods)]
with open(f"{args.out}/transfer_dialog.gp", "w") as f:
    f.write("\n".join(gp) + "\nplot " + ", ".join(plots) + "\n")
subprocess.run(["gnuplot", f"{args.out}/transfer_dialog.gp"], check=False)
print("wrote", md_path, f"{args.out}/transfer_dialog.svg")
