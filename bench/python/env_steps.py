#!/usr/bin/python3
"""Simulator steps per second seen from Python: one metadial.dialog.Env, and VectorEnv with n
users, against the C++ rate of the same workload (bench_dialog's BM_EnvStep: restaurant env3, the
fixed cyclic action sequence 0, 3, 6, 1, 4, 9, a new dialogue with the next seed when one ends),
measured in the same run when --bench-dialog names the binary.

  PYTHONPATH=build/release/python /usr/bin/python3 bench/python/env_steps.py \
      [--steps 200000] [--envs 64] [--repeats 3] [--bench-dialog build/release/bench/bench_dialog] \
      [--md bench/results/python_env_steps.md]

Python loops: Env: reset / step(int) / check terminated or truncated, one call per step (what a
Python agent pays for the environment alone); VectorEnv: one step(array of n actions) per n steps
(the actions precomputed; autoreset in C++). The best of --repeats runs is reported (one thread;
the machine is shared). Rates are per CPU second (time.process_time here, the benchmark's
cpu_time there), so that the shared machine's load does not enter the comparison.
"""
import argparse
import json
import subprocess
import sys
import time

import numpy as np

import metadial
from metadial.dialog import Env, VectorEnv

ACTIONS = [0, 3, 6, 1, 4, 9]


def env_rate(steps):
    env = Env(env="env3", domain="restaurant", seed=0)
    env.reset()
    t0 = time.process_time()
    done = False
    for k in range(steps):
        if done:
            env.reset()
        _, _, terminated, truncated, _ = env.step(ACTIONS[k % 6])
        done = terminated or truncated
    return steps / (time.process_time() - t0)


def vector_rate(steps, n):
    venv = VectorEnv(n, env="env3", domain="restaurant", seed=0)
    venv.reset()
    table = [np.full(n, a, dtype=np.int64) for a in ACTIONS]
    calls = max(1, steps // n)
    t0 = time.process_time()
    for k in range(calls):
        venv.step(table[k % 6])
    return calls * n / (time.process_time() - t0)


def cpp_rate(binary):
    out = subprocess.run([binary, "--benchmark_filter=BM_EnvStep$", "--benchmark_format=json",
                          "--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("aggregate_name") == "median"]
    return 1e9 / runs[0]["cpu_time"] if runs[0]["time_unit"] == "ns" else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200000)
    ap.add_argument("--envs", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--bench-dialog", default="")
    ap.add_argument("--md", default="bench/results/python_env_steps.md")
    args = ap.parse_args()
    single = max(env_rate(args.steps) for _ in range(args.repeats))
    vec = max(vector_rate(args.steps, args.envs) for _ in range(args.repeats))
    cpp = cpp_rate(args.bench_dialog) if args.bench_dialog else None
    rows = [("Env (one user, a Python call per step)", single), (f"VectorEnv({args.envs})", vec)]
    lines = ["# Simulator steps per second from Python (bench/python/env_steps.py)", "",
             f"metadial {metadial.__version__}; restaurant env3, actions 0,3,6,1,4,9 cyclic, {args.steps} steps, "
             f"best of {args.repeats}; one thread on a shared 2-core machine; steps per CPU second.", "",
             "| loop | steps/s | of the C++ rate |", "|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {r:,.0f} | {f'{100 * r / cpp:.0f} %' if cpp else 'n/a'} |")
    if cpp:
        lines.append(f"| C++ DialogueEnv::step (bench_dialog BM_EnvStep, median of 3 CPU times) | {cpp:,.0f} | 100 % |")
    lines += ["", "Command: `PYTHONPATH=build/release/python /usr/bin/python3 bench/python/env_steps.py "
              f"--steps {args.steps} --envs {args.envs} --repeats {args.repeats}"
              + (f" --bench-dialog {args.bench_dialog}" if args.bench_dialog else "") + "`", ""]
    with open(args.md, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
