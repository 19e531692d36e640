"""metadial's samplers inside an Optuna study (needs the `optuna` package; Debian's python3-optuna).

    import optuna
    from metadial.optuna import MetadialSampler
    study = optuna.create_study(sampler=MetadialSampler("gp", n_initial=10, seed=1))
    study.optimize(objective, n_trials=30)

`MetadialSampler(name, **options)` is an `optuna.samplers.BaseSampler` over metadial's
single-fidelity samplers (`metadial.samplers.names()`: gp, tpe, random, sobol, lhs; lstm, pfn and
hyprl in a module built with LibTorch). Its relative search space is Optuna's intersection search
space of the complete and pruned trials, each float, int and categorical distribution mapped to
the same metadial parameter (a categorical's choices by index). The history the sampler sees is
Optuna's complete and pruned trials (with their intermediate values), and its running trials as
pending points (GP-BO and TPE put a constant liar there). A proposal depends only on `seed`, the
trial's number and that history, as in `metadial.Study.ask`: the same seed gives the same study.

Parameters outside that space, and distributions metadial has no parameter for (a float with a
`step`), are drawn by an independent sampler (Optuna's RandomSampler, seeded from the trial's
number and the parameter's name) with one warning per parameter. Optuna has no notion of fidelity,
so multi-fidelity samplers (lstm-mf) are refused: use them through `metadial.Study`.
"""
from __future__ import annotations

import warnings
import zlib
from typing import Any, Dict, List, Optional, Set

from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler, RandomSampler

try:  # Optuna >= 3.2 moved it (the old name warns there)
    from optuna.search_space import IntersectionSearchSpace
except ImportError:  # Optuna 3.1 (Debian bookworm)
    from optuna.samplers import IntersectionSearchSpace
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from . import _metadial
from ._metadial import InvalidArgument

__all__ = ["MetadialSampler", "MULTI_FIDELITY_SAMPLERS"]

#: Samplers that choose a fidelity as well as a configuration: not offered to Optuna.
MULTI_FIDELITY_SAMPLERS = frozenset({"lstm-mf"})
#: Samplers that need the module built with LibTorch.
_TORCH_SAMPLERS = frozenset({"lstm", "lstm-mf", "pfn", "hyprl"})

_STATES = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned", TrialState.RUNNING: "running"}


def _metadial_param(dist: BaseDistribution) -> Optional[Dict[str, Any]]:
    """The metadial parameter of an Optuna distribution, or None if metadial has none."""
    if isinstance(dist, FloatDistribution):
        if dist.step is not None:
            return None
        return {"type": "float", "low": float(dist.low), "high": float(dist.high), "log": bool(dist.log)}
    if isinstance(dist, IntDistribution):
        return {"type": "int", "low": int(dist.low), "high": int(dist.high), "step": int(dist.step),
                "log": bool(dist.log)}
    if isinstance(dist, CategoricalDistribution):
        return {"type": "categorical", "choices": [str(i) for i in range(len(dist.choices))]}
    return None


class MetadialSampler(BaseSampler):
    """An Optuna sampler running metadial's sampler `name` with its `options` (as in a tune
    config's [sampler] table, e.g. MetadialSampler("gp", n_initial=10)).

    seed: proposals are a function of (seed, trial number, history); 0 unless given.
    independent_sampler: for parameters outside the relative search space (default: Optuna's
    RandomSampler, seeded per trial and parameter).
    """

    def __init__(self, name: str, *, seed: int = 0, independent_sampler: Optional[BaseSampler] = None,
                 **options: Any) -> None:
        if name in MULTI_FIDELITY_SAMPLERS:
            raise InvalidArgument(f"MetadialSampler: '{name}' is a multi-fidelity sampler and Optuna has no "
                                  f"fidelities; use it through metadial.Study.ask(..., fidelities=[...])")
        if name in _TORCH_SAMPLERS and name not in _metadial.sampler_names():
            raise InvalidArgument(f"MetadialSampler: '{name}' needs the module built with LibTorch; this one has "
                                  f"{', '.join(_metadial.sampler_names())}")
        self.name = name
        self.options = {k: v for k, v in options.items() if v is not None}
        self._sampler = _metadial._Sampler(name, self.options)  # checks the name and options now
        self._seed = int(seed)
        self._independent = independent_sampler
        self._search_space = IntersectionSearchSpace(include_pruned=True)
        self._warned: Set[str] = set()
        self._had_history: Set[int] = set()  # trials that started with a complete or pruned trial before them

    def __str__(self) -> str:
        return f"MetadialSampler({self.name!r})"

    def reseed_rng(self) -> None:
        # Optuna calls this in each thread of optimize(n_jobs > 1). Proposals hold no generator
        # state (they are drawn from the seed and the trial's number), so there is nothing to do.
        if self._independent is not None:
            self._independent.reseed_rng()

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> Dict[str, BaseDistribution]:
        self._check_single_objective(study)
        if any(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.get_trials(deepcopy=False)):
            self._had_history.add(trial.number)
        space: Dict[str, BaseDistribution] = {}
        for name, dist in self._search_space.calculate(study, ordered_dict=True).items():
            if dist.single() or _metadial_param(dist) is None:
                continue  # single values need no sampler; unsupported ones go to sample_independent
            space[name] = dist
        return space

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: Dict[str, BaseDistribution]) -> Dict[str, Any]:
        if not search_space:
            return {}
        self._check_single_objective(study)
        names = list(search_space)
        space = {n: _metadial_param(search_space[n]) for n in names}
        history: List[Dict[str, Any]] = []
        for t in study.get_trials(deepcopy=False, states=tuple(_STATES)):
            if t.number >= trial.number:
                continue
            if any(n not in t.params or t.distributions[n] != search_space[n] for n in names):
                continue  # a running trial that has not drawn them yet, or another distribution
            history.append({
                "number": t.number,
                "state": _STATES[t.state],
                "params": {n: self._to_metadial(search_space[n], t.params[n]) for n in names},
                "value": t.value if t.state == TrialState.COMPLETE else None,
                "intermediate": dict(t.intermediate_values),
            })
        history.sort(key=lambda h: h["number"])
        direction = "maximize" if study.direction == StudyDirection.MAXIMIZE else "minimize"
        config = _metadial._suggest(self._sampler, space, direction, history, trial.number, self._seed)
        return {n: self._from_metadial(search_space[n], config[n]) for n in names}

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        self._check_single_objective(study)
        supported = _metadial_param(param_distribution) is not None
        # A trial that started without history has no relative search space: that is expected.
        if param_name not in self._warned and not param_distribution.single() and (
                not supported or trial.number in self._had_history):
            self._warned.add(param_name)
            why = ("metadial has no parameter for " + repr(param_distribution)) if not supported else \
                "it is not in the search space every complete and pruned trial shares"
            warnings.warn(f"MetadialSampler({self.name!r}): parameter '{param_name}' (trial {trial.number}) is "
                          f"drawn by {type(self._independent or RandomSampler()).__name__} because {why}; "
                          f"warned once per parameter", UserWarning, stacklevel=2)
        sampler = self._independent
        if sampler is None:
            key = zlib.crc32(param_name.encode())
            sampler = RandomSampler(seed=(self._seed * 1_000_003 + trial.number * 7_919 + key) % (2 ** 32))
        return sampler.sample_independent(study, trial, param_name, param_distribution)

    @staticmethod
    def _to_metadial(dist: BaseDistribution, value: Any) -> Any:
        if isinstance(dist, CategoricalDistribution):
            return str(int(dist.to_internal_repr(value)))
        if isinstance(dist, IntDistribution):
            return int(value)
        return float(value)

    @staticmethod
    def _from_metadial(dist: BaseDistribution, value: Any) -> Any:
        if isinstance(dist, CategoricalDistribution):
            return dist.choices[int(value)]
        return value

    def _check_single_objective(self, study: Study) -> None:
        if len(study.directions) > 1:
            raise InvalidArgument(f"MetadialSampler({self.name!r}): the study has {len(study.directions)} "
                                  f"objectives; metadial's samplers optimize one")
