"""Study.optimize(jobs > 1): the C++ study runner's threads calling the Python objective."""
import threading
import time

import pytest

import metadial
from metadial import samplers

QUAD = {"x": {"type": "float", "low": -5.0, "high": 5.0}, "y": {"type": "float", "low": -5.0, "high": 5.0}}


def quadratic(params):
    return (params["x"] - 1.0) ** 2 + (params["y"] + 2.0) ** 2


def test_two_jobs_run_every_trial_on_two_threads_and_the_budget_holds(tmp_path):
    study = metadial.Study.create_or_load(storage="sqlite:" + str(tmp_path / "j.db"), name="j", space=QUAD)
    threads = set()
    both_running = threading.Barrier(2, timeout=60)  # trials 0 and 1 must run at the same time

    def fn(trial):
        threads.add(threading.get_ident())
        if trial.number < 2:
            both_running.wait()  # releases the GIL; a BrokenBarrierError here fails the test
        trial.report(1, 2.0)
        return quadratic(trial.params)

    study.optimize(fn, n_trials=12, sampler=samplers.GP(n_initial=4), seed=1, jobs=2)
    recs = study.trials
    assert [r.number for r in recs] == list(range(12))
    assert all(r.state == "complete" for r in recs)
    assert all(r.intermediate == {1: 2.0} for r in recs)
    assert len(threads) == 2
    # n_trials more counted trials, whatever the study held before.
    study.optimize(fn, n_trials=5, sampler=samplers.Random(), seed=2, jobs=3)
    assert len(study.trials) == 17 and all(r.state == "complete" for r in study.trials)


def test_jobs_reraise_an_uncaught_exception_and_record_the_failure():
    study = metadial.Study.create_or_load(storage="memory", name="f", space=QUAD)

    def fn(trial):
        if trial.number == 3:
            raise ValueError("diverged")
        time.sleep(0.01)
        return quadratic(trial.params)

    with pytest.raises(ValueError, match="diverged"):
        study.optimize(fn, n_trials=50, sampler=samplers.Random(), jobs=2)
    recs = study.trials
    failed = [r for r in recs if r.state == "failed"]
    assert [r.number for r in failed] == [3] and failed[0].fail_reason == "ValueError: diverged"
    assert len(recs) < 50  # the run stopped


def test_jobs_with_catch_replace_failed_trials_and_store_pruned_and_costs():
    study = metadial.Study.create_or_load(storage="memory", name="c", space=QUAD)

    def fn(trial):
        if trial.number % 4 == 1:
            raise ValueError("bad")
        if trial.number % 4 == 2:
            raise metadial.TrialPruned("stop")
        return quadratic(trial.params), 1.5

    study.optimize(fn, n_trials=9, sampler=samplers.Sobol(), jobs=2, catch=(ValueError,))
    recs = study.trials
    counted = [r for r in recs if r.state in ("complete", "pruned")]
    assert len(counted) == 9
    assert {r.state for r in recs if r.number % 4 == 1} == {"failed"}
    assert {r.state for r in recs if r.number % 4 == 2} == {"pruned"}
    assert all(r.cost == 1.5 for r in recs if r.state == "complete")


def test_jobs_must_be_positive():
    study = metadial.Study.create_or_load(storage="memory", name="b", space=QUAD)
    with pytest.raises(metadial.InvalidArgument, match="jobs must be >= 1"):
        study.optimize(lambda t: 0.0, n_trials=1, sampler=samplers.Random(), jobs=0)


def test_report_after_the_objective_returned_raises():
    study = metadial.Study.create_or_load(storage="memory", name="r", space=QUAD)
    kept = []
    study.optimize(lambda t: kept.append(t) or 0.0, n_trials=2, sampler=samplers.Random(), jobs=2)
    with pytest.raises(metadial.InvalidArgument, match="after the objective returned"):
        kept[0].report(1, 1.0)
