#!/usr/bin/python3
"""Per-trial overhead of ask/tell driven from Python: metadial.Study against Optuna 3.1, both with
their random sampler on the same 2-parameter space and a free objective, on an in-memory and a
SQLite storage, peers measured in the same run.

  PYTHONPATH=build/release/python /usr/bin/python3 bench/python/ask_tell_overhead.py \
      [--trials 2000] [--sqlite-trials 300] [--dir DIR] [--md bench/results/python_ask_tell.md]

A study is created, then `trials` ask + tell pairs run back to back; the time per trial is the
wall time of the loop divided by the trials (the study's creation is not counted). SQLite: metadial's
storage (WAL, synchronous=FULL: every tell is durable) and Optuna's RDBStorage over SQLAlchemy's
pysqlite (SQLite's defaults: rollback journal, synchronous=FULL). Files go to --dir (a fresh
temporary folder by default) and are deleted.
"""
import argparse
import os
import shutil
import tempfile
import time

import optuna

import metadial
from metadial import samplers

SPACE = {"x0": {"type": "float", "low": 0.0, "high": 1.0}, "x1": {"type": "float", "low": 0.0, "high": 1.0}}


def metadial_loop(url, trials):
    study = metadial.Study.create_or_load(storage=url, name="overhead", space=SPACE)
    sampler = samplers.Random()
    t0 = time.perf_counter()
    for _ in range(trials):
        trial = study.ask(sampler, seed=0)
        study.tell(trial, trial.params["x0"] + trial.params["x1"])
    return (time.perf_counter() - t0) / trials


def optuna_loop(storage, trials):
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0), study_name="overhead")
    t0 = time.perf_counter()
    for _ in range(trials):
        trial = study.ask()
        value = trial.suggest_float("x0", 0.0, 1.0) + trial.suggest_float("x1", 0.0, 1.0)
        study.tell(trial, value)
    return (time.perf_counter() - t0) / trials


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--sqlite-trials", type=int, default=300)
    ap.add_argument("--dir", default="")
    ap.add_argument("--md", default="bench/results/python_ask_tell.md")
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder = args.dir or tempfile.mkdtemp(prefix="md-ask-tell-")
    os.makedirs(folder, exist_ok=True)
    try:
        rows = [
            ("memory", args.trials, metadial_loop("memory", args.trials), optuna_loop(None, args.trials)),
            ("SQLite", args.sqlite_trials,
             metadial_loop("sqlite:" + os.path.join(folder, "metadial.db"), args.sqlite_trials),
             optuna_loop("sqlite:///" + os.path.join(folder, "optuna.db"), args.sqlite_trials)),
        ]
    finally:
        if not args.dir:
            shutil.rmtree(folder)
    lines = ["# ask/tell overhead per trial from Python (bench/python/ask_tell_overhead.py)", "",
             f"metadial {metadial.__version__}, optuna {optuna.__version__}; random samplers, 2 floats, a free "
             "objective; wall time of the ask + tell loop / trials, one process on a shared 2-core machine.", "",
             "| storage | trials | metadial.Study | Optuna | Optuna / metadial |", "|---|---|---|---|---|"]
    for storage, n, md, op in rows:
        lines.append(f"| {storage} | {n} | {md * 1e6:,.0f} µs | {op * 1e6:,.0f} µs | {op / md:.1f}x |")
    lines += ["", "Command: `PYTHONPATH=build/release/python /usr/bin/python3 bench/python/ask_tell_overhead.py "
              f"--trials {args.trials} --sqlite-trials {args.sqlite_trials}`", ""]
    with open(args.md, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
