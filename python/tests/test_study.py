"""The Python API of the study engine: ask/tell, optimize, records, samplers and errors.

Run by CTest (python.pytest) with PYTHONPATH=<build>/python."""
import math
import os
import subprocess

import pytest

import metadial
from metadial import samplers

SPACE = {
    "x": {"type": "float", "low": -5.0, "high": 5.0},
    "lr": {"type": "float", "low": 1e-5, "high": 1e-1, "log": True},
    "layers": {"type": "int", "low": 1, "high": 4},
    "act": {"type": "categorical", "choices": ["relu", "tanh"]},
}

QUAD = {"x": {"type": "float", "low": -5.0, "high": 5.0}, "y": {"type": "float", "low": -5.0, "high": 5.0}}


def quadratic(trial):
    p = trial.params
    return (p["x"] - 1.0) ** 2 + (p["y"] + 2.0) ** 2


def storage(tmp_path, name="runs.db"):
    return "sqlite:" + str(tmp_path / name)


def test_ask_tell_round_trip_through_sqlite(tmp_path):
    url = storage(tmp_path)
    study = metadial.Study.create_or_load(storage=url, name="rt", space=SPACE, direction="minimize")
    sampler = samplers.Random()
    told = []
    for i in range(4):
        trial = study.ask(sampler, seed=7)
        assert trial.number == i
        assert set(trial.params) == set(SPACE)
        assert -5.0 <= trial.params["x"] <= 5.0
        assert isinstance(trial.params["layers"], int)
        assert trial.params["act"] in ("relu", "tanh")
        assert trial.fidelity == 0
        trial.report(1, 10.0 + i)
        trial.report(2, 5.0 + i)
        study.tell(trial, float(i), cost=0.5)
        told.append(dict(trial.params))
    pending = study.ask(sampler, seed=7)
    study.tell(pending, state="pruned")

    again = metadial.Study.create_or_load(storage=url, name="rt", space=SPACE, direction="minimize")
    records = again.trials
    assert [r.number for r in records] == [0, 1, 2, 3, 4]
    assert [r.state for r in records] == ["complete"] * 4 + ["pruned"]
    assert [r.params for r in records[:4]] == told
    assert records[2].value == 2.0 and records[2].cost == 0.5
    assert records[2].intermediate == {1: 12.0, 2: 7.0}
    assert again.best_trial.number == 0 and again.best_value == 0.0


def test_trial_records_are_plain_frozen_values(tmp_path):
    study = metadial.Study.create_or_load(storage="memory", name="m", space=QUAD)
    trial = study.ask(samplers.Sobol())
    study.tell(trial, 3.5)
    (rec,) = study.trials
    assert isinstance(rec, metadial.TrialRecord)
    assert (rec.number, rec.state, rec.value, rec.fidelity) == (0, "complete", 3.5, 0)
    with pytest.raises(Exception):
        rec.value = 1.0  # frozen


def test_telling_a_trial_twice_raises(tmp_path):
    study = metadial.Study.create_or_load(storage="memory", name="m", space=QUAD)
    trial = study.ask(samplers.Random())
    study.tell(trial, 1.0)
    with pytest.raises(metadial.InvalidArgument, match="already finished"):
        study.tell(trial, 2.0)


def test_optimize_gp_finds_the_quadratic_minimum(tmp_path):
    study = metadial.Study.create_or_load(storage=storage(tmp_path), name="gp", space=QUAD)
    study.optimize(quadratic, n_trials=20, sampler=samplers.GP(n_initial=6), seed=3)
    assert len(study.trials) == 20
    assert study.best_value < 0.5
    assert abs(study.best_params["x"] - 1.0) < 0.7 and abs(study.best_params["y"] + 2.0) < 0.7


@pytest.mark.parametrize("make", [samplers.Random, lambda: samplers.GP(n_initial=4)])
def test_same_seed_same_params(make):
    def run(seed, name):
        study = metadial.Study.create_or_load(storage="memory", name=name, space=QUAD)
        study.optimize(quadratic, n_trials=8, sampler=make(), seed=seed)
        return [r.params for r in study.trials]

    assert run(11, "a") == run(11, "b")
    assert run(11, "a") != run(12, "c")


def test_optimize_records_a_failed_trial_and_reraises_like_optuna():
    study = metadial.Study.create_or_load(storage="memory", name="f", space=QUAD)

    def fn(trial):
        if trial.number == 2:
            raise ValueError("diverged at step 3")
        return quadratic(trial)

    with pytest.raises(ValueError, match="diverged at step 3"):
        study.optimize(fn, n_trials=5, sampler=samplers.Random())
    states = [r.state for r in study.trials]
    assert states == ["complete", "complete", "failed"]
    assert study.trials[2].fail_reason == "ValueError: diverged at step 3"

    # With catch=, the run goes on past the failure.
    study.optimize(fn, n_trials=2, sampler=samplers.Random(), catch=(ValueError,))
    assert [r.state for r in study.trials] == ["complete", "complete", "failed", "complete", "complete"]


def test_optimize_prunes_and_fails_on_nan():
    study = metadial.Study.create_or_load(storage="memory", name="p", space=QUAD)

    def fn(trial):
        trial.report(0, 1.0)
        if trial.number == 0:
            raise metadial.TrialPruned("stopped")
        if trial.number == 1:
            return float("nan")
        return 1.0, 2.5

    study.optimize(fn, n_trials=3, sampler=samplers.Random())
    recs = study.trials
    assert [r.state for r in recs] == ["pruned", "failed", "complete"]
    assert recs[2].cost == 2.5


def test_unknown_sampler_raises_invalid_argument_with_the_registry_message():
    with pytest.raises(metadial.InvalidArgument, match=r"^unknown sampler 'nope' \(known: .*gp.*random") as e:
        samplers.Sampler("nope")
    assert isinstance(e.value, metadial.Error) and "\n" not in str(e.value)


def test_bad_sampler_option_raises_invalid_argument():
    with pytest.raises(metadial.InvalidArgument, match="n_initia"):
        samplers.GP(n_initia=3)


@pytest.mark.parametrize(
    "space, match",
    [
        ({"x": {"type": "float", "low": 2.0, "high": 1.0}}, "'x'"),
        ({"x": {"type": "float", "low": 0.0, "high": 1.0, "log": True}}, "'x'"),
        ({"x": {"type": "categorical", "choices": []}}, "'x'"),
        ({"x": {"type": "cube", "low": 0, "high": 1}}, "unknown type 'cube'"),
        ({"x": {"type": "float", "high": 1.0}}, "missing \"low\""),
        ({"x": {"type": "int", "low": 0, "high": 3, "stepp": 1}}, "unknown key 'stepp'"),
        ({}, "no parameter"),
    ],
)
def test_bad_space_raises_invalid_argument(space, match):
    with pytest.raises(metadial.InvalidArgument, match=match) as e:
        metadial.Study.create_or_load(storage="memory", name="bad", space=space)
    assert "\n" not in str(e.value)


def test_loading_with_another_space_raises_on_sqlite(tmp_path):
    url = storage(tmp_path)
    metadial.Study.create_or_load(storage=url, name="s", space=QUAD)
    with pytest.raises(metadial.InvalidArgument):
        metadial.Study.create_or_load(storage=url, name="s", space={"x": QUAD["x"]})


def test_bad_storage_raises_storage_error(tmp_path):
    with pytest.raises(metadial.StorageError):
        metadial.Study.create_or_load(storage="sqlite:" + str(tmp_path / "no" / "such" / "dir.db"), name="s",
                                      space=QUAD)


def test_bad_direction_raises():
    with pytest.raises(metadial.InvalidArgument, match="sideways"):
        metadial.Study.create_or_load(storage="memory", name="s", space=QUAD, direction="sideways")


def test_exception_hierarchy():
    for cls in (metadial.InvalidArgument, metadial.ConfigError, metadial.DataError, metadial.StorageError,
                metadial.TrialPruned):
        assert issubclass(cls, metadial.Error)
    assert issubclass(metadial.Error, RuntimeError)


def test_sampler_names_include_the_builtins():
    names = samplers.names()
    for n in ("random", "sobol", "lhs", "gp", "tpe", "bohb"):
        assert n in names
    samplers.TPE()  # registered, default options accepted
    samplers.BOHB(random_fraction=0.5)


def test_maximize():
    study = metadial.Study.create_or_load(storage="memory", name="max", space=QUAD, direction="maximize")
    study.optimize(lambda t: -quadratic(t), n_trials=5, sampler=samplers.Random(), seed=1)
    assert study.direction == "maximize"
    assert study.best_value == max(r.value for r in study.trials)
    assert not math.isnan(study.best_value)


@pytest.mark.skipif(not os.environ.get("METADIAL_BIN"), reason="METADIAL_BIN (the metadial program) not set")
def test_a_study_written_from_python_is_read_by_metadial_trials(tmp_path):
    url = storage(tmp_path)
    study = metadial.Study.create_or_load(storage=url, name="py", space=SPACE)
    study.optimize(lambda t: t.params["x"], n_trials=3, sampler=samplers.Random(), seed=5)
    out = subprocess.run([os.environ["METADIAL_BIN"], "trials", "--storage", url, "--study", "py", "--csv"],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    assert out[0].startswith("number,state,value,")
    rows = [line.split(",") for line in out[1:]]
    assert [(int(r[0]), r[1], float(r[2])) for r in rows] == [(t.number, t.state, t.value) for t in study.trials]


@pytest.mark.skipif(not os.environ.get("METADIAL_BIN"), reason="METADIAL_BIN (the metadial program) not set")
@pytest.mark.parametrize("name, options, toml", [("random", {}, ""), ("gp", {"n_initial": 3}, "[sampler]\nn_initial = 3\n")])
def test_same_seed_same_proposals_as_metadial_tune(tmp_path, name, options, toml):
    # The CLI tunes Branin; Python reads that study, then runs its own with the same sampler and
    # seed, feeding back the CLI's values: every proposal must be the same.
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[study]\nname = "cli"\nsampler = "{name}"\ntrials = 6\nseed = 3\n\n{toml}\n'
                   '[objective]\nfunction = "branin"\n')
    url = storage(tmp_path)
    subprocess.run([os.environ["METADIAL_BIN"], "tune", str(cfg), "--storage", url], check=True, capture_output=True)
    branin_space = {"x0": {"type": "float", "low": 0.0, "high": 1.0}, "x1": {"type": "float", "low": 0.0, "high": 1.0}}
    cli = metadial.Study.create_or_load(storage=url, name="cli", space=branin_space)
    cli_trials = cli.trials
    assert len(cli_trials) == 6 and all(t.state == "complete" for t in cli_trials)

    py = metadial.Study.create_or_load(storage=url, name="py", space=branin_space)
    py.optimize(lambda t: cli_trials[t.number].value, n_trials=6, sampler=samplers.Sampler(name, **options), seed=3)
    assert [t.params for t in py.trials] == [t.params for t in cli_trials]
