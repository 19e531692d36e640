"""`import metadial` changes no global torch state (issue 17, item 5), in either import order:
torch's thread count, default dtype and seeded random numbers after importing and using metadial
equal those of a process that never imported it."""
import json
import subprocess
import sys

import pytest

pytest.importorskip("torch")

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
if "metadial" in sys.argv[1:]:
    import metadial, metadial.dialog
    study = metadial.Study.create_or_load(storage="memory", name="n",
                                          space={"x": {"type": "float", "low": 0, "high": 1}})
    study.optimize(lambda t: t.params["x"], n_trials=4, sampler=metadial.samplers.GP(n_initial=2), jobs=2)
    if "lstm" in metadial.samplers.names():  # the LibTorch samplers run on the process's LibTorch
        study.optimize(lambda t: t.params["x"], n_trials=3, sampler=metadial.samplers.LSTM(), jobs=2)
        study.optimize(lambda t: t.params["x"], n_trials=2, sampler=metadial.samplers.PFN())
    env = metadial.dialog.Env(seed=0)
    env.reset()
    env.step(0)
import torch
torch.manual_seed(123)
print(json.dumps({"threads": torch.get_num_threads(), "interop": torch.get_num_interop_threads(),
                  "dtype": str(torch.get_default_dtype()), "rand": torch.rand(4).tolist()}))
"""


def probe(*modules):
    out = subprocess.run([sys.executable, "-c", PROBE, *modules], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_metadial_leaves_torch_threads_dtype_and_rng_alone():
    alone = probe("torch")
    assert probe("torch", "metadial") == alone
    assert probe("metadial", "torch") == alone
