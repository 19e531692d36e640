#!/usr/bin/python3
"""A PyTorch DQN trained on metadial.dialog.VectorEnv (the C++ simulated user), evaluated greedily
on fresh dialogues of metadial.dialog.Env.

    PYTHONPATH=build/release/python /usr/bin/python3 examples/python/dqn_vector_env.py \
        [--env env1] [--domain restaurant] [--envs 16] [--steps 3000] [--eval 500] [--seed 0]

Double DQN with a target network, epsilon-greedy over the allowed actions (info["action_mask"]),
a replay buffer in NumPy, rewards scaled by 1/20; a truncated dialogue is treated as ended. Needs
Debian's python3-torch. One torch thread; same seed, same run.
"""
import argparse
import copy
import time

import numpy as np
import torch

from metadial.dialog import Env, VectorEnv


def masked_argmax(q: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return q.masked_fill(~mask, -1e9).argmax(dim=1)


def evaluate(net, env_name, domain, dialogues, seed):
    env = Env(env=env_name, domain=domain, seed=seed)
    successes, turns = 0, 0
    for k in range(dialogues):
        obs, info = env.reset()
        while True:
            with torch.no_grad():
                q = net(torch.from_numpy(obs).unsqueeze(0))
            action = int(masked_argmax(q, torch.from_numpy(info["action_mask"]).unsqueeze(0))[0])
            obs, _, terminated, truncated, info = env.step(action)
            turns += 1
            if terminated or truncated:
                successes += int(info["success"])
                break
    return successes / dialogues, turns / dialogues


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", default="env1")
    ap.add_argument("--domain", default="restaurant")
    ap.add_argument("--envs", type=int, default=16)
    ap.add_argument("--steps", type=int, default=3000, help="vector steps (each steps every env once)")
    ap.add_argument("--eval", type=int, default=500, help="greedy test dialogues (fresh seeds)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    venv = VectorEnv(args.envs, env=args.env, domain=args.domain, seed=args.seed * 1000)
    d, n_actions, n = venv.single_observation_space.shape[0], venv.single_action_space.n, venv.num_envs
    net = torch.nn.Sequential(torch.nn.Linear(d, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(),
                              torch.nn.Linear(64, n_actions))
    target = copy.deepcopy(net)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gamma, batch, capacity = 0.99, 64, 50000
    buf_obs = np.zeros((capacity, d), np.float32)
    buf_next = np.zeros((capacity, d), np.float32)
    buf_mask_next = np.zeros((capacity, n_actions), bool)
    buf_act = np.zeros(capacity, np.int64)
    buf_rew = np.zeros(capacity, np.float32)
    buf_done = np.zeros(capacity, np.float32)
    size = pos = 0

    obs, info = venv.reset()
    mask = info["action_mask"]
    ended = successes = 0
    t0 = time.process_time()
    for step in range(args.steps):
        epsilon = max(0.05, 0.5 * (1 - step / (0.6 * args.steps)))
        with torch.no_grad():
            greedy = masked_argmax(net(torch.from_numpy(obs)), torch.from_numpy(mask)).numpy()
        random_pick = np.where(mask, rng.random(mask.shape), -1.0).argmax(axis=1)
        actions = np.where(rng.random(n) < epsilon, random_pick, greedy)
        next_obs, rewards, terminated, truncated, info = venv.step(actions)
        done = terminated | truncated
        idx = (pos + np.arange(n)) % capacity
        buf_obs[idx], buf_act[idx], buf_rew[idx] = obs, actions, rewards / 20.0
        buf_next[idx] = np.where(done[:, None], info["final_observation"], next_obs)
        buf_mask_next[idx] = np.where(done[:, None], True, info["action_mask"])
        buf_done[idx] = done
        pos, size = (pos + n) % capacity, min(size + n, capacity)
        ended += int(done.sum())
        successes += int((info["success"] & done).sum())
        obs, mask = next_obs, info["action_mask"]

        if size >= 1000:
            j = rng.integers(0, size, batch)
            o, a, r = torch.from_numpy(buf_obs[j]), torch.from_numpy(buf_act[j]), torch.from_numpy(buf_rew[j])
            o2, m2, dn = torch.from_numpy(buf_next[j]), torch.from_numpy(buf_mask_next[j]), torch.from_numpy(buf_done[j])
            with torch.no_grad():
                a2 = masked_argmax(net(o2), m2)  # double DQN: the online net picks, the target net values
                y = r + gamma * (1 - dn) * target(o2).gather(1, a2[:, None]).squeeze(1)
            loss = torch.nn.functional.smooth_l1_loss(net(o).gather(1, a[:, None]).squeeze(1), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if step % 250 == 0:
            target.load_state_dict(net.state_dict())
        if (step + 1) % 500 == 0:
            print(f"step {step + 1}: {ended} dialogues, training success {successes / max(ended, 1):.3f}, "
                  f"epsilon {epsilon:.2f}", flush=True)
            ended = successes = 0
    train_s = time.process_time() - t0
    success, turns = evaluate(net, args.env, args.domain, args.eval, seed=10_000 + args.seed)
    print(f"DQN on {args.env}/{args.domain}, seed {args.seed}: greedy success {success:.3f} over {args.eval} fresh "
          f"dialogues ({turns:.1f} turns), trained in {train_s:.0f} CPU s")


if __name__ == "__main__":
    main()
