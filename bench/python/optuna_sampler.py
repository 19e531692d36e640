#!/usr/bin/python3
"""Optuna with metadial's GP-BO (metadial.optuna.MetadialSampler("gp")) against Optuna's own
TPESampler, side by side in the same Optuna study loop: median simple regret (best value found
minus the known minimum) on Branin (2-d, 30 trials) and Hartmann-6 (6-d, 50 trials) over seeds
0..S-1, and the time spent in the sampler (Optuna's calls to infer_relative_search_space,
sample_relative and sample_independent, timed by a delegating wrapper) per study.

Both samplers run with their defaults (GP: n_initial = min(10, 2 (d + 1)) Sobol points, log-EI;
TPE: Optuna 3.1's defaults, 10 random start-up trials, independent per parameter) and with
seed = the run's seed. Runs one process, one thread (OMP/MKL threads set to 1 here).

  PYTHONPATH=build/release/python /usr/bin/python3 bench/python/optuna_sampler.py \
      [--seeds 20] [--csv bench/results/python_optuna_sampler.csv] [--md bench/results/python_optuna_sampler.md]

Every run appends one CSV row as it finishes (an interrupted run keeps what it did); the
markdown table is written at the end from the CSV rows of this invocation.
"""
import argparse
import math
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import optuna  # noqa: E402
from optuna.samplers import TPESampler  # noqa: E402

import metadial  # noqa: E402
from metadial.optuna import MetadialSampler  # noqa: E402
from optuna_timing import Timed  # noqa: E402  (beside this script)

optuna.logging.set_verbosity(optuna.logging.WARNING)

BRANIN_MIN = 0.39788735772973816
HARTMANN6_MIN = -3.3223680114155147
H6_A = [1.0, 1.2, 3.0, 3.2]
H6_ALPHA = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
H6_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]


def branin(trial):
    x = trial.suggest_float("x0", -5.0, 10.0)
    y = trial.suggest_float("x1", 0.0, 15.0)
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


def hartmann6(trial):
    x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(6)]
    total = 0.0
    for a, alpha, p in zip(H6_A, H6_ALPHA, H6_P):
        total += a * math.exp(-sum(al * (xi - pi * 1e-4) ** 2 for al, xi, pi in zip(alpha, x, p)))
    return -total


PROBLEMS = {"branin": (branin, BRANIN_MIN, 30), "hartmann6": (hartmann6, HARTMANN6_MIN, 50)}


def make_sampler(name, seed):
    if name == "metadial-gp":
        return MetadialSampler("gp", seed=seed)
    if name == "optuna-tpe":
        return TPESampler(seed=seed)
    raise ValueError(name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--problems", default="branin,hartmann6")
    ap.add_argument("--samplers", default="metadial-gp,optuna-tpe")
    ap.add_argument("--csv", default="bench/results/python_optuna_sampler.csv")
    ap.add_argument("--md", default="bench/results/python_optuna_sampler.md")
    args = ap.parse_args()

    rows = []
    with open(args.csv, "w") as out:
        out.write("problem,sampler,seed,n_trials,best,regret,sampler_seconds,wall_seconds\n")
        for problem in args.problems.split(","):
            fn, optimum, n_trials = PROBLEMS[problem]
            for seed in range(args.seeds):
                for name in args.samplers.split(","):
                    sampler = Timed(make_sampler(name, seed))
                    study = optuna.create_study(sampler=sampler)
                    t0 = time.perf_counter()
                    study.optimize(fn, n_trials=n_trials)
                    wall = time.perf_counter() - t0
                    row = dict(problem=problem, sampler=name, seed=seed, n_trials=n_trials, best=study.best_value,
                               regret=study.best_value - optimum, sampler_seconds=sampler.seconds, wall_seconds=wall)
                    rows.append(row)
                    out.write("{problem},{sampler},{seed},{n_trials},{best:.9g},{regret:.9g},{sampler_seconds:.6f},"
                              "{wall_seconds:.6f}\n".format(**row))
                    out.flush()
                    print(f"{problem} {name} seed {seed}: regret {row['regret']:.4g}, "
                          f"sampler {row['sampler_seconds']:.3f} s", file=sys.stderr)

    def q(xs, f):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(f * len(xs)))]

    lines = [
        "# Optuna with metadial's GP-BO vs Optuna's TPE (bench/python/optuna_sampler.py)",
        "",
        f"optuna {optuna.__version__}, metadial {metadial.__version__}; seeds 0..{args.seeds - 1}; defaults of "
        "both samplers; sampler time = Optuna's calls into the sampler, per study (one thread).",
        "",
        "| problem | trials | sampler | median regret | regret q25 / q75 | wins (lower regret, same seed) "
        "| median sampler s / study | per trial ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = args.samplers.split(",")
    for problem in args.problems.split(","):
        by = {n: {r["seed"]: r for r in rows if r["problem"] == problem and r["sampler"] == n} for n in names}
        for n in names:
            rs = list(by[n].values())
            if not rs:
                continue
            reg = [r["regret"] for r in rs]
            secs = [r["sampler_seconds"] for r in rs]
            others = [m for m in names if m != n]
            wins = sum(1 for s, r in by[n].items() if all(s in by[m] and r["regret"] < by[m][s]["regret"] for m in others))
            lines.append(f"| {problem} | {rs[0]['n_trials']} | {n} | {statistics.median(reg):.4g} | "
                         f"{q(reg, 0.25):.3g} / {q(reg, 0.75):.3g} | {wins}/{len(rs)} | "
                         f"{statistics.median(secs):.3f} | {1000 * statistics.median(secs) / rs[0]['n_trials']:.2f} |")
    lines += ["", f"Command: `PYTHONPATH=build/release/python /usr/bin/python3 bench/python/optuna_sampler.py "
              f"--seeds {args.seeds}`", ""]
    with open(args.md, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
