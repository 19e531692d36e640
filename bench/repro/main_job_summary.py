#!/usr/bin/python3
"""Table and plot of bench/repro/main_job_compare.sh from its rows.csv and its study files.

Per method and training length N: the mean over study seeds of the retrained success (and reward),
with a 95 % interval over the study seeds (Student t; the retraining's own interval over its fresh
seeds, averaged, in brackets), and how many study seeds the row has. The plot: the best value so
far (each study's own score of its best target-fidelity trial) against the cost spent, mean over
study seeds, one line per method.
"""
import argparse
import csv
import math
import os
import shutil
import statistics
import subprocess

# Two-sided 95 % Student t quantiles by degrees of freedom (1..10); normal beyond.
T95 = [None, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228]


def t95(df):
    """The two-sided 95 % t quantile at df degrees of freedom (a fractional df is floored: wider, never narrower)."""
    k = max(1, int(math.floor(df)))
    return T95[k] if k < len(T95) else 1.96


def ci95(xs):
    if len(xs) < 2:
        return float("nan")
    return t95(len(xs) - 1) * statistics.stdev(xs) / math.sqrt(len(xs))


def welch(a, b):
    """Difference of means a - b with a two-sided 95 % Welch interval (t at the Welch-Satterthwaite
    degrees of freedom); None with < 2 values on a side."""
    if len(a) < 2 or len(b) < 2:
        return None
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    diff = statistics.mean(a) - statistics.mean(b)
    if va + vb == 0:
        return diff, 0.0
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return diff, t95(df) * math.sqrt(va + vb)


def trials(bin_path, db):
    r = subprocess.run([bin_path, "trials", "--storage", "sqlite:" + db, "--study", "main", "--csv"],
                       capture_output=True, text=True, check=True)
    return list(csv.DictReader(r.stdout.splitlines()))


def best_vs_cost(rows, grid):
    """Best complete target-fidelity value so far at each cost of `grid` (None before the first)."""
    target = max((int(t["fidelity"]) for t in rows if t["state"] == "complete"), default=0)
    spent, best, points = 0.0, None, []
    for t in rows:  # in trial number order: the order the study ran them (one worker)
        spent += float(t["cost"] or 0)
        if t["state"] == "complete" and int(t["fidelity"]) == target:
            v = float(t["value"])
            best = v if best is None else max(best, v)
        points.append((spent, best))
    out = []
    for c in grid:
        b = None
        for s, v in points:
            if s <= c + 1e-9:
                b = v
        out.append(b)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", required=True)
    ap.add_argument("--studies", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()

    with open(a.rows) as f:
        rows = list(csv.DictReader(f))
    methods, ns = [], []
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
        if int(r["dialogues"]) not in ns:
            ns.append(int(r["dialogues"]))
    ns.sort()
    order = ["default", "random", "sobol", "tpe", "gp", "lstm", "lstm-mf", "asha", "hyperband", "bohb"]
    methods.sort(key=lambda m: order.index(m) if m in order else len(order))

    lines = ["# The main job against every method at equal cost (issue 15)", ""]
    if a.quick:
        lines += ["**Quick check (`--quick`): a few dialogues and seeds; these numbers mean nothing.**", ""]
    lines += [
        "Written by `bench/repro/main_job_summary.py` from `rows.csv` (one row per study and training length) of "
        "`bench/repro/main_job_compare.sh`, which is resumable: run it again to add the missing studies.",
        "",
        "Each study tunes epsilon, h1, h2 of the DQN policy on sf_restaurant env5 for a total cost of 20 full "
        "evaluations (10 seeds x 4000 dialogues); its best configuration is then retrained on fresh seeds "
        "(base seed in the csv) for N dialogues and tested greedily. Success: mean over the study seeds of the "
        "retrained success, +- the 95 % interval over study seeds (t), [mean of the retrainings' own 95 % "
        "intervals over their fresh seeds]. `default` is not tuned (one retraining).",
        "",
    ]
    by = {}  # (method, N) -> its rows, in file order
    for r in rows:
        by.setdefault((r["method"], int(r["dialogues"])), []).append(r)
    for n in ns:
        lines += [f"## N = {n} training dialogues", "",
                  "| method | study seeds | success | reward | configurations (epsilon, h1, h2) |", "|---|---|---|---|---|"]
        success = {m: [float(r["success"]) for r in by[(m, n)]] for m in methods if (m, n) in by}
        for m in success:
            rs = by[(m, n)]
            s = success[m]
            w = [float(r["reward"]) for r in rs]
            own = statistics.mean(float(r["success_ci95"]) for r in rs)
            ci = ci95(s)
            ci_txt = "" if math.isnan(ci) else f" +- {100 * ci:.1f}"
            wci = ci95(w)
            wci_txt = "" if math.isnan(wci) else f" +- {wci:.2f}"
            confs = "; ".join(f"{float(r['epsilon']):.2f}, {r['h1']}, {r['h2']}" for r in rs)
            lines.append(f"| {m} | {len(rs)} | {100 * statistics.mean(s):.1f} %{ci_txt} [{100 * own:.1f}] | "
                         f"{statistics.mean(w):.2f}{wci_txt} | {confs} |")
        lines.append("")
        # Who wins: each tuned method against random search (the cheap baseline) and the default.
        base, dflt = success.get("random", []), success.get("default", [])
        means = {m: statistics.mean(v) for m, v in success.items()}
        if base and len(means) > 1:
            top = max(means, key=means.get)
            lines += [f"Highest mean success at N = {n}: **{top}** ({100 * means[top]:.1f} %). Each method minus "
                      "random search, in success points, with a 95 % Welch interval over study seeds (an interval "
                      "that contains 0 is no evidence either way); minus the default configuration (one "
                      "retraining, so no interval):", "",
                      "| method | minus random | minus default |", "|---|---|---|"]
            for m in means:
                if m in ("random", "default"):
                    continue
                w = welch(success[m], base)
                w_txt = "-" if w is None else f"{100 * w[0]:+.1f} [{100 * (w[0] - w[1]):+.1f}, {100 * (w[0] + w[1]):+.1f}]"
                d_txt = "-" if not dflt else f"{100 * (means[m] - dflt[0]):+.1f}"
                lines.append(f"| {m} | {w_txt} | {d_txt} |")
            lines.append("")

    # Best so far against cost, from the study files.
    cost_max = max((float(r["study_cost"]) for r in rows if r["study_cost"]), default=0.0)
    grid = [cost_max * i / 40 for i in range(41)] if cost_max > 0 else []
    curves = {}
    for m in methods:
        if m == "default":
            continue
        per_seed = []
        for name in sorted(os.listdir(a.studies)):
            if name.startswith(m + "-") and name.endswith(".db") and name[len(m) + 1:-3].isdigit():
                per_seed.append(best_vs_cost(trials(a.bin, os.path.join(a.studies, name)), grid))
        if per_seed:
            curves[m] = [statistics.mean(c[i] for c in per_seed if c[i] is not None)
                         if any(c[i] is not None for c in per_seed) else None for i in range(len(grid))]
    if curves:
        data = os.path.join(a.out, "best_vs_cost.csv")
        with open(data, "w") as f:
            f.write("cost," + ",".join(curves) + "\n")
            for i, c in enumerate(grid):
                f.write(f"{c:.3f}," + ",".join("" if curves[m][i] is None else f"{curves[m][i]:.4f}"
                                               for m in curves) + "\n")
        lines += ["## Best so far against cost", "",
                  f"Mean over study seeds of each study's best target-fidelity score (its own seeds) after each "
                  f"cost: `{os.path.basename(data)}`" + (", plotted in `main_job.svg`." if shutil.which("gnuplot") else
                                                         " (gnuplot not installed: no plot)."), ""]
        if shutil.which("gnuplot"):
            gp = os.path.join(a.out, "main_job.gp")
            svg = os.path.join(a.out, "main_job.svg")
            with open(gp, "w") as f:
                f.write(f"set terminal svg size 800,500\nset output '{svg}'\nset datafile separator ','\n"
                        "set key bottom right\nset xlabel 'cost (full evaluations)'\n"
                        "set ylabel 'best success so far (study seeds)'\nplot ")
                # gnuplot cycles 8 colours: the 9th line on is dashed, so no two lines look the same.
                f.write(", ".join(f"'{data}' using 1:{i + 2} with lines lw 2 dt {1 if i < 8 else 2} title '{m}'"
                                  for i, m in enumerate(curves)))
                f.write("\n")
            subprocess.run(["gnuplot", gp], check=False)
    with open(os.path.join(a.out, "main_job.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", os.path.join(a.out, "main_job.md"))


if __name__ == "__main__":
    main()
