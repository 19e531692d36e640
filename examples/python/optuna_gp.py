#!/usr/bin/python3
"""An Optuna study that uses metadial's GP-BO as its sampler (metadial.optuna.MetadialSampler).

    PYTHONPATH=build/release/python /usr/bin/python3 examples/python/optuna_gp.py [--trials 30] [--seed 0]

The objective is a toy "training run" with a float (log scale), an int and a categorical
parameter; everything else about the study (storage, pruners, callbacks, n_jobs) is Optuna's.
"""
import argparse
import math

import optuna

from metadial.optuna import MetadialSampler


def objective(trial: optuna.Trial) -> float:
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    layers = trial.suggest_int("layers", 1, 6)
    activation = trial.suggest_categorical("activation", ["relu", "tanh", "gelu"])
    # A made-up validation loss, smallest at lr = 3e-3, 3 layers, gelu.
    penalty = {"relu": 0.05, "tanh": 0.15, "gelu": 0.0}[activation]
    return (math.log10(lr) + 2.5) ** 2 + 0.1 * (layers - 3) ** 2 + penalty


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=MetadialSampler("gp", n_initial=8, seed=args.seed))
    study.optimize(objective, n_trials=args.trials)
    print(f"best value {study.best_value:.4f} at {study.best_params} (trial {study.best_trial.number})")


if __name__ == "__main__":
    main()
