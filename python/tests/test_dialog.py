"""metadial.dialog.Env / VectorEnv: the C++ dialogue simulator in Gymnasium's API."""
import os
import re
import subprocess

import pytest

np = pytest.importorskip("numpy")  # metadial.dialog returns NumPy arrays (Debian's python3-numpy)

import metadial  # noqa: E402
from metadial.dialog import Env, VectorEnv  # noqa: E402


def first_allowed(mask, rng):
    return int(rng.choice(np.flatnonzero(mask)))


def play(env, n_dialogues, rng, seed=None):
    """Dialogues with random allowed actions: [(actions, rewards, obs list, success)]."""
    out = []
    for k in range(n_dialogues):
        obs, info = env.reset(seed=seed if k == 0 else None)
        actions, rewards, observations = [], [], [obs]
        while True:
            a = first_allowed(info["action_mask"], rng)
            obs, r, terminated, truncated, info = env.step(a)
            actions.append(a)
            rewards.append(r)
            observations.append(obs)
            if terminated or truncated:
                out.append((actions, rewards, observations, info["success"], terminated, truncated))
                break
    return out


@pytest.mark.skipif(not os.environ.get("METADIAL_BIN"), reason="METADIAL_BIN (the metadial program) not set")
@pytest.mark.parametrize("preset", ["env1", "env3"])
def test_replaying_the_cli_actions_gives_the_cli_dialogues(preset):
    # `metadial dialog show` runs the rule policy; the Env, given the same seed and the actions
    # read from its transcript, must produce the same transcript, turn by turn.
    text = subprocess.run([os.environ["METADIAL_BIN"], "dialog", "show", "--policy", "rule", "-n", "4", "--seed", "7",
                           "--env", preset, "--domain", "restaurant"],
                          check=True, capture_output=True, text=True).stdout
    dialogues = re.split(r"^=== dialogue \d+ of \d+: .*===\n", text, flags=re.M)[1:]
    assert len(dialogues) == 4
    env = Env(env=preset, domain="restaurant", seed=7)
    for k, cli in enumerate(dialogues):
        transcript = cli[:cli.index("outcome: ")]
        actions = re.findall(r"^turn\s+\d+\s+system: (\S+)", transcript, flags=re.M)
        assert actions[0] == "(opening)"
        env.reset()
        mine = env.render()
        for name in actions[1:]:
            _, _, terminated, truncated, info = env.step(env.action_names.index(name))
            mine += env.render()
        assert terminated or truncated
        if env.goal_relaxed:
            mine += "final goal (relaxed): " + env.goal + "\n"
        assert mine == transcript, f"dialogue {k}"
        outcome = "success" if info["success"] else "failure"
        assert cli[cli.index("outcome: "):].startswith(f"outcome: {outcome}")


def test_same_seed_same_dialogues_and_reset_seed_restarts():
    a = play(Env(env="env3", seed=11), 3, np.random.default_rng(0))
    b = play(Env(env="env3", seed=11), 3, np.random.default_rng(0))
    assert [d[0] for d in a] == [d[0] for d in b]
    assert all(np.array_equal(x, y) for da, db in zip(a, b) for x, y in zip(da[2], db[2]))
    env = Env(env="env3", seed=99)
    env.reset()
    c = play(env, 3, np.random.default_rng(0), seed=11)  # reset(seed=11) restarts at dialogue 0
    assert [d[0] for d in c] == [d[0] for d in a]
    other = play(Env(env="env3", seed=12), 3, np.random.default_rng(0))
    assert [d[0] for d in other] != [d[0] for d in a]


def test_rewards_spaces_and_info():
    env = Env(env="env1", seed=3)
    assert env.observation_space.shape == (env.observation_space.shape[0],) and env.action_space.n == len(env.action_names)
    obs, info = env.reset()
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)
    assert info["action_mask"].dtype == np.bool_ and info["action_mask"].shape == (env.action_space.n,)
    for actions, rewards, observations, success, terminated, truncated in play(env, 20, np.random.default_rng(1)):
        assert sum(rewards) == 20 * success - len(actions)
        assert len(actions) <= env.max_turns and terminated != truncated
        if truncated:
            assert len(actions) == env.max_turns and not success


def test_vector_env_matches_single_envs_with_autoreset():
    n, seed, steps = 4, 5, 120
    venv = VectorEnv(n, env="env3", seed=seed)
    singles = [Env(env="env3", seed=seed + i) for i in range(n)]
    obs, info = venv.reset()
    single_obs = [e.reset() for e in singles]
    assert obs.shape == (n, venv.single_observation_space.shape[0]) and obs.dtype == np.float32
    for i in range(n):
        assert np.array_equal(obs[i], single_obs[i][0])
        assert np.array_equal(info["action_mask"][i], single_obs[i][1]["action_mask"])
    rng = np.random.default_rng(2)
    masks = info["action_mask"]
    ended = 0
    for _ in range(steps):
        actions = np.array([first_allowed(masks[i], rng) for i in range(n)])
        obs, rewards, terminated, truncated, info = venv.step(actions)
        masks = info["action_mask"]
        for i, e in enumerate(singles):
            o, r, te, tr, inf = e.step(int(actions[i]))
            assert (r, te, tr) == (rewards[i], terminated[i], truncated[i])
            assert np.array_equal(info["final_observation"][i], o)
            if te or tr:
                ended += 1
                assert info["success"][i] == inf["success"]
                o, inf = e.reset()
            assert np.array_equal(obs[i], o) and np.array_equal(masks[i], inf["action_mask"])
    assert ended >= n  # every env went through autoreset at least once on average


def test_bad_input_raises_one_line():
    env = Env(env="env1", seed=0)
    env.reset()
    with pytest.raises(metadial.InvalidArgument, match=r"action 999 out of range") as e:
        env.step(999)
    assert "\n" not in str(e.value)
    with pytest.raises(metadial.InvalidArgument, match="must be an int"):
        env.step("request_area")
    with pytest.raises(metadial.InvalidArgument, match="env"):
        Env(env="env9")
    with pytest.raises(metadial.InvalidArgument, match="kb_entities"):
        Env(kb_entities=0)
    env.close()
    with pytest.raises(metadial.InvalidArgument, match="closed"):
        env.reset()
    venv = VectorEnv(2)
    venv.reset()
    with pytest.raises(metadial.InvalidArgument, match="expected 2 actions"):
        venv.step([0, 0, 0])
    with pytest.raises(metadial.InvalidArgument, match="out of range"):
        venv.step([0, -1])
    venv.close()
    with pytest.raises(metadial.InvalidArgument, match="closed"):
        venv.step([0, 0])


def test_step_after_the_end_raises():
    env = Env(env="env1", seed=0)
    env.reset()
    bye = [i for i, n in enumerate(env.action_names) if n == "bye"]
    if not bye:
        pytest.skip("no bye action in this domain")
    _, _, terminated, truncated, _ = env.step(bye[0])
    assert terminated and not truncated
    with pytest.raises(metadial.InvalidArgument, match="dialogue is over"):
        env.step(0)
