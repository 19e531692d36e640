"""The C++ dialogue simulator as a reinforcement-learning environment, in Gymnasium's API
(without needing the gymnasium package).

    from metadial.dialog import Env, VectorEnv
    env = Env(env="env3", domain="restaurant", seed=0)
    obs, info = env.reset()
    while True:
        action = int(np.flatnonzero(info["action_mask"])[0])
        obs, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break

Seeds: after reset(seed=S) (or Env(seed=S) and a plain reset()), dialogue k (0, 1, ...) is the one
`metadial dialog eval/show --seed S` runs as its dialogue k: the same goal, user and channel
noise for the same actions. VectorEnv(n, seed=S) runs env i as Env(seed=S + i) (Gymnasium's
vector convention) and resets a finished env at once (its last observation is in
info["final_observation"]).

Observations are float32 vectors (the belief tracker's features, each in [0, 1]); actions are
the domain's summary actions (`action_names`); info["action_mask"] is PyDial's mask (True = the
policy may take it; all True for the presets without masks). A dialogue ends after the user's
goodbye, the system's bye (terminated) or at the turn limit (truncated).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import _metadial

__all__ = ["Env", "VectorEnv", "Box", "Discrete", "env_names"]


def env_names() -> List[str]:
    """The presets: env1..env6 (PyDial's benchmark)."""
    return list(_metadial.env_preset_names())


@dataclass(frozen=True)
class Box:
    """A box of `shape` in [low, high], like gymnasium.spaces.Box."""

    low: float
    high: float
    shape: Tuple[int, ...]
    dtype: Any = np.float32

    def contains(self, x: Any) -> bool:
        a = np.asarray(x)
        return a.shape == self.shape and bool(np.all((a >= self.low) & (a <= self.high)))


@dataclass(frozen=True)
class Discrete:
    """The actions 0..n-1, like gymnasium.spaces.Discrete."""

    n: int

    def contains(self, x: Any) -> bool:
        return isinstance(x, (int, np.integer)) and 0 <= int(x) < self.n


class Env:
    """One simulated user. env: a preset ("env1".."env6"); domain: a built-in domain
    ("restaurant", "movie") unless `ontology` names an ontology file; kb_entities and kb_seed make
    the knowledge base (as `metadial dialog --kb-entities/--kb-seed`)."""

    def __init__(self, env: str = "env1", domain: str = "restaurant", seed: int = 0, *, ontology: str = "",
                 kb_entities: int = 100, kb_seed: int = 0) -> None:
        self._h = _metadial._Env(env, domain, ontology, int(kb_entities), int(kb_seed), int(seed))
        self.observation_space = Box(0.0, 1.0, (self._h.observation_size,))
        self.action_space = Discrete(self._h.num_actions)
        self.action_names: List[str] = list(self._h.action_names)
        self.max_turns: int = self._h.max_turns
        self.spec_name = f"{self._h.env_name}/{self._h.domain_name}"

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None
              ) -> Tuple[np.ndarray, Dict[str, Any]]:
        """Starts the next dialogue (dialogue 0 again with a new `seed`); the user speaks first."""
        obs, mask = self._h.reset(None if seed is None else int(seed))
        return obs, {"action_mask": mask, "turn": 0}

    def step(self, action: int) -> Tuple[np.ndarray, float, bool, bool, Dict[str, Any]]:
        """Takes summary action `action`: (obs, reward, terminated, truncated, info); info has
        "action_mask", "turn" and, at the end, "success". metadial.InvalidArgument on an action
        out of range or a finished dialogue."""
        if not isinstance(action, (int, np.integer)):
            raise _metadial.InvalidArgument(f"Env.step: action must be an int, got {action!r}")
        obs, reward, terminated, truncated, success, mask, turn = self._h.step(int(action))
        info: Dict[str, Any] = {"action_mask": mask, "turn": turn}
        if terminated or truncated:
            info["success"] = success
        return obs, reward, terminated, truncated, info

    def render(self) -> str:
        """The last turn as `metadial dialog show` prints it (after reset: the goal, then the
        user's opening turn)."""
        text = self._h.render_turn()
        if self._h.turn == 0:
            text = "goal: " + self._h.render_goal(True) + "\n" + text
        return text

    @property
    def goal(self) -> str:
        """The user's goal now (after any relaxation)."""
        return self._h.render_goal(False)

    @property
    def goal_relaxed(self) -> bool:
        return self._h.goal_relaxed()

    def close(self) -> None:
        """Later calls raise metadial.InvalidArgument."""
        self._h.close()

    @property
    def closed(self) -> bool:
        return self._h.closed

    def __enter__(self) -> "Env":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Env({self.spec_name}, {self.action_space.n} actions, obs {self.observation_space.shape[0]})"


class VectorEnv:
    """`n` simulated users stepped together in C++ (one thread, without the GIL), with NumPy
    arrays in and out and autoreset."""

    def __init__(self, n: int, env: str = "env1", domain: str = "restaurant", seed: int = 0, *, ontology: str = "",
                 kb_entities: int = 100, kb_seed: int = 0) -> None:
        self._h = _metadial._VectorEnv(int(n), env, domain, ontology, int(kb_entities), int(kb_seed), int(seed))
        self.num_envs: int = self._h.num_envs
        self.single_observation_space = Box(0.0, 1.0, (self._h.observation_size,))
        self.single_action_space = Discrete(self._h.num_actions)
        self.observation_space = Box(0.0, 1.0, (self.num_envs, self._h.observation_size))

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None
              ) -> Tuple[np.ndarray, Dict[str, Any]]:
        """Starts a dialogue in every env: (obs (n, d) float32, {"action_mask": (n, A) bool})."""
        obs, masks = self._h.reset(None if seed is None else int(seed))
        return obs, {"action_mask": masks}

    def step(self, actions: Sequence[int]) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Dict[str, Any]]:
        """(obs, rewards, terminated, truncated, info) as arrays over the envs; a finished env is
        reset at once: obs holds its new dialogue's first observation, info["final_observation"]
        the last one of the finished dialogue, info["success"] whether it succeeded."""
        a = np.asarray(actions)
        if a.dtype.kind not in "iu":
            raise _metadial.InvalidArgument(f"VectorEnv.step: actions must be integers, got dtype {a.dtype}")
        obs, rewards, terminated, truncated, success, masks, final_obs = self._h.step(a.astype(np.int64, copy=False))
        return obs, rewards, terminated, truncated, {"action_mask": masks, "success": success,
                                                     "final_observation": final_obs}

    def close(self) -> None:
        self._h.close()

    @property
    def closed(self) -> bool:
        return self._h.closed
