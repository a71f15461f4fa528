"""DDP and the sharded engine (FSDP2, full shard) on 2 CPU processes (gloo) give one process's losses."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from resurface.errors import ParameterError
from resurface.models import load_model, load_tokenizer
from resurface.train import packing, training

pytestmark = pytest.mark.usefixtures("one_thread")
TEXTS = [f"The quick brown fox number {i} jumps over the lazy dog, then rests by tree {i * 7}." for i in range(12)]
HP = dict(epochs=2, lr=3e-3, warmup_ratio=0.1, batch_size=2, effective_batch=8, seed=42, progress=False,
          state_every_s=0.0)

SCRIPT = '''
import json, os, sys, torch
torch.set_num_threads(1)
from resurface.models import load_model, load_tokenizer
from resurface.train import packing, training

engine, out, chunk = sys.argv[1], sys.argv[2], (int(sys.argv[3]) if sys.argv[3] != "none" else None)
texts = json.loads(os.environ["TEXTS"])
tok = load_tokenizer("tiny-llama")
blocks = packing.pack_blocks(texts, tok, 16)
probe = blocks[:2]

def hook(model, tokenizer, epoch):  # the whole model, on the main process only
    if epoch == int(os.environ.get("KILL_AT", "-1")):
        raise SystemExit("killed")
    with torch.no_grad():
        loss = model(input_ids=probe, labels=probe).loss.item()
    n = sum(p.numel() for p in model.parameters())
    return [{"suite": "probe", "task": "t", "metric": "loss", "value": loss}, {"suite": "probe", "task": "t",
            "metric": "params", "value": float(n)}]

res = training.train(load_model("tiny-llama", device="cpu")[0], tok, blocks, eval_hook=hook, workdir=out + "/work",
                     save_checkpoints=True, engine=engine, loss_chunk=chunk, **json.loads(os.environ["HP"]))
if os.environ["RANK"] == "0":
    res.losses.to_csv(out + "/losses.csv", index=False)
    res.results.to_csv(out + "/results.csv", index=False)
    json.dump(res.summary, open(out + "/summary.json", "w"))
'''


def _two_processes(tmp_path: Path, engine: str, chunk=None, kill_at=None):
    import pandas as pd

    out = tmp_path / engine
    out.mkdir(exist_ok=True)
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TEXTS": json.dumps(TEXTS), "HP": json.dumps(HP),
           "KILL_AT": str(kill_at if kill_at is not None else -1)}
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", str(script), engine, str(out),
                           str(chunk or "none")], capture_output=True, text=True, env=env, timeout=600)
    if kill_at is not None:
        assert proc.returncode != 0 and "killed" in proc.stderr
        return None
    assert proc.returncode == 0, proc.stderr[-4000:]
    return (pd.read_csv(out / "losses.csv"), pd.read_csv(out / "results.csv"),
            json.loads((out / "summary.json").read_text()), out)


@pytest.fixture(scope="module")
def one_process():
    tok = load_tokenizer("tiny-llama")
    blocks = packing.pack_blocks(TEXTS, tok, 16)
    assert len(blocks) == 16  # every step holds the same blocks on 1 or 2 processes
    probe = blocks[:2]
    model = load_model("tiny-llama", device="cpu")[0]

    def hook(m, t, epoch):
        with torch.no_grad():
            return [{"suite": "probe", "task": "t", "metric": "loss", "value": m(input_ids=probe, labels=probe).loss.item()}]

    res = training.train(model, tok, blocks, eval_hook=hook, **HP)
    return res.losses, res.results


@pytest.mark.parametrize("engine", ["ddp", "fsdp"])
def test_two_processes_give_one_process_losses(tmp_path, one_process, engine):
    one, one_results = one_process
    losses, results, summary, out = _two_processes(tmp_path, engine)
    assert summary["num_processes"] == 2 and summary["engine"] == engine
    assert losses["loss"].tolist() == pytest.approx(one["loss"].tolist(), rel=1e-5)
    assert losses["grad_norm"].tolist() == pytest.approx(one["grad_norm"].tolist(), rel=1e-4)
    assert losses["tokens_seen"].tolist() == one["tokens_seen"].tolist()
    # the evaluation saw the whole model (all parameters, the same probe loss) at every epoch
    probe = results[results.metric == "loss"]["value"].tolist()
    assert probe == pytest.approx(one_results["value"].tolist(), rel=1e-5)
    n = sum(p.numel() for p in load_model("tiny-llama", device="cpu")[0].parameters())
    assert set(results[results.metric == "params"]["value"]) == {float(n)}
    # the checkpoints hold whole weights, and the last one reproduces the final probe loss
    last = load_model(str(out / "work" / "checkpoints" / "epoch_02"), device="cpu")[0]
    blocks = packing.pack_blocks(TEXTS, load_tokenizer("tiny-llama"), 16)
    with torch.no_grad():
        assert last(input_ids=blocks[:2], labels=blocks[:2]).loss.item() == pytest.approx(probe[-1], rel=1e-5)


def test_a_killed_sharded_run_resumes_with_the_chunked_loss_to_the_same_losses(tmp_path, one_process):
    """Killed while evaluating epoch 2, the run resumes from epoch 1's gathered state (weights and
    AdamW moments scattered back into the shards) and ends with the uninterrupted losses."""
    one, _ = one_process
    _two_processes(tmp_path, "fsdp", chunk=4, kill_at=2)
    losses, _, summary, _ = _two_processes(tmp_path, "fsdp", chunk=4)
    assert summary["engine"] == "fsdp" and summary["resumed_after_epoch"] == 1
    assert losses["loss"].tolist() == pytest.approx(one["loss"].tolist(), rel=1e-5)


def test_an_unknown_engine_names_the_parameter():
    tok = load_tokenizer("tiny-llama")
    blocks = packing.pack_blocks(TEXTS, tok, 16)
    with pytest.raises(ParameterError, match="train_engine"):
        training.train(load_model("tiny-llama", device="cpu")[0], tok, blocks, engine="zero3", **HP)
