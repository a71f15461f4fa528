"""Store keys of training runs and corpora stay byte-identical across refactors.

The hex keys below were computed by the code path before ``RunConfig`` and ``corpus_identity`` existed
(``train_run`` building its config dict inline; ``training.data_key`` and ``decontam.corpus_key`` each
reading ``artifact.json`` themselves), for the smoke and course profiles' Figure 2 settings. A changed
key here means every cached run of an existing store would be recomputed.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from resurface.artifacts import make_key
from resurface.corpus.decontam import corpus_key
from resurface.identity import run_key
from resurface.study import profiles
from resurface.train import training
from resurface.train.training import RunConfig, data_key

# (profile, case) -> the key the old code path gave (student id, data key and hook name fixed below)
PINNED = {
    ("smoke", "suites"): "3adfe0760063134e",
    ("smoke", "hook_named"): "237932826305f4a5",
    ("smoke", "bf16"): "4d612ed8498e8312",
    ("course", "suites"): "c9871ba28e4a8b25",
    ("course", "hook_named"): "dfc658f20ac38cfe",
    ("course", "bf16"): "7ea61d6b8f0d0439",
}
# the learning rate each profile had when the keys were pinned: the regime may change it, the key path may not
PINNED_LR = {"smoke": 1.0e-3, "course": 3.0e-4}
DATA = {"suites": "sample/0123456789abcdef/subset_01", "hook_named": "sha256:" + "ab" * 32, "bf16": "k/1"}


class _Captured(Exception):
    pass


class _Store:
    """Stops train_run where it asks the store for the run, keeping what it asked with."""

    def get_or_compute(self, stage, version, config, compute, inputs=(), verbose=True):
        raise _Captured(make_key(stage, version, config, list(inputs)))


def _hook(model, tokenizer, epoch):
    return []


_hook.key_name = "test-hook"


def _kwargs(profile: str, case: str) -> dict:
    P = profiles.resolve(profile, "fig02")
    kw = dict(epochs=P["epochs"], lr=PINNED_LR[profile], warmup_ratio=P["warmup_ratio"], block_size=P["block_size"],
              batch_size=P["batch_size"], effective_batch=P["effective_batch"], weight_decay=P["weight_decay"],
              seed=P["seed"], eval_suites=[P["eval_suite"]], eval_limit=P["eval_limit"] or None, device="cpu",
              dtype=P["dtype"], save_checkpoints=P["save_checkpoints"])
    if case == "hook_named":
        kw.update(eval_suites=[], eval_hook=_hook, run_name="r1")
    if case == "bf16":
        kw.update(dtype="bfloat16")
    return kw


@pytest.mark.parametrize("profile,case", sorted(PINNED))
def test_train_run_keys_are_those_of_the_old_code_path(profile, case, monkeypatch):
    monkeypatch.setattr(training, "student_identity", lambda s, allow_hub=False: ("/nowhere", f"sid-{profile}"))
    monkeypatch.setattr(training, "data_key", lambda d: DATA[case])
    monkeypatch.setattr(training, "shared_base_eval", lambda hook, store, config: hook)
    monkeypatch.setattr("resurface.evaluate.evaluation.make_eval_hook", lambda suites, limit=None, seed=0: _hook)
    student = profiles.resolve(profile, "fig02")["student"]
    with pytest.raises(_Captured) as got:
        training.train_run(student, "/nowhere", store=_Store(), progress=False, **_kwargs(profile, case))
    assert got.value.args[0] == PINNED[(profile, case)]


def test_run_config_hashes_as_the_old_dict():
    cfg = RunConfig(student="tiny-llama", student_id="sid-smoke", epochs=1, lr=0.001, warmup_ratio=0.1,
                    block_size=16, batch_size=4, effective_batch=4, weight_decay=0.0, seed=42,
                    eval_suites=("smoke",), eval_limit=None, dtype="auto", mixed_precision="no", device="cpu",
                    save_checkpoints=False)
    assert run_key(training.STAGE, training.STAGE_VERSION, cfg, [DATA["suites"]]) == PINNED[("smoke", "suites")]
    named = replace(cfg, eval_suites=(), eval_hook="test-hook", run_name="r1")
    assert run_key(training.STAGE, training.STAGE_VERSION, named, [DATA["hook_named"]]) == \
        PINNED[("smoke", "hook_named")]
    # an optional field at its default is not in the key; set, it is
    assert "eval_engine" not in cfg.as_key() and replace(cfg, eval_engine="vllm").as_key()["eval_engine"] == "vllm"
    assert run_key(training.STAGE, training.STAGE_VERSION, cfg.as_key(), [DATA["suites"]]) == \
        PINNED[("smoke", "suites")]


def _corpus(folder, text="a"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text(json.dumps({"text": text, "num_tokens": 1}) + "\n")
    return folder


def test_corpus_keys_are_those_of_the_old_code_path(tmp_path):
    """Each stage keeps its spelling: a training run's input ``<key>[/subset][/file]``, the corpus
    stages' ``<stage>/<key>``; both ``sha256:`` of the file outside the store."""
    plain = _corpus(tmp_path / "plain")
    art = _corpus(tmp_path / "art")
    (art / "artifact.json").write_text(json.dumps({"key": "0123456789abcdef", "stage": "sample"}))
    nostage = _corpus(tmp_path / "nostage")
    (nostage / "artifact.json").write_text(json.dumps({"key": "fedcba9876543210"}))
    sub = _corpus(art / "subset_01", "b")
    other = art / "other.jsonl"
    other.write_text(json.dumps({"text": "c", "num_tokens": 1}) + "\n")
    digest_a = "sha256:9574b4b9788f4d94189d690da918024dda80e372631cf4d44b4942484204aff9"
    expected = {
        plain: (digest_a, digest_a),
        art: ("0123456789abcdef", "sample/0123456789abcdef"),
        nostage: ("fedcba9876543210", "fedcba9876543210"),
        sub: ("0123456789abcdef/subset_01",
              "sha256:e9dfef01d90f97dd1ab26fa6380dd5968b0f5c6fdbfab3f2ef53d4220e48b74f"),
        other: ("0123456789abcdef/other.jsonl", "sample/0123456789abcdef"),
    }
    for path, (run_style, stage_style) in expected.items():
        assert (data_key(path), corpus_key(path)) == (run_style, stage_style), path
