"""The LibTorch samplers from Python (lstm, lstm-mf, pfn, hyprl): in metadial.Study and inside an
Optuna study. Skipped in a module built without LibTorch (then test_optuna checks the refusal).

Run by CTest (python.pytest) with PYTHONPATH=<build>/python and METADIAL_MODELS=<repository>/models
(the shipped default models; set here too when pytest runs by hand)."""
import math
import os
import pathlib

import pytest

import metadial
from metadial import samplers

pytestmark = pytest.mark.skipif("lstm" not in samplers.names(), reason="module built without LibTorch")

REPO = pathlib.Path(__file__).resolve().parents[2]
os.environ.setdefault("METADIAL_MODELS", str(REPO / "models"))

BRANIN = {"x0": {"type": "float", "low": 0.0, "high": 1.0}, "x1": {"type": "float", "low": 0.0, "high": 1.0}}
BRANIN_MIN = 0.397887357729738


def branin(trial):
    x = -5.0 + 15.0 * trial.params["x0"]
    y = 15.0 * trial.params["x1"]
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


def run(sampler, seed, n=20, jobs=1, fidelities=None):
    study = metadial.Study.create_or_load(storage="memory", name="s", space=BRANIN, direction="minimize")
    study.optimize(branin, n_trials=n, sampler=sampler, seed=seed, jobs=jobs, fidelities=fidelities)
    return study


def points(study):
    return [(t.params["x0"], t.params["x1"]) for t in study.trials]


def test_every_torch_sampler_is_listed():
    assert {"lstm", "lstm-mf", "pfn", "hyprl"} <= set(samplers.names())


def test_lstm_is_deterministic_per_seed_in_bounds_and_seeded():
    a, b, c = run(samplers.LSTM(), 1), run(samplers.LSTM(), 1), run(samplers.LSTM(), 2)
    assert points(a) == points(b)
    assert points(a) != points(c)
    assert all(0.0 <= u <= 1.0 for p in points(a) for u in p)
    assert len(set(points(a))) == 20  # no proposal repeated
    assert a.best_trial.value >= BRANIN_MIN


def test_lstm_with_two_jobs_proposes_different_points_to_concurrent_asks():
    study = run(samplers.LSTM(), 3, n=12, jobs=2)
    assert len(study.trials) == 12
    assert len(set(points(study))) == 12


def test_lstm_mf_chooses_among_the_fidelities_and_reaches_the_target():
    fidelities = [("low", 0.1), ("high", 1.0)]
    study = run(samplers.LSTMMF(), 1, n=25, fidelities=fidelities)
    used = {t.fidelity for t in study.trials}
    assert used <= {0, 1}
    assert 1 in used
    for t in study.trials:
        assert t.cost == pytest.approx(fidelities[t.fidelity][1])


def test_lstm_mf_without_fidelities_is_refused_in_one_line():
    with pytest.raises(metadial.Error, match="single fidelity") as e:
        run(samplers.LSTMMF(), 1, n=1)
    assert "\n" not in str(e.value)


def test_pfn_runs_and_is_deterministic():
    a, b = run(samplers.PFN(), 4, n=8), run(samplers.PFN(), 4, n=8)
    assert points(a) == points(b)
    assert len(set(points(a))) == 8


def test_a_missing_model_is_one_line_naming_the_file(tmp_path):
    missing = str(tmp_path / "nope.pt")
    with pytest.raises(metadial.Error, match="nope.pt") as e:
        run(samplers.LSTM(model=missing), 1, n=1)
    assert "\n" not in str(e.value)


def test_hyprl_refuses_a_space_that_is_not_its_grid_in_one_line():
    sampler = samplers.HypRL(model=str(REPO / "models" / "hyprl-svm.pt"), meta_features=[0.0] * 22)
    with pytest.raises(metadial.Error) as e:
        run(sampler, 1, n=1)
    assert "\n" not in str(e.value) and "grid" in str(e.value)


def test_lstm_inside_optuna():
    optuna = pytest.importorskip("optuna")
    from metadial.optuna import MetadialSampler

    def fn(trial):
        x = -5.0 + 15.0 * trial.suggest_float("x0", 0.0, 1.0)
        y = 15.0 * trial.suggest_float("x1", 0.0, 1.0)
        b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
        return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    runs = []
    for _ in range(2):
        study = optuna.create_study(sampler=MetadialSampler("lstm", seed=5))
        study.optimize(fn, n_trials=10)
        runs.append([(t.params["x0"], t.params["x1"]) for t in study.trials])
    assert runs[0] == runs[1]
    assert len(set(runs[0])) == 10
