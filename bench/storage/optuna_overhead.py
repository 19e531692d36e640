#!/usr/bin/python3
"""Optuna's per-trial overhead as a study grows: the counterpart of repro_trial_overhead.

RandomSampler on Branin (x0, x1 in [0, 1], the same unit-cube Branin as metadial's built-in),
one study per storage, run to the largest N; the objective notes the time of every trial, so the
wall time at N = 500, 2000, ... and the per-trial slope between two N are read from one run
(start-up is only the study's creation). Optuna's logging is set to WARNING (no per-trial INFO
line). A run that passes --max-seconds stops early (study.stop()); the report then says how far
it got, and slopes are given only for the segments it reached.

Storages:
  memory  optuna.storages.InMemoryStorage
  sqlite  optuna.storages.RDBStorage("sqlite:///FILE"): SQLAlchemy's pysqlite, SQLite's own
          defaults, i.e. journal_mode=DELETE (rollback journal) and synchronous=FULL; the script
          reads both PRAGMAs back and prints them. (metadial's SQLite runs WAL + synchronous=FULL.)
  postgres optuna.storages.RDBStorage("postgresql+psycopg2://..." from --pg-url, e.g. the server of
          bench/storage/pg_server.sh; Debian's python3-psycopg2); the server's fsync and
          synchronous_commit are read back and printed. A study "overhead" already there is deleted.

  /usr/bin/python3 bench/storage/optuna_overhead.py [--storages memory,sqlite,postgres]
      [--n 500,2000,5000,10000] [--max-seconds S] [--dir DIR] [--csv FILE] [--pg-url URL]
"""

import argparse
import math
import os
import sys
import tempfile
import time

import optuna


def branin(u0, u1):
    x1 = -5.0 + 15.0 * u0
    x2 = 15.0 * u1
    b = 5.1 / (4.0 * math.pi**2)
    c = 5.0 / math.pi
    t = 1.0 / (8.0 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6.0) ** 2 + 10.0 * (1.0 - t) * math.cos(x1) + 10.0


def run(kind, n, max_seconds, directory, pg_url=""):
    path = None
    if kind == "postgres":
        if not pg_url:
            raise SystemExit("--storages postgres needs --pg-url postgresql://USER@HOST:PORT/DB")
        url = pg_url.replace("postgresql://", "postgresql+psycopg2://", 1)
        storage = optuna.storages.RDBStorage(url)
        try:
            optuna.delete_study(study_name="overhead", storage=storage)
        except KeyError:
            pass
        with storage.engine.connect() as conn:
            import sqlalchemy

            fsync = conn.execute(sqlalchemy.text("SHOW fsync")).scalar()
            sync = conn.execute(sqlalchemy.text("SHOW synchronous_commit")).scalar()
        settings = "RDBStorage postgresql+psycopg2, fsync=%s, synchronous_commit=%s" % (fsync, sync)
    elif kind == "memory":
        storage = optuna.storages.InMemoryStorage()
        settings = "InMemoryStorage"
    elif kind == "sqlite":
        path = os.path.join(directory, "optuna_trial_overhead_%d.db" % os.getpid())
        for suffix in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        storage = optuna.storages.RDBStorage("sqlite:///" + path)
        with storage.engine.connect() as conn:
            import sqlalchemy

            sync = conn.execute(sqlalchemy.text("PRAGMA synchronous")).scalar()
            journal = conn.execute(sqlalchemy.text("PRAGMA journal_mode")).scalar()
        names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        settings = "RDBStorage sqlite, journal_mode=%s, synchronous=%s" % (journal, names.get(sync, sync))
    else:
        raise SystemExit("unknown storage %r (memory, sqlite, postgres)" % kind)

    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=1),
                                direction="minimize", study_name="overhead")
    times = []
    t0 = time.perf_counter()

    def objective(trial):
        v = branin(trial.suggest_float("x0", 0.0, 1.0), trial.suggest_float("x1", 0.0, 1.0))
        times.append(time.perf_counter() - t0)
        return v

    def stop_when_late(st, _trial):
        if max_seconds and time.perf_counter() - t0 > max_seconds:
            st.stop()

    study.optimize(objective, n_trials=n, callbacks=[stop_when_late], gc_after_trial=False)
    wall = time.perf_counter() - t0
    if path:
        for suffix in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    return settings, wall, times


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--storages", default="memory,sqlite")
    p.add_argument("--n", default="500,2000,5000,10000")
    p.add_argument("--max-seconds", type=float, default=0.0, help="stop a run after this long (0: never)")
    p.add_argument("--dir", default=os.environ.get("METADIAL_BENCH_DIR", tempfile.gettempdir()))
    p.add_argument("--csv", default="")
    p.add_argument("--pg-url", default="")
    a = p.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ns = sorted(int(x) for x in a.n.split(","))
    csv = open(a.csv, "w") if a.csv else None
    if csv:
        csv.write("storage,n,trial,seconds\n")
    print("optuna %s, python %s" % (optuna.__version__, sys.version.split()[0]))
    for kind in a.storages.split(","):
        settings, wall, times = run(kind, ns[-1], a.max_seconds, a.dir, a.pg_url)
        print("%s: %s; ran %d of %d trials in %.2f s" % (kind, settings, len(times), ns[-1], wall))
        print("%-8s %7s %10s %12s" % ("storage", "N", "wall_s", "us/trial"))
        for n in ns:
            if n <= len(times):
                print("%-8s %7d %10.3f %12.1f" % (kind, n, times[n - 1], 1e6 * times[n - 1] / n))
        marks = [1] + [n for n in ns if n <= len(times)]
        if len(times) not in marks:
            marks.append(len(times))
        seg = ["%d->%d: %.1f" % (a_, b_, 1e6 * (times[b_ - 1] - times[a_ - 1]) / (b_ - a_))
               for a_, b_ in zip(marks, marks[1:]) if b_ > a_]
        print("%-8s slope us/trial (inside the run):  %s" % (kind, "  ".join(seg)))
        sys.stdout.flush()
        if csv:
            for k in range(99, len(times), 100):
                csv.write("%s,%d,%d,%.6f\n" % (kind, ns[-1], k + 1, times[k]))
    if csv:
        csv.close()


if __name__ == "__main__":
    main()
