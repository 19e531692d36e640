"""metadial from Python: studies, trials and samplers of the C++ engine.

    import metadial
    study = metadial.Study.create_or_load(storage="sqlite:runs.db", name="quad",
                                          space={"x": {"type": "float", "low": -5, "high": 5}})
    study.optimize(lambda t: (t.params["x"] - 1) ** 2, n_trials=20, sampler=metadial.samplers.GP())
    print(study.best_trial)

Errors from the engine arrive as `metadial.Error` and its subclasses, with the C++ message.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import _metadial
from ._metadial import ConfigError, DataError, Error, InvalidArgument, StorageError, TrialPruned
from . import samplers

__version__ = _metadial.__version__

__all__ = [
    "Study", "Trial", "TrialRecord", "samplers",
    "Error", "InvalidArgument", "ConfigError", "DataError", "StorageError", "TrialPruned",
]


def _failure_reason(e: BaseException) -> str:
    """The one-line reason a trial failed with, from the exception its objective raised."""
    return f"{type(e).__name__}: {e}".splitlines()[0] if str(e) else type(e).__name__


def _outcome(result: Any, fidelity: int, fidelities: "Fidelities") -> Tuple[float, float, Optional[str]]:
    """(value, cost, why it failed or None) of what an objective returned: a float or a (value,
    cost) pair; a float alone costs the trial's fidelity's cost when fidelities are given, else 0;
    a None or NaN value fails the trial."""
    cost = float(fidelities[fidelity][1]) if fidelities else 0.0
    if isinstance(result, tuple):
        result, cost = result
    if result is None or (isinstance(result, float) and math.isnan(result)):
        return math.nan, float(cost), f"objective returned {result!r}"
    return float(result), float(cost), None


def __getattr__(name: str) -> Any:
    # metadial.dialog (needs NumPy) and metadial.optuna (needs Optuna) load on first use, so that
    # `import metadial` needs neither.
    if name in ("dialog", "optuna"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'metadial' has no attribute {name!r}")

ParamValue = Union[float, int, str]


@dataclass(frozen=True)
class TrialRecord:
    """A read-only snapshot of one trial, as the storage holds it."""

    number: int
    state: str  # "running", "complete", "pruned" or "failed"
    params: Dict[str, ParamValue]
    value: Optional[float]
    fidelity: int
    cost: float
    intermediate: Dict[int, float] = field(default_factory=dict)
    fail_reason: str = ""
    worker: str = ""
    started_at: float = 0.0
    finished_at: float = 0.0
    retry_of: Optional[int] = None  # the trial this one re-runs (retry_failed), None if none

    @staticmethod
    def _from_dict(d: Mapping[str, Any]) -> "TrialRecord":
        return TrialRecord(number=d["number"], state=d["state"], params=dict(d["params"]), value=d["value"],
                           fidelity=d["fidelity"], cost=d["cost"], intermediate=dict(d["intermediate"]),
                           fail_reason=d["fail_reason"], worker=d["worker"], started_at=d["started_at"],
                           finished_at=d["finished_at"], retry_of=d["retry_of"])


class Trial:
    """A live trial from `Study.ask`: read `params` and `fidelity`, `report` intermediate values,
    then give it back with `Study.tell`."""

    def __init__(self, handle: "_metadial._Trial") -> None:
        self._handle = handle

    @property
    def number(self) -> int:
        return self._handle.number

    @property
    def params(self) -> Dict[str, ParamValue]:
        return self._handle.params

    @property
    def fidelity(self) -> int:
        return self._handle.fidelity

    def report(self, step: int, value: float) -> None:
        """Stores an intermediate value at a step (written at once)."""
        self._handle.report(int(step), float(value))

    def __repr__(self) -> str:
        return f"Trial(number={self.number}, params={self.params!r}, fidelity={self.fidelity})"


Fidelities = Optional[Sequence[Tuple[str, float]]]


class Study:
    """A named set of trials in a storage ("memory", "sqlite:PATH", "postgresql://..."), over one
    search space. Create with `Study.create_or_load`."""

    def __init__(self, handle: "_metadial._Study") -> None:
        self._handle = handle

    @classmethod
    def create_or_load(cls, storage: str, name: str, space: Mapping[str, Mapping[str, Any]],
                       direction: str = "minimize") -> "Study":
        """Creates the study, or loads it by name (then the space and direction must match).

        `space` maps each parameter to a dict shaped like a [space] table of a tune config:
        {"type": "float", "low": 1e-5, "high": 1e-1, "log": True},
        {"type": "int", "low": 1, "high": 8, "step": 1}, {"type": "categorical", "choices": [...]}.
        """
        return cls(_metadial._Study(storage, name, dict(space), direction))

    @property
    def name(self) -> str:
        return self._handle.name

    @property
    def direction(self) -> str:
        return self._handle.direction

    def ask(self, sampler: "samplers.Sampler", seed: int = 0, fidelities: Fidelities = None) -> Trial:
        """Starts the next trial with the sampler's proposal. The proposal depends on the history,
        on `seed` and on the trial's number only: the same study run again gives the same trials."""
        fids = [(str(n), float(c)) for n, c in (fidelities or [])]
        return Trial(self._handle.ask(sampler._handle(), int(seed), fids))

    def tell(self, trial: Trial, value: Optional[float] = None, cost: float = 0.0, state: str = "complete",
             reason: str = "") -> None:
        """Finishes a trial: complete with `value` (a NaN or infinite value makes it failed),
        or state="pruned" / "failed" (with a `reason`)."""
        if state == "complete" and value is None:
            raise InvalidArgument(f"tell: trial {trial.number} is complete but has no value")
        v = None if value is None else float(value)
        self._handle.tell(trial._handle, state, v, float(cost), reason)

    def optimize(self, fn: Callable[[Trial], float], n_trials: int, sampler: "samplers.Sampler",
                 seed: int = 0, fidelities: Fidelities = None,
                 catch: Tuple[type, ...] = (), jobs: int = 1) -> None:
        """Runs `n_trials` more trials: asks the sampler, calls fn(trial), tells the result. As in
        Optuna: fn may return a float or a (value, cost) pair (a float alone costs the trial's
        fidelity's cost when `fidelities` are given, as in `metadial tune`, else 0); raising `metadial.TrialPruned`
        stores the trial as pruned; a NaN or None result stores it as failed; any other exception
        stores the trial as failed and is raised again, unless it is an instance of one of `catch`
        (then the run goes on).

        jobs=1 runs the trials one at a time here. jobs > 1 runs them on `jobs` threads of the C++
        study runner (study::optimize), each calling fn with the GIL taken for the call (so fn
        runs in parallel only where it releases the GIL: NumPy, PyTorch, I/O). Its budget is the
        runner's: `n_trials` more complete or pruned trials (a failed trial is replaced; 10
        failures in a row end the run with metadial.Error); the sampler sees the running trials."""
        jobs = int(jobs)
        if jobs < 1:
            raise InvalidArgument(f"optimize: jobs must be >= 1, got {jobs}")
        if jobs > 1:
            self._optimize_threads(fn, int(n_trials), sampler, int(seed), fidelities, catch, jobs)
            return
        for _ in range(int(n_trials)):
            trial = self.ask(sampler, seed=seed, fidelities=fidelities)
            try:
                result = fn(trial)
            except TrialPruned:
                self.tell(trial, state="pruned")
                continue
            except BaseException as e:  # recorded, then raised again like Optuna
                self.tell(trial, state="failed", reason=_failure_reason(e))
                if isinstance(e, catch) and isinstance(e, Exception):
                    continue
                raise
            value, cost, failed = _outcome(result, trial.fidelity, fidelities)
            if failed:
                self.tell(trial, state="failed", reason=failed, cost=cost)
                continue
            self.tell(trial, value, cost=cost)

    def _optimize_threads(self, fn: Callable[[Any], Any], n_trials: int, sampler: "samplers.Sampler", seed: int,
                          fidelities: Fidelities, catch: Tuple[type, ...], jobs: int) -> None:
        raised: List[BaseException] = []

        def call(handle: "_metadial._RunTrial") -> Tuple[Any, ...]:
            # Runs on a runner thread with the GIL; every outcome becomes a tuple for the C++ side.
            try:
                result = fn(Trial(handle))
            except TrialPruned:
                return ("pruned", 0.0)
            except BaseException as e:
                reason = _failure_reason(e)
                if isinstance(e, catch) and isinstance(e, Exception):
                    return ("failed", reason)
                raised.append(e)
                return ("stop", reason)
            value, cost, failed = _outcome(result, handle.fidelity, fidelities)
            if failed:
                return ("failed", failed)
            return ("complete", value, cost)

        if n_trials <= 0:
            return
        fids = [(str(n), float(c)) for n, c in (fidelities or [])]
        self._handle.optimize(call, n_trials, sampler._handle(), seed, jobs, fids)
        if raised:
            raise raised[0]

    @property
    def trials(self) -> List[TrialRecord]:
        """Every trial, ordered by number."""
        return [TrialRecord._from_dict(d) for d in self._handle.trials()]

    @property
    def best_trial(self) -> Optional[TrialRecord]:
        """The best complete trial (any fidelity), or None."""
        d = self._handle.best_trial(-1)
        return None if d is None else TrialRecord._from_dict(d)

    @property
    def best_value(self) -> Optional[float]:
        b = self.best_trial
        return None if b is None else b.value

    @property
    def best_params(self) -> Optional[Dict[str, ParamValue]]:
        b = self.best_trial
        return None if b is None else b.params

    def __repr__(self) -> str:
        return f"Study(name={self.name!r}, direction={self.direction!r})"
