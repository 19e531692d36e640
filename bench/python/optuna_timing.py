"""An Optuna sampler wrapper that adds up the wall time spent in the sampler it wraps (the
"time in the sampler" of bench/python/optuna_sampler.py and bench/optim/tpe_peer.py)."""

import time

from optuna.samplers import BaseSampler


class Timed(BaseSampler):
    """Delegates to `inner` and adds up the seconds spent in it."""

    def __init__(self, inner):
        self.inner = inner
        self.seconds = 0.0

    def _timed(self, f, *args):
        t0 = time.perf_counter()
        try:
            return f(*args)
        finally:
            self.seconds += time.perf_counter() - t0

    def infer_relative_search_space(self, study, trial):
        return self._timed(self.inner.infer_relative_search_space, study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._timed(self.inner.sample_relative, study, trial, search_space)

    def sample_independent(self, study, trial, name, dist):
        return self._timed(self.inner.sample_independent, study, trial, name, dist)

    def before_trial(self, study, trial):
        return self._timed(self.inner.before_trial, study, trial)

    def after_trial(self, study, trial, state, values):
        return self._timed(self.inner.after_trial, study, trial, state, values)

    def reseed_rng(self):
        self.inner.reseed_rng()
