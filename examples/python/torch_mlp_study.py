#!/usr/bin/python3
"""A PyTorch training script tuned by metadial.Study (GP-BO), with its trials in a SQLite file that
`metadial trials` and `metadial dashboard` read.

    PYTHONPATH=build/release/python /usr/bin/python3 examples/python/torch_mlp_study.py \
        [--storage sqlite:mlp.db] [--trials 20] [--jobs 1] [--seed 0]

The task: a small MLP classifying two interleaved spirals (made here from the seed); the
validation error after a fixed number of epochs is the value to minimize, reported every epoch
(trial.report) so a learning curve is stored. Run it again with the same storage and it continues
the study. Needs Debian's python3-torch.
"""
import argparse
import math

import numpy as np
import torch

import metadial
from metadial import samplers

SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 3e-1, "log": True},
    "hidden": {"type": "int", "low": 8, "high": 128, "log": True},
    "layers": {"type": "int", "low": 1, "high": 3},
    "activation": {"type": "categorical", "choices": ["relu", "tanh"]},
    "weight_decay": {"type": "float", "low": 1e-6, "high": 1e-2, "log": True},
}


def spirals(n, seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.25, 3 * math.pi, n)
    label = rng.integers(0, 2, n)
    r = t / (3 * math.pi)
    angle = t + math.pi * label
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1) + rng.normal(0, 0.03, (n, 2))
    return torch.tensor(x, dtype=torch.float32), torch.tensor(label, dtype=torch.int64)


def make_objective(seed, epochs):
    x_train, y_train = spirals(1000, seed)
    x_val, y_val = spirals(500, seed + 1)

    def objective(trial):
        p = trial.params
        torch.manual_seed(seed + trial.number)
        act = torch.nn.ReLU if p["activation"] == "relu" else torch.nn.Tanh
        layers, width = [], 2
        for _ in range(p["layers"]):
            layers += [torch.nn.Linear(width, p["hidden"]), act()]
            width = p["hidden"]
        net = torch.nn.Sequential(*layers, torch.nn.Linear(width, 2))
        opt = torch.optim.Adam(net.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
        error = 1.0
        for epoch in range(epochs):
            perm = torch.randperm(len(x_train))
            for i in range(0, len(x_train), 50):
                idx = perm[i:i + 50]
                loss = torch.nn.functional.cross_entropy(net(x_train[idx]), y_train[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                error = (net(x_val).argmax(1) != y_val).float().mean().item()
            trial.report(epoch, error)
        return error

    return objective


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--storage", default="sqlite:mlp.db")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    study = metadial.Study.create_or_load(storage=args.storage, name="spirals-mlp", space=SPACE)
    study.optimize(make_objective(args.seed, args.epochs), n_trials=args.trials, sampler=samplers.GP(n_initial=8),
                   seed=args.seed, jobs=args.jobs)
    best = study.best_trial
    print(f"{len(study.trials)} trials; best validation error {best.value:.3f} (trial {best.number}): {best.params}")


if __name__ == "__main__":
    main()
