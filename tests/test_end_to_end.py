"""End to end on the course student, offline, through the command line: the README's commands."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest


def _resurface(*args, env):
    exe = os.path.join(os.path.dirname(sys.executable), "resurface")
    r = subprocess.run([exe, *map(str, args)], capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, f"resurface {' '.join(map(str, args))} failed:\n{r.stderr[-3000:]}"
    return r.stdout.strip().splitlines()[-1]  # every stage prints its artifact folder last


@pytest.mark.slow
def test_sample_decontaminate_subsets_train_on_the_course_student(tmp_path):
    env = {**os.environ, "RESURFACE_STORE": str(tmp_path / "store"), "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    corpus = _resurface("sample", "--model", "smollm2-135m", "--temperature", 1.0, "--num-samples", 8,
                        "--max-new-tokens", 48, "--min-new-tokens", 8, "--batch-size", 8, "--seed", 1, env=env)
    clean = _resurface("decontaminate", "--corpus", corpus, "--suite", "course", env=env)
    subsets = _resurface("subsets", "--corpus", clean, "--num-subsets", 2, "--tokens-per-subset", 256, env=env)
    run = _resurface("train", "--student", "smollm2-135m", "--data", f"{subsets}/subset_00", "--epochs", 1,
                     "--lr", 5e-5, "--block-size", 64, "--batch-size", 4, "--effective-batch", 4,
                     "--eval-suite", "smoke", env=env)
    res = pd.read_csv(f"{run}/results.csv")
    assert sorted(res["epoch"].unique()) == [0, 1]
    acc = ~res["metric"].isin(["logp_gold_norm,none", "neg_bpb,none"])  # log-likelihoods are <= 0
    assert set(res["suite"]) == {"smoke"} and res.loc[acc, "value"].between(0, 1).all()
    assert (res.loc[~acc, "value"] <= 0).all() and (~acc).any()
    items = pd.concat([pd.read_csv(f) for f in sorted(Path(run).glob("items/epoch_*.csv.gz"))])
    assert set(items["epoch"]) == {0, 1} and set(items["metric"]) == set(res["metric"])  # per-item values kept
    losses = pd.read_csv(f"{run}/losses.csv")
    assert len(losses) >= 1 and losses["loss"].notna().all()
    # the same command again is answered from the store
    assert _resurface("subsets", "--corpus", clean, "--num-subsets", 2, "--tokens-per-subset", 256,
                      env=env) == subsets
