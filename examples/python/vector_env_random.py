#!/usr/bin/python3
"""Random masked actions on metadial.dialog.VectorEnv: the loop an RL script runs, and its speed.

    PYTHONPATH=build/release/python /usr/bin/python3 examples/python/vector_env_random.py \
        [--envs 64] [--steps 2000] [--env env1] [--domain restaurant] [--seed 0]

Prints the success rate of the random policy and the simulator steps per second seen from Python
(the policy's NumPy work included).
"""
import argparse
import time

import numpy as np

from metadial.dialog import VectorEnv


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--envs", type=int, default=64)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--env", default="env1")
    ap.add_argument("--domain", default="restaurant")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    venv = VectorEnv(args.envs, env=args.env, domain=args.domain, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    obs, info = venv.reset()
    ended = successes = 0
    t0 = time.perf_counter()
    for _ in range(args.steps):
        mask = info["action_mask"]
        # One uniformly random allowed action per env: random scores, masked, argmax.
        scores = np.where(mask, rng.random(mask.shape), -1.0)
        obs, reward, terminated, truncated, info = venv.step(scores.argmax(axis=1))
        done = terminated | truncated
        ended += int(done.sum())
        successes += int((info["success"] & done).sum())
    seconds = time.perf_counter() - t0
    print(f"{args.envs} envs x {args.steps} steps on {args.env}/{args.domain}: {ended} dialogues, "
          f"random-policy success {successes / max(ended, 1):.3f}, "
          f"{args.envs * args.steps / seconds:,.0f} steps/s from Python")


if __name__ == "__main__":
    main()
