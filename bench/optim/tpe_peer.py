#!/usr/bin/python3
"""TPE peer comparison, side by side in one run (issue 15): our TPE (repro_tpe_peer, through the
study engine) against Optuna's TPESampler (Debian's python3-optuna 3.1, defaults, seeded) on
Branin (30 trials) and Hartmann-6 (50 trials), seeds 0..N-1, and TPE against random search on
Hartmann-6. Reports the median regret, a paired Wilcoxon signed-rank test per function (ours vs
Optuna's, paired by seed: both sides draw their own random numbers from the seed, so the pairing
is by index only), and the wall time spent in the sampler per trial on both sides.

  /usr/bin/python3 bench/optim/tpe_peer.py --seeds 20 --driver build/release/bench/repro_tpe_peer

Writes bench/results/tpe_peer.csv (every study of both sides) and bench/results/tpe_peer.md.
"""
import argparse
import csv
import math
import os
import subprocess
import sys

import numpy as np
import optuna

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from optuna_timing import Timed  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def branin(x):
    x1, x2 = x
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
                 [17, 8, 0.05, 10, 0.1, 14]])
H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                        [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(x):
    x = np.asarray(x)
    return float(-np.sum(H6_ALPHA * np.exp(-np.sum(H6_A * (x - H6_P) ** 2, axis=1))))


PROBLEMS = {
    "branin": (branin, [(-5.0, 10.0), (0.0, 15.0)], 0.397887357729738, 30),
    "hartmann6": (hartmann6, [(0.0, 1.0)] * 6, -3.32236801141551, 50),
}


def optuna_run(function, sampler_name, seed):
    f, bounds, optimum, trials = PROBLEMS[function]
    inner = (optuna.samplers.TPESampler(seed=seed) if sampler_name == "tpe"
             else optuna.samplers.RandomSampler(seed=seed))
    sampler = Timed(inner)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: f([t.suggest_float("x%d" % i, lo, hi) for i, (lo, hi) in enumerate(bounds)]),
                   n_trials=trials)
    return max(0.0, study.best_value - optimum), sampler.seconds / trials


def wilcoxon(x, y):
    """Paired Wilcoxon signed-rank test of x - y (zero differences dropped, average ranks for ties):
    (W+, n, two-sided p, one-sided p for 'x greater than y'). Exact null distribution (all 2^n sign
    patterns of the ranks, counted by dynamic programming over doubled ranks) for n <= 50, else the
    normal approximation with tie correction."""
    d = [a - b for a, b in zip(x, y) if a != b]
    n = len(d)
    if n == 0:
        return 0.0, 0, 1.0, 1.0
    order = sorted(range(n), key=lambda i: abs(d[i]))
    ranks = [0.0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and abs(d[order[j + 1]]) == abs(d[order[i]]):
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    w_plus = sum(r for r, v in zip(ranks, d) if v > 0)
    if n <= 50:
        doubled = [int(round(2 * r)) for r in ranks]
        total = sum(doubled)
        counts = [0] * (total + 1)
        counts[0] = 1
        for r in doubled:
            for s in range(total, r - 1, -1):
                counts[s] += counts[s - r]
        w2 = int(round(2 * w_plus))
        all_ = 2 ** n
        p_ge = sum(counts[w2:]) / all_
        p_le = sum(counts[:w2 + 1]) / all_
        return w_plus, n, min(1.0, 2 * min(p_ge, p_le)), p_ge
    mean = n * (n + 1) / 4
    var = n * (n + 1) * (2 * n + 1) / 24
    z = (w_plus - mean) / math.sqrt(var)
    p_one = 0.5 * math.erfc(z / math.sqrt(2))
    return w_plus, n, min(1.0, 2 * min(p_one, 1 - p_one)), p_one


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--driver", default="build/release/bench/repro_tpe_peer")
    ap.add_argument("--out", default="bench/results")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ours_csv = os.path.join(args.out, "tpe_peer_metadial.csv")
    subprocess.run([args.driver, "--seeds", str(args.seeds), "--out", ours_csv], check=True)
    rows = list(csv.DictReader(open(ours_csv)))
    for function in PROBLEMS:
        for sampler_name in ("tpe", "random"):
            for seed in range(args.seeds):
                regret, spt = optuna_run(function, sampler_name, seed)
                rows.append({"side": "optuna", "sampler": sampler_name, "function": function,
                             "trials": PROBLEMS[function][3], "seed": seed, "regret": repr(regret),
                             "sampler_s_per_trial": "%.6g" % spt})
    os.remove(ours_csv)
    with open(os.path.join(args.out, "tpe_peer.csv"), "w", newline="") as out:
        w = csv.DictWriter(out, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)

    def col(side, sampler_name, function, key):
        sel = [r for r in rows if r["side"] == side and r["sampler"] == sampler_name and r["function"] == function]
        sel.sort(key=lambda r: int(r["seed"]))
        return [float(r[key]) for r in sel]

    md = ["# TPE against Optuna 3.1's TPESampler", "",
          "Median [25 %%, 75 %%] over %d seeds of the simple regret (best value - known minimum) after the last trial; "
          "ours through the study engine (in-memory storage), Optuna's through `study.optimize` (in-memory), "
          "both with their default TPE settings. Wilcoxon: paired signed-rank test of ours - Optuna's regret by seed "
          "(W+, pairs without ties; p two-sided; p one-sided for 'ours worse'). Time: median wall ms spent in the "
          "sampler per trial (ours: `suggest`; Optuna's: every sampler call), one thread, load average %s." %
          (args.seeds, open("/proc/loadavg").read().split()[0]),
          "Reproduce: `cmake --build --preset release --target repro_tpe_peer && /usr/bin/python3 "
          "bench/optim/tpe_peer.py --seeds %d` (Optuna %s)." % (args.seeds, optuna.__version__), "",
          "| function | trials | ours TPE | Optuna TPE | Wilcoxon W+ (n), p two-sided, p ours worse | ours random | "
          "Optuna random | ms/trial in sampler: ours TPE | Optuna TPE | ratio |",
          "|---|---|---|---|---|---|---|---|---|---|"]

    def q(v):
        return "%.3g [%.3g, %.3g]" % (np.median(v), np.percentile(v, 25), np.percentile(v, 75))

    for function, (_, _, _, trials) in PROBLEMS.items():
        ours, theirs = col("metadial", "tpe", function, "regret"), col("optuna", "tpe", function, "regret")
        w_plus, n, p2, p1 = wilcoxon(ours, theirs)
        t_ours = np.median(col("metadial", "tpe", function, "sampler_s_per_trial")) * 1e3
        t_theirs = np.median(col("optuna", "tpe", function, "sampler_s_per_trial")) * 1e3
        md.append("| %s | %d | %s | %s | %.1f (%d), %.3g, %.3g | %s | %s | %.3g | %.3g | %.0fx |" % (
            function, trials, q(ours), q(theirs), w_plus, n, p2, p1, q(col("metadial", "random", function, "regret")),
            q(col("optuna", "random", function, "regret")), t_ours, t_theirs, t_theirs / t_ours))
    h6_tpe, h6_rand = col("metadial", "tpe", "hartmann6", "regret"), col("metadial", "random", "hartmann6", "regret")
    w_plus, n, p2, p1 = wilcoxon(h6_tpe, h6_rand)
    md += ["", "TPE against random search on Hartmann-6 (ours, paired by seed): median %.3g vs %.3g; Wilcoxon "
           "W+ %.1f (n %d), p two-sided %.3g, p one-sided for 'TPE worse' %.3g." % (
               np.median(h6_tpe), np.median(h6_rand), w_plus, n, p2, p1)]
    text = "\n".join(md) + "\n"
    open(os.path.join(args.out, "tpe_peer.md"), "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
