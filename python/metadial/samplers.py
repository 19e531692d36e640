"""Samplers by name, with their options as in a tune config's [sampler] table.

The options are checked by the C++ registry when the sampler is created (an unknown sampler or
option raises metadial.InvalidArgument with the registry's message)."""
from __future__ import annotations

from typing import Any, List, Optional

from . import _metadial

__all__ = ["Sampler", "Random", "Sobol", "LHS", "GP", "TPE", "BOHB", "LSTM", "LSTMMF", "PFN", "HypRL", "names"]


def names() -> List[str]:
    """The samplers this build has ("lstm", "lstm-mf", "pfn" and "hyprl" need the LibTorch build)."""
    return list(_metadial.sampler_names())


class Sampler:
    """A metadial sampler by registry name: Sampler("gp", n_initial=10)."""

    registry_name: str = ""

    def __init__(self, name: Optional[str] = None, **options: Any) -> None:
        if self.registry_name and name is not None:
            raise TypeError(f"{type(self).__name__} takes its options as keywords, not a sampler name")
        self.name = name if name is not None else self.registry_name
        self.options = {k: v for k, v in options.items() if v is not None}
        self._cpp = _metadial._Sampler(self.name, self.options)  # validates now

    def _handle(self) -> "_metadial._Sampler":
        return self._cpp

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})" if type(self) is not Sampler else f"Sampler({self.name!r}, {opts})"


class Random(Sampler):
    registry_name = "random"


class Sobol(Sampler):
    registry_name = "sobol"


class LHS(Sampler):
    registry_name = "lhs"


class GP(Sampler):
    """GP-BO; e.g. GP(n_initial=10)."""

    registry_name = "gp"


class TPE(Sampler):
    registry_name = "tpe"


class BOHB(Sampler):
    """BOHB (Falkner et al. 2018): use it with a study whose trials report intermediate values and
    the hyperband pruner's rungs (min_resource, reduction_factor as the pruner's)."""

    registry_name = "bohb"


class LSTM(Sampler):
    """The learned sampler; model=None uses the shipped default model for the space's dimension."""

    registry_name = "lstm"

    def __init__(self, model: Optional[str] = None, **options: Any) -> None:
        super().__init__(None, model=model, **options)


class LSTMMF(Sampler):
    """The learned multi-fidelity sampler (pass fidelities to Study.ask / optimize)."""

    registry_name = "lstm-mf"

    def __init__(self, model: Optional[str] = None, **options: Any) -> None:
        super().__init__(None, model=model, **options)


class PFN(Sampler):
    """The learned surrogate (PFN, see the README): model=None uses models/pfn.pt."""

    registry_name = "pfn"

    def __init__(self, model: Optional[str] = None, **options: Any) -> None:
        super().__init__(None, model=model, **options)


class HypRL(Sampler):
    """The RL policy over configurations of a tabular objective (model=..., as in a tune config)."""

    registry_name = "hyprl"
