#!/usr/bin/env python3
"""Table of the wide-bump fine-tuning of the `lstm` defaults (bench/repro/learned_wide.sh): held-out regret on
the new prior (bumps up to 1.0 wide) over the fine-tuning, and each model's regret on the old prior's validation
functions, read from the model cards.
   learned_wide.py RUN_DIR OUT_STEM"""
import statistics
import sys

from learned_cards import card as read_card, held_out, ships

run_dir, stem = sys.argv[1], sys.argv[2]


def card(name):
    return read_card(run_dir, name)


def fmt(v):
    return f"{v[0]:.3f} +- {v[1]:.3f}" if v else "-"


lines = ["# The `lstm` defaults fine-tuned on wider Gaussian bumps (issue 14)", "",
         "Each default `models/lstm-inc-d<d>.pt` fine-tuned (`--init`) for 4000 updates with its own recipe on a prior "
         "whose bump widths per dimension are log-uniform in [0.05, 1.0] instead of [0.05, 0.4] (training functions "
         "with nearly irrelevant dimensions). Held-out regret (64 functions, 20 steps; lower is better) on the new prior: "
         "'start' = the default itself (iteration 0), 'last 10' = mean of the last 10 validations, 'best' = the "
         "checkpoint kept; 'old prior' = the kept checkpoint on the old prior's 64 validation functions (the default's "
         "in the first column). A candidate ships only if its last 10 is below start by more than se, and it is not "
         "worse than the default on the old prior by more than se (rule fixed before the runs).", "",
         "Runs: `bench/repro/learned_wide.sh`, then `bench/repro/learned_wide.py build/wide bench/results/learned_wide`.",
         "", "| d | lr | start | last 10 | best | se | old prior: default | old prior: kept checkpoint | ships |",
         "|---|---|---|---|---|---|---|---|---|"]
for d in (3, 2, 6):
    old_default = held_out(card(f"oldprior-d{d}-default"))
    for lr in ("5e-3", "1e-3"):
        c = card(f"lstm-inc-wide1-d{d}-lr{lr}")
        if c is None:
            continue
        hist = [h["regret"] for h in c["validation"]["history"]]
        start, last = hist[0], statistics.mean(hist[-10:])
        se = c["validation"]["regret_sem"]
        old_kept = held_out(card(f"oldprior-d{d}-lr{lr}"))
        ok = ships(last, start, se, (old_default, old_kept))
        lines.append(f"| {d} | {lr} | {start:.3f} | {last:.3f} | {min(hist):.3f} | {se:.3f} | {fmt(old_default)} | "
                     f"{fmt(old_kept)} | {'yes' if ok else 'no'} |")
lines += ["", "## From scratch on bumps 0.15-0.6 wide", "",
          "The same recipe as each default (entropy 0, 8 rollouts at d = 2, 3 and 1 at d = 6, 4000 updates), from an untrained network, on bumps "
          "0.15-0.6 wide per dimension (last session's d = 6 diagnostic prior). 'default' = the shipped default's "
          "kept checkpoint on this prior's 64 validation functions. Same rule: last 10 below the default by more than "
          "se, and not worse on the old prior by more than the default's se.", "",
          "| d | untrained | default | last 10 | best | se | old prior: default | old prior: kept checkpoint | ships |",
          "|---|---|---|---|---|---|---|---|---|"]
for d in (3, 2, 6):
    c = card(f"lstm-inc-mid-d{d}")
    ref = card(f"midprior-d{d}-default")
    if c is None or ref is None:
        continue
    hist = [h["regret"] for h in c["validation"]["history"]]
    last, se = statistics.mean(hist[-10:]), c["validation"]["regret_sem"]
    old_default, old_kept = held_out(card(f"oldprior-d{d}-default")), held_out(card(f"oldprior-d{d}-mid"))
    dflt = held_out(ref)[0]
    ok = ships(last, dflt, se, (old_default, old_kept))
    lines.append(f"| {d} | {hist[0]:.3f} | {dflt:.3f} | {last:.3f} | {min(hist):.3f} | {se:.3f} | "
                 f"{fmt(old_default)} | {fmt(old_kept)} | {'yes' if ok else 'no'} |")
lines += ["", "The d = 3 model that shipped (`models/lstm-inc-d3.pt` from the second to the third session of 2026-12-03; "
          "replaced then by a longer run of the same prior with a decaying learning rate, `learned_schedule.md`) is the "
          "from-scratch run above; no test function's numbers were seen before its choice. At d = 6 a sibling of the "
          "candidate (8 rollouts instead of the d = 6 recipe's one, same prior; `learned_entropy.md`, last row) had its "
          "test numbers seen in the session before, so that choice of prior for d = 6 was not blind; it did not ship.",
          ""]
open(stem + ".md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
