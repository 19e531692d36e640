"""metadial.optuna.MetadialSampler inside Optuna's own study (Debian's python3-optuna 3.1)."""
import math
import os
import subprocess
import warnings

import pytest

optuna = pytest.importorskip("optuna")

import metadial
from metadial.optuna import MetadialSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)

BRANIN_MIN = 0.397887


def branin(trial):
    x = trial.suggest_float("x", -5.0, 10.0)
    y = trial.suggest_float("y", 0.0, 15.0)
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


def mixed(trial):
    x = trial.suggest_float("x", -3.0, 3.0)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    n = trial.suggest_int("n", 1, 9, step=2)
    act = trial.suggest_categorical("act", ["relu", None, 3])
    return x * x + abs(math.log10(lr) + 2) + n + (0.0 if act == "relu" else 1.0)


def test_optuna_optimize_with_gp_finds_branin_minimum():
    study = optuna.create_study(sampler=MetadialSampler("gp", n_initial=8, seed=1))
    study.optimize(branin, n_trials=30)
    assert len(study.trials) == 30
    assert study.best_value - BRANIN_MIN < 0.1


@pytest.mark.parametrize("name,options", [("gp", {"n_initial": 4}), ("tpe", {}), ("sobol", {}), ("lhs", {}),
                                          ("random", {})])
def test_same_seed_same_proposals_other_seed_others(name, options):
    def run(seed):
        study = optuna.create_study(sampler=MetadialSampler(name, seed=seed, **options))
        study.optimize(mixed, n_trials=10)
        return [t.params for t in study.trials]

    a = run(3)
    assert a == run(3)
    assert a != run(4)
    # Every distribution kind round-trips through metadial's space.
    assert all(p["n"] in (1, 3, 5, 7, 9) and p["act"] in ("relu", None, 3) and 1e-4 <= p["lr"] <= 1e-1 for p in a)


def test_proposals_come_from_the_metadial_sampler_after_the_first_trial():
    # Trial 0 has no search space yet (nothing complete): it is drawn independently. From trial 1
    # on, a Sobol sampler gives its unscrambled points, which Optuna's RandomSampler would not.
    study = optuna.create_study(sampler=MetadialSampler("sobol", scramble=False))
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=4)
    xs = [t.params["x"] for t in study.trials[1:]]
    assert xs[0] in (0.0, 0.5) and sorted(xs[1:]) == [0.25, 0.75]


def test_running_trials_are_pending_points_for_the_gp():
    def third_proposal(fail_pending):
        study = optuna.create_study(sampler=MetadialSampler("gp", n_initial=4, seed=2))
        study.optimize(branin, n_trials=10)
        pending = study.ask()
        branin_params = {"x": pending.suggest_float("x", -5.0, 10.0), "y": pending.suggest_float("y", 0.0, 15.0)}
        if fail_pending:
            study.tell(pending, state=optuna.trial.TrialState.FAIL)
        nxt = study.ask()
        return branin_params, (nxt.suggest_float("x", -5.0, 10.0), nxt.suggest_float("y", 0.0, 15.0))

    pending_a, next_with_pending = third_proposal(False)
    pending_b, next_without = third_proposal(True)
    assert pending_a == pending_b  # the same history up to there
    assert next_with_pending != next_without  # the liar at the running point moved the proposal


def test_maximize_direction_is_passed_on():
    study = optuna.create_study(direction="maximize", sampler=MetadialSampler("gp", n_initial=5, seed=0))
    study.optimize(lambda t: -(t.suggest_float("x", -2.0, 2.0) - 1.0) ** 2, n_trials=15)
    assert study.best_value > -0.05


def test_unsupported_distribution_falls_back_with_one_warning():
    def fn(trial):
        x = trial.suggest_float("x", 0.0, 1.0)
        q = trial.suggest_float("q", 0.0, 1.0, step=0.25)  # metadial has no float grid
        return x + q

    study = optuna.create_study(sampler=MetadialSampler("gp", n_initial=3, seed=0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(fn, n_trials=6)
    mine = [w for w in caught if "MetadialSampler" in str(w.message)]
    assert len(mine) == 1
    assert "'q'" in str(mine[0].message) and "RandomSampler" in str(mine[0].message)
    assert all(t.params["q"] in (0.0, 0.25, 0.5, 0.75, 1.0) for t in study.trials)
    assert len(study.trials) == 6


def test_dynamic_parameter_falls_back_with_one_warning():
    def fn(trial):
        x = trial.suggest_float("x", 0.0, 1.0)
        if trial.number % 2:
            return x + trial.suggest_int("extra", 0, 3)
        return x

    study = optuna.create_study(sampler=MetadialSampler("tpe", seed=0))
    with pytest.warns(UserWarning, match="'extra'.*not in the search space") as record:
        study.optimize(fn, n_trials=8)
    assert sum("MetadialSampler" in str(w.message) for w in record) == 1


def test_multi_fidelity_sampler_is_refused_in_one_line():
    with pytest.raises(metadial.InvalidArgument, match="multi-fidelity") as e:
        MetadialSampler("lstm-mf")
    assert "\n" not in str(e.value) and "metadial.Study" in str(e.value)


@pytest.mark.skipif("lstm" in metadial.samplers.names(), reason="this module has the LibTorch samplers")
def test_torch_sampler_without_torch_build_is_refused_in_one_line():
    with pytest.raises(metadial.InvalidArgument, match="needs the module built with LibTorch") as e:
        MetadialSampler("lstm")
    assert "\n" not in str(e.value)


def test_unknown_sampler_and_bad_option_raise_the_registry_message():
    with pytest.raises(metadial.InvalidArgument, match="unknown sampler"):
        MetadialSampler("nope")
    with pytest.raises(metadial.InvalidArgument, match="n_initial"):
        MetadialSampler("gp", n_initial="ten")


def test_multi_objective_study_is_refused():
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=MetadialSampler("gp"))
    with pytest.raises(metadial.InvalidArgument, match="2 objectives"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=1)


def test_parallel_optuna_jobs_run_every_trial():
    study = optuna.create_study(sampler=MetadialSampler("gp", n_initial=4, seed=0))
    study.optimize(branin, n_trials=12, n_jobs=2)
    assert len([t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]) == 12


@pytest.mark.skipif(not os.environ.get("METADIAL_BIN"), reason="METADIAL_BIN (the metadial program) not set")
@pytest.mark.parametrize("name, options, toml", [("gp", {"n_initial": 3}, "[sampler]\nn_initial = 3\n"),
                                                 ("tpe", {}, "")])
def test_same_seed_same_proposals_as_metadial_tune(tmp_path, name, options, toml):
    # The CLI tunes Branin; an Optuna study with MetadialSampler and the same seed, fed the CLI's
    # values (and its trial 0, which Optuna would draw independently), proposes the same points.
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[study]\nname = "cli"\nsampler = "{name}"\ntrials = 8\nseed = 3\n\n{toml}\n'
                   '[objective]\nfunction = "branin"\n')
    url = "sqlite:" + str(tmp_path / "runs.db")
    subprocess.run([os.environ["METADIAL_BIN"], "tune", str(cfg), "--storage", url], check=True, capture_output=True)
    space = {"x0": {"type": "float", "low": 0.0, "high": 1.0}, "x1": {"type": "float", "low": 0.0, "high": 1.0}}
    cli = metadial.Study.create_or_load(storage=url, name="cli", space=space).trials
    assert len(cli) == 8

    study = optuna.create_study(sampler=MetadialSampler(name, seed=3, **options))
    study.enqueue_trial(cli[0].params)
    def replay(trial):
        trial.suggest_float("x0", 0.0, 1.0)
        trial.suggest_float("x1", 0.0, 1.0)
        return cli[trial.number].value

    study.optimize(replay, n_trials=8)
    assert [t.params for t in study.trials] == [t.params for t in cli]
