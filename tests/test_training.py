"""Training: packing, the loop (loss falls, determinism, Trainer parity), evaluation hook, resume, the stage."""

import json
import os
import time

import pandas as pd
import pytest
import torch

from resurface.train import packing, training
from resurface.errors import ParameterError, ResurfaceError
from resurface.models import load_model, load_tokenizer

TEXTS = [f"The quick brown fox number {i} jumps over the lazy dog, then rests by tree {i * 7}." for i in range(13)]
HP = dict(lr=3e-3, warmup_ratio=0.1, batch_size=4, effective_batch=8, seed=0, progress=False,
          state_every_s=0.0)  # save the state after every epoch: the resume tests need saved epochs


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer("tiny-llama")


@pytest.fixture(scope="module")
def blocks(tok):
    b = packing.pack_blocks(TEXTS, tok, 16)
    assert b.shape[0] % 4 != 0  # a short last micro-batch is part of every test below
    return b


def fresh(alias="tiny-llama"):
    return load_model(alias, device="cpu")[0]


def steps_only(losses: pd.DataFrame) -> pd.DataFrame:
    return losses.drop(columns=["seconds"])


# ---------------------------------------------------------------------------------------------
# packing
# ---------------------------------------------------------------------------------------------
def test_pack_blocks_separates_documents_with_eos_and_drops_the_remainder(tok):
    texts = ["hello world", "a second, longer document about foxes", "third"]
    expected = []
    for t in texts:
        expected += tok(t, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    blocks = packing.pack_blocks(texts, tok, 4)
    assert blocks.dtype == torch.long
    assert blocks.shape == (len(expected) // 4, 4)
    assert blocks.flatten().tolist() == expected[: blocks.numel()]
    assert len(expected) % 4 != 0  # so something was dropped
    # documents are separated by EOS: exactly one per document inside the kept prefix
    kept_eos = sum(1 for i in expected[: blocks.numel()] if i == tok.eos_token_id)
    assert (blocks == tok.eos_token_id).sum().item() == kept_eos >= 2


def test_pack_blocks_adds_no_special_tokens():
    gtok = load_tokenizer("tiny-gemma3")  # this tokenizer adds <bos> by default
    assert gtok("hi there")["input_ids"][0] == gtok.bos_token_id
    blocks = packing.pack_blocks(["hi there", "more text here"], gtok, 2)
    assert gtok.bos_token_id not in blocks.flatten().tolist()


def test_pack_blocks_too_little_data_names_block_size_and_the_token_count(tok):
    n = len(tok("hello world", add_special_tokens=False)["input_ids"]) + 1
    with pytest.raises(ParameterError, match=rf"only {n} tokens") as exc:
        packing.pack_blocks(["hello world"], tok, 2048)
    assert exc.value.name == "block_size"
    assert "tokens_per_subset" in str(exc.value)
    with pytest.raises(ParameterError):
        packing.pack_blocks([], tok, 8)


def test_row_blocks_start_every_text_at_position_zero_and_pad_after_eos(tok):
    texts = ["hello world", "a second, longer document about foxes", "third"]
    rows = packing.row_blocks(texts, tok, 64)
    ids = [tok(t, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for t in texts]
    assert rows.shape == (3, max(len(i) for i in ids))
    for r, i in zip(rows.tolist(), ids):
        assert r[:len(i)] == i
        assert set(r[len(i):]) <= {packing.PAD_LABEL}
    cut = packing.row_blocks(texts, tok, 3)  # block_size caps a row
    assert cut.shape == (3, 3) and cut[1].tolist() == ids[1][:3]
    with pytest.raises(ParameterError) as exc:
        packing.row_blocks(texts, tok, 1)
    assert exc.value.name == "block_size"
    with pytest.raises(ParameterError):
        packing.row_blocks([], tok, 8)
    led = packing.row_blocks(texts, tok, 4, lead=(7,))  # a lead (the BOS of anchor rows) counts in block_size
    assert led[:, 0].tolist() == [7, 7, 7] and led[1, 1:].tolist() == ids[1][:3]


def test_padding_of_rows_is_neither_input_nor_target(tok):
    """Training on padded rows equals training on the same rows cut to their shared length plus
    padding that the loss ignores: the pads change nothing before them, and carry no loss."""
    texts = [t[:12 + 9 * i] for i, t in enumerate(TEXTS[:4])]  # rows of different lengths
    rows = packing.row_blocks(texts, tok, 64)
    assert (rows == packing.PAD_LABEL).any()
    hp = dict(HP, batch_size=4, effective_batch=4)
    a = training.train(fresh(), tok, rows, epochs=2, **hp)
    padded_more = torch.cat([rows, torch.full((4, 5), packing.PAD_LABEL, dtype=torch.long)], dim=1)
    b = training.train(fresh(), tok, padded_more, epochs=2, **hp)
    pd.testing.assert_series_equal(a.losses["loss"], b.losses["loss"], rtol=1e-4)
    real = int((rows != packing.PAD_LABEL).sum())
    assert a.losses["tokens_seen"].iloc[-1] == b.losses["tokens_seen"].iloc[-1] == 2 * real


def test_each_micro_batch_is_cut_to_its_longest_row(tok):
    """Columns that are padding in every row of a micro-batch are not fed to the model."""
    texts = ["a b c d e f g h i j k l m n o p", "a b", "c d", "q r s t u v w x y z a b c d e f", "e f", "g h"]
    rows = packing.row_blocks(texts, tok, 64)
    order = torch.tensor([1, 2, 0, 3, 4, 5])  # two short rows, two long ones, two short ones
    model, widths = fresh(), []
    model.register_forward_pre_hook(lambda mod, args, kw: widths.append(kw["input_ids"].shape[1]), with_kwargs=True)
    training.train(model, tok, rows[order], epochs=1, **dict(HP, batch_size=2, effective_batch=2, shuffle=False))
    longest = [int((rows[order][i:i + 2] != packing.PAD_LABEL).sum(1).max()) for i in range(0, 6, 2)]
    assert widths == longest and min(widths) < rows.shape[1] == max(widths)


def test_length_groups_split_only_where_it_saves():
    assert training.length_groups([28, 8, 64, 28, 64, 8]) == [[1, 5, 0, 3], [2, 4]]
    assert training.length_groups([60, 64, 62, 64]) == [[0, 2, 1, 3]]  # nothing to save: one group
    assert training.length_groups([5]) == [[0]]


def test_rows_of_two_lengths_train_as_one_forward_would(tok, monkeypatch):
    """A micro-batch of short and long rows is computed in two forwards, each at its own width and
    weighted by its share of the predicted tokens: losses and weights equal one forward's."""
    short = ["a b", "c d e", "f g", "h i"]
    long = [" ".join(TEXTS[0].split()[:30]), " ".join(TEXTS[1].split()[:30])]
    rows = packing.row_blocks(short + long, tok, 64)
    order = torch.tensor([0, 4, 1, 2, 5, 3])
    hp = dict(HP, batch_size=6, effective_batch=6, shuffle=False)
    model, widths = fresh(), []
    model.register_forward_pre_hook(lambda mod, args, kw: widths.append(kw["input_ids"].shape[1]), with_kwargs=True)
    a = training.train(model, tok, rows[order], epochs=2, **hp)
    lengths = (rows != packing.PAD_LABEL).sum(1)
    assert sorted(set(widths)) == [int(lengths[:4].max()), int(lengths[4:].max())]  # two widths, every step
    monkeypatch.setattr(training, "length_groups", lambda lengths: [list(range(len(lengths)))])
    one = fresh()
    b = training.train(one, tok, rows[order], epochs=2, **hp)
    pd.testing.assert_series_equal(a.losses["loss"], b.losses["loss"], rtol=1e-5)
    for p, q in zip(model.parameters(), one.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)  # Adam amplifies rounding near 0


# ---------------------------------------------------------------------------------------------
# plan and validation
# ---------------------------------------------------------------------------------------------
def test_step_plan_matches_trainer_arithmetic():
    plan = packing.plan_steps(34, 4, 8)
    assert (plan.grad_accum, plan.micro_batches_per_epoch, plan.steps_per_epoch) == (2, 9, 5)
    assert packing.plan_steps(2441, 8, 64).steps_per_epoch == 39  # 2441 blocks: 38 full steps + 1 short
    assert packing.plan_steps(64, 8, 64, num_processes=8).grad_accum == 1
    assert packing.warmup_steps(10, 0.1) == 1 and packing.warmup_steps(11, 0.1) == 2  # ceil
    assert packing.warmup_steps(1560, 0.1) == 156


@pytest.mark.parametrize("batch, eff, procs", [(8, 60, 1), (8, 4, 1), (8, 64, 3), (0, 64, 1)])
def test_gradient_accumulation_must_be_a_whole_number(batch, eff, procs):
    with pytest.raises(ParameterError) as exc:
        packing.grad_accum_steps(batch, eff, procs)
    assert exc.value.name in ("effective_batch", "batch_size")


def test_train_validates_before_any_work(blocks):
    model = fresh()
    for kw, name in [(dict(effective_batch=6), "effective_batch"), (dict(lr=0.0), "lr"),
                     (dict(warmup_ratio=1.0), "warmup_ratio"), (dict(epochs=-1), "epochs"),
                     (dict(save_checkpoints=True), "save_checkpoints"), (dict(mixed_precision="fp16"),
                                                                           "mixed_precision")]:
        args = {**HP, "epochs": 1, **kw}
        with pytest.raises(ParameterError) as exc:
            training.train(model, None, blocks, **args)
        assert exc.value.name == name
    with pytest.raises(ParameterError, match="context"):
        training.train(model, None, torch.zeros(2, 4096, dtype=torch.long), **{**HP, "epochs": 1})


def test_epoch_permutation_depends_on_seed_and_epoch_only():
    a = packing.epoch_permutation(50, 42, 1)
    torch.manual_seed(123)  # the global RNG does not matter
    assert torch.equal(a, packing.epoch_permutation(50, 42, 1))
    assert sorted(a.tolist()) == list(range(50))
    assert not torch.equal(a, packing.epoch_permutation(50, 42, 2))
    assert not torch.equal(a, packing.epoch_permutation(50, 43, 1))


# ---------------------------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------------------------
def test_loss_falls_on_a_repeated_corpus(blocks, tok):
    res = training.train(fresh(), tok, blocks, epochs=5, **{**HP, "lr": 1e-2})
    los = res.losses
    n = 5 * packing.plan_steps(len(blocks), 4, 8).steps_per_epoch
    assert len(los) == n and los["step"].tolist() == list(range(1, n + 1))
    first, last = los["loss"].iloc[0], los.groupby("epoch")["loss"].mean().iloc[-1]
    assert first > 10 and last < first - 4.0, (first, last)
    assert los["tokens_seen"].iloc[-1] == 5 * blocks.numel()
    assert los["lr"].iloc[0] == 0.0 and los["lr"].max() == pytest.approx(1e-2)  # warmup, then peak


def test_same_seed_repeats_the_loss_curve_exactly(blocks, tok):
    a = training.train(fresh(), tok, blocks, epochs=2, **HP).losses
    b = training.train(fresh(), tok, blocks, epochs=2, **HP).losses
    pd.testing.assert_frame_equal(steps_only(a), steps_only(b), check_exact=True)
    c = training.train(fresh(), tok, blocks, epochs=2, **{**HP, "seed": 1}).losses
    assert not c["loss"].equals(a["loss"])


def test_loss_curve_matches_transformers_trainer(blocks, tok, tmp_path):
    """Same data order, cosine schedule with warmup_ratio, AdamW, weight decay and clipping."""
    from torch.utils.data import Sampler
    from transformers import Trainer, TrainingArguments, default_data_collator

    hp = dict(lr=2e-3, warmup_ratio=0.1, batch_size=4, effective_batch=8, weight_decay=0.01,
              max_grad_norm=0.5, seed=3)
    mine = training.train(fresh(), tok, blocks, epochs=2, progress=False, **hp).losses

    class EpochOrder(Sampler):
        """The loop's per-epoch permutation; Trainer calls set_epoch(0-based) before each epoch."""

        def __init__(self, n):
            self.n, self.epoch = n, 0

        def set_epoch(self, epoch):
            self.epoch = epoch

        def __iter__(self):
            return iter(packing.epoch_permutation(self.n, hp["seed"], self.epoch + 1).tolist())

        def __len__(self):
            return self.n

    class OrderedTrainer(Trainer):
        def _get_train_sampler(self, train_dataset=None):
            return EpochOrder(len(self.train_dataset))

    data = [{"input_ids": b, "labels": b} for b in blocks]
    args = TrainingArguments(
        output_dir=str(tmp_path / "hf"), per_device_train_batch_size=4, gradient_accumulation_steps=2,
        num_train_epochs=2, learning_rate=hp["lr"], lr_scheduler_type="cosine", warmup_steps=hp["warmup_ratio"],
        weight_decay=hp["weight_decay"], max_grad_norm=hp["max_grad_norm"], adam_beta1=0.9, adam_beta2=0.999,
        adam_epsilon=1e-8, optim="adamw_torch", logging_steps=1, save_strategy="no", report_to="none",
        use_cpu=True, seed=hp["seed"], dataloader_num_workers=0, disable_tqdm=True)
    trainer = OrderedTrainer(model=fresh(), args=args, train_dataset=data, data_collator=default_data_collator)
    trainer.train()
    hf = pd.DataFrame([r for r in trainer.state.log_history if "loss" in r and "learning_rate" in r])
    assert len(hf) == len(mine) == 2 * packing.plan_steps(len(blocks), 4, 8).steps_per_epoch
    assert hf["learning_rate"].tolist() == pytest.approx(mine["lr"].tolist(), rel=1e-9, abs=1e-12)
    # measured: max relative difference 4e-8 (loss) and 0 (grad norm) on CPU fp32
    assert hf["loss"].tolist() == pytest.approx(mine["loss"].tolist(), rel=1e-5)
    assert hf["grad_norm"].tolist() == pytest.approx(mine["grad_norm"].tolist(), rel=1e-5)
    # the comparison can fail: the curves move, and another data order gives other losses
    assert mine["loss"].iloc[-1] < mine["loss"].iloc[0] - 0.5
    unshuffled = training.train(fresh(), tok, blocks, epochs=2, progress=False, shuffle=False, **hp).losses
    assert unshuffled["loss"].tolist() != pytest.approx(mine["loss"].tolist(), rel=1e-3)


def test_eval_hook_runs_at_epoch_zero_and_after_every_epoch(blocks, tok):
    seen = []

    def hook(model, tokenizer, epoch):
        seen.append((epoch, model.training, tokenizer is tok))
        with torch.no_grad():
            loss = model(input_ids=blocks[:2], labels=blocks[:2]).loss.item()
        return [{"suite": "probe", "task": "heldin", "metric": "loss", "value": loss, "stderr": None},
                {"suite": "probe", "task": "heldin", "metric": "const", "value": 1.0, "stderr": 0.0}]

    res = training.train(fresh(), tok, blocks, epochs=3, eval_hook=hook, **HP)
    assert seen == [(e, False, True) for e in range(4)]  # evaluated in eval mode, base model first
    r = res.results
    assert list(r.columns[:2]) == ["epoch", "suite"] and len(r) == 8
    assert r["epoch"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    loss_rows = r[r["metric"] == "loss"].set_index("epoch")["value"]
    assert loss_rows[3] < loss_rows[0] - 1.0  # the hook saw the model improve


def test_eval_hook_must_return_rows(blocks, tok):
    with pytest.raises(ResurfaceError, match="list of dicts"):
        training.train(fresh(), tok, blocks, epochs=1, eval_hook=lambda m, t, e: {"value": 1}, **HP)


# ---------------------------------------------------------------------------------------------
# resume
# ---------------------------------------------------------------------------------------------
def _hook(calls, fail_at=None, attempt=None):
    def hook(model, tokenizer, epoch):
        calls.append(epoch)
        if fail_at is not None and epoch == fail_at and attempt["n"] == 0:
            attempt["n"] += 1
            raise KeyboardInterrupt(f"simulated kill at epoch {epoch}")
        w = next(model.parameters()).detach().double().sum().item()
        return [{"suite": "s", "task": "t", "metric": "weight_sum", "value": w, "stderr": None}]

    return hook


def test_interrupted_then_resumed_run_equals_an_uninterrupted_one(blocks, tok, tmp_path):
    ref_calls = []
    ref = training.train(fresh(), tok, blocks, epochs=3, eval_hook=_hook(ref_calls),
                         workdir=tmp_path / "ref", **HP)
    assert ref_calls == [0, 1, 2, 3]
    assert (tmp_path / "ref" / "state" / "progress.json").exists()

    calls, attempt = [], {"n": 0}
    hook = _hook(calls, fail_at=2, attempt=attempt)
    with pytest.raises(KeyboardInterrupt):
        training.train(fresh(), tok, blocks, epochs=3, eval_hook=hook, workdir=tmp_path / "w", **HP)
    assert calls == [0, 1, 2]
    assert json.loads((tmp_path / "w" / "state" / "progress.json").read_text())["epoch"] == 1
    calls.clear()
    res = training.train(fresh(), tok, blocks, epochs=3, eval_hook=hook, workdir=tmp_path / "w", **HP)
    assert calls == [2, 3]  # epochs 0 and 1 were not evaluated again
    assert res.summary["resumed_after_epoch"] == 1
    pd.testing.assert_frame_equal(res.results, ref.results, check_exact=True)
    pd.testing.assert_frame_equal(steps_only(res.losses), steps_only(ref.losses), check_exact=True)

    # a finished run resumes to its end without training or evaluating
    calls.clear()
    again = training.train(fresh(), tok, blocks, epochs=3, eval_hook=hook, workdir=tmp_path / "w", **HP)
    assert calls == [] and again.summary["resumed_after_epoch"] == 3
    pd.testing.assert_frame_equal(again.results, ref.results, check_exact=True)


def test_resume_survives_a_kill_between_the_state_renames(blocks, tok, tmp_path):
    ref = training.train(fresh(), tok, blocks, epochs=2, workdir=tmp_path / "ref", **HP)
    w = tmp_path / "w"
    attempt = {"n": 0}
    with pytest.raises(KeyboardInterrupt):
        training.train(fresh(), tok, blocks, epochs=2, eval_hook=_hook([], 2, attempt), workdir=w, **HP)
    os.replace(w / "state", w / "state.prev")  # killed after moving state aside, before the new one
    (w / "state.tmp").mkdir()  # and a half-written new state
    res = training.train(fresh(), tok, blocks, epochs=2, workdir=w, **HP)
    assert res.summary["resumed_after_epoch"] == 1
    pd.testing.assert_frame_equal(steps_only(res.losses), steps_only(ref.losses), check_exact=True)


def test_resume_refuses_a_state_from_other_settings(blocks, tok, tmp_path):
    training.train(fresh(), tok, blocks, epochs=1, workdir=tmp_path, **HP)
    with pytest.raises(ResurfaceError, match="lr"):
        training.train(fresh(), tok, blocks, epochs=1, workdir=tmp_path, **{**HP, "lr": 1e-3})


def test_checkpoints_only_when_asked(blocks, tok, tmp_path):
    training.train(fresh(), tok, blocks, epochs=2, workdir=tmp_path / "a", **HP)
    assert not (tmp_path / "a" / "checkpoints").exists()
    model = fresh()
    training.train(model, tok, blocks, epochs=2, workdir=tmp_path / "b", save_checkpoints=True, **HP)
    ck = tmp_path / "b" / "checkpoints"
    assert sorted(p.name for p in ck.iterdir()) == ["epoch_01", "epoch_02"]
    from transformers import AutoModelForCausalLM

    reloaded = AutoModelForCausalLM.from_pretrained(str(ck / "epoch_02"))
    for (n, p), (_, q) in zip(model.state_dict().items(), reloaded.state_dict().items()):
        assert torch.equal(p, q), n
    assert (ck / "epoch_02" / "tokenizer_config.json").exists()


# ---------------------------------------------------------------------------------------------
# the stage
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def corpus_dir(tmp_path):
    from resurface.corpus.files import write_corpus

    return write_corpus(tmp_path / "corpus", [{"text": t, "num_tokens": 0} for t in TEXTS], {"model": "test"})


STAGE_HP = dict(epochs=2, lr=3e-3, warmup_ratio=0.1, block_size=16, batch_size=4, effective_batch=8,
                progress=False)


def test_train_run_writes_tidy_tables_and_is_cached(corpus_dir, store):
    calls = []

    def hook(model, tokenizer, epoch):
        calls.append(epoch)
        return [{"suite": "probe", "task": "x", "metric": "acc", "value": 0.5 + epoch / 10, "stderr": 0.01}]

    path = training.train_run("tiny-llama", corpus_dir, eval_hook=hook, store=store, **STAGE_HP)
    assert calls == [0, 1, 2]
    assert path.parent == store.root / "train" and (path / "DONE").exists()
    res = pd.read_csv(path / "results.csv")
    assert list(res.columns) == ["run", "epoch", "suite", "task", "metric", "value", "stderr"]
    assert res["epoch"].tolist() == [0, 1, 2] and res["run"].nunique() == 1
    los = pd.read_csv(path / "losses.csv")
    info = json.loads((path / "train.json").read_text())
    n_blocks = len(packing.pack_blocks(TEXTS, load_tokenizer("tiny-llama"), 16))
    steps = 2 * packing.plan_steps(n_blocks, 4, 8).steps_per_epoch
    assert list(los.columns) == ["run"] + training.LOSS_COLUMNS and len(los) == steps
    assert info["blocks"] == n_blocks and info["tokens_per_epoch"] == n_blocks * 16 and info["steps"] == steps
    assert info["tokens_per_second"] > 0 and info["student_id"].startswith("tiny-llama-s0-v")
    assert not (path / "state").exists() and not (path / "final_model").exists()
    meta = json.loads((path / "artifact.json").read_text())
    assert meta["inputs"][0].startswith("sha256:") and meta["config"]["lr"] == 3e-3

    t0 = time.time()
    again = training.train_run("tiny-llama", corpus_dir, eval_hook=hook, store=store, **STAGE_HP)
    assert again == path and calls == [0, 1, 2] and time.time() - t0 < 5

    other = training.train_run("tiny-llama", corpus_dir, eval_hook=hook, store=store,
                               **{**STAGE_HP, "epochs": 1})
    assert other != path and calls == [0, 1, 2, 0, 1]


def test_final_model_is_the_last_checkpoint_linked_not_written_again(corpus_dir, store):
    path = training.train_run("tiny-llama", corpus_dir, store=store, save_checkpoints=True, **STAGE_HP)
    final, last = path / "final_model" / "model.safetensors", path / "checkpoints" / "epoch_02" / "model.safetensors"
    assert final.read_bytes() == last.read_bytes()
    assert os.stat(final).st_ino == os.stat(last).st_ino  # one copy on disk
    model, _ = load_model(str(path / "final_model"), device="cpu", dtype="float32")
    assert model.config.model_type == "llama"


def test_train_run_validates_before_loading_anything(corpus_dir, store, tmp_path):
    bad = [(dict(effective_batch=6), "effective_batch"), (dict(dtype="float16"), "dtype"),
           (dict(eval_limit=0), "eval_limit"), (dict(block_size=1), "block_size")]
    for kw, name in bad:
        with pytest.raises(ParameterError) as exc:
            training.train_run("tiny-llama", corpus_dir, store=store, **{**STAGE_HP, **kw})
        assert exc.value.name == name
    with pytest.raises(ResurfaceError, match="no such corpus folder"):
        training.train_run("tiny-llama", tmp_path / "missing", store=store, **STAGE_HP)
    with pytest.raises(ParameterError) as exc:
        training.train_run("tiny-llama", corpus_dir, store=store, **{**STAGE_HP, "block_size": 100_000})
    assert exc.value.name == "block_size"
    assert not any((store.root / "train").glob("*/DONE")) if (store.root / "train").exists() else True


def test_data_key_of_a_subset_inside_an_artifact(store, tmp_path):
    from resurface.corpus.files import write_corpus

    def make(work):
        for i in range(2):
            write_corpus(work / f"subset_{i:02d}", [{"text": t, "num_tokens": 0} for t in TEXTS[i::2]], {})

    art = store.get_or_compute("subsets", 1, {"k": 1}, make, verbose=False)
    assert training.data_key(art.path / "subset_01") == f"{art.key}/subset_01"
    plain = write_corpus(tmp_path / "plain", [{"text": "x", "num_tokens": 1}], {})
    assert training.data_key(plain).startswith("sha256:")


def test_cli_train_prints_the_folder_last(corpus_dir, tmp_path, capsys):
    from resurface.cli import main

    out = tmp_path / "run"
    rc = main(["train", "--student", "tiny-llama", "--data", str(corpus_dir), "--epochs", "1", "--lr", "1e-3",
               "--block-size", "16", "--batch-size", "4", "--effective-batch", "8", "--out", str(out)])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == str(out)
    assert any("loss per epoch" in ln for ln in lines)
    assert (out / "results.csv").exists() and (out / "losses.csv").exists()
    rc = main(["train", "--student", "tiny-llama", "--data", str(corpus_dir), "--epochs", "1", "--lr", "1e-3",
               "--block-size", "16", "--batch-size", "4", "--effective-batch", "6", "--out", str(out)])
    assert rc == 2 and "effective_batch" in capsys.readouterr().err


@pytest.mark.slow
def test_real_student_learns(tmp_path):
    """SmolLM2-135M: natural text starts far below the random-init loss and training lowers it."""
    model, tok = load_model("smollm2-135m", device="cpu")
    blocks = packing.pack_blocks(TEXTS, tok, 32)[:4]
    seen = []

    def hook(m, t, epoch):
        with torch.no_grad():
            seen.append(m(input_ids=blocks, labels=blocks).loss.item())
        return [{"suite": "probe", "task": "train", "metric": "loss", "value": seen[-1]}]

    res = training.train(model, tok, blocks, epochs=2, lr=2e-4, batch_size=2, effective_batch=2, seed=0,
                         eval_hook=hook, progress=False)
    assert seen[0] < 6.0  # random init would be ~ln(49152) = 10.8
    assert seen[2] < seen[0] - 0.5, seen
    assert len(res.losses) == 4 and res.results["epoch"].tolist() == [0, 1, 2]


DDP_SCRIPT = '''
import os, sys, torch
torch.set_num_threads(1)
from resurface.artifacts import Store
from resurface.train import training

def hook(model, tokenizer, epoch):
    with open(sys.argv[2] + f"/hook_rank{os.environ['RANK']}.txt", "a") as f:
        f.write(f"{epoch}\\n")
    return [{"suite": "s", "task": "t", "metric": "m", "value": float(epoch)}]

path = training.train_run("tiny-llama", sys.argv[3], epochs=2, lr=3e-3, warmup_ratio=0.1, block_size=16,
                          batch_size=2, effective_batch=8, seed=42, eval_hook=hook, store=Store(sys.argv[1]),
                          progress=False)
with open(sys.argv[2] + f"/path_rank{os.environ['RANK']}.txt", "w") as f:
    f.write(str(path))
'''


@pytest.mark.slow
def test_two_processes_match_one(tmp_path, store):
    """torchrun with 2 CPU processes (gloo DDP): same per-step losses as one process, the main process
    alone evaluates and writes, and both ranks return the same artifact folder."""
    import subprocess
    import sys
    from pathlib import Path

    from resurface.corpus.files import write_corpus

    texts = TEXTS[:12]  # 16 blocks of 16: every step holds the same blocks on 1 or 2 processes
    corpus = write_corpus(tmp_path / "corpus", [{"text": t, "num_tokens": 0} for t in texts], {})
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT)
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", str(script), str(store.root),
                           str(tmp_path), str(corpus)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    paths = {(tmp_path / f"path_rank{r}.txt").read_text() for r in (0, 1)}
    assert len(paths) == 1
    art = Path(paths.pop())
    assert (tmp_path / "hook_rank0.txt").read_text().split() == ["0", "1", "2"]
    assert not (tmp_path / "hook_rank1.txt").exists()
    info = json.loads((art / "train.json").read_text())
    assert info["num_processes"] == 2 and info["grad_accum"] == 2
    ddp = pd.read_csv(art / "losses.csv")

    blocks = packing.pack_blocks(texts, load_tokenizer("tiny-llama"), 16)
    assert len(blocks) == 16
    one = training.train(fresh(), None, blocks, epochs=2, lr=3e-3, warmup_ratio=0.1, batch_size=2,
                         effective_batch=8, seed=42, progress=False).losses
    assert ddp["loss"].tolist() == pytest.approx(one["loss"].tolist(), rel=1e-5)
    assert ddp["lr"].tolist() == pytest.approx(one["lr"].tolist(), rel=1e-12)
    assert ddp["tokens_seen"].tolist() == one["tokens_seen"].tolist()


def test_base_evaluation_is_shared_by_runs_of_the_same_student(corpus_dir, store, tmp_path, monkeypatch):
    """Epoch 0 evaluates the untouched student: runs on different data must not recompute it."""
    from resurface.evaluate import evaluation
    from resurface.corpus.files import write_corpus

    calls = []

    def fake_make_eval_hook(suites, *, limit=None, seed=42, **kw):
        def hook(model, tokenizer, epoch):
            calls.append(epoch)
            return [{"suite": suites[0], "task": "x", "metric": "acc,none", "value": 0.25 + epoch, "stderr": None,
                     "primary": True}]
        return hook

    monkeypatch.setattr(evaluation, "make_eval_hook", fake_make_eval_hook)
    other = write_corpus(tmp_path / "other", [{"text": t[::-1], "num_tokens": 0} for t in TEXTS], {"model": "t"})
    a = training.train_run("tiny-llama", corpus_dir, eval_suites=["smoke"], store=store, **STAGE_HP)
    b = training.train_run("tiny-llama", other, eval_suites=["smoke"], store=store, **STAGE_HP)
    assert a != b
    assert calls == [0, 1, 2, 1, 2]  # the second run read its epoch-0 scores from the store
    ra, rb = pd.read_csv(a / "results.csv"), pd.read_csv(b / "results.csv")
    assert ra[ra.epoch == 0]["value"].tolist() == rb[rb.epoch == 0]["value"].tolist() == [0.25]
    assert bool(rb[rb.epoch == 0]["primary"].iloc[0]) is True


def test_state_is_saved_only_when_the_unsaved_work_is_worth_a_save():
    assert not training.state_due(10.0, None, every_s=300.0)  # a course run: never worth 1.6 GB
    assert training.state_due(301.0, None, every_s=300.0)  # first save: its cost is unknown yet
    assert not training.state_due(301.0, 40.0, every_s=300.0)  # saves take 40 s: wait for 400 s of work
    assert training.state_due(400.0, 40.0, every_s=300.0)
    assert training.state_due(0.0, None, every_s=0.0) and training.state_due(0.1, 5.0, every_s=0.0)  # 0: always


def test_a_quick_run_writes_no_state_and_says_so(blocks, tok, tmp_path):
    hp = {**HP, "state_every_s": 3600.0}
    res = training.train(fresh(), tok, blocks, epochs=2, workdir=tmp_path / "w", **hp)
    assert not (tmp_path / "w" / "state").exists() and res.summary["state_saves"] == 0
    every = training.train(fresh(), tok, blocks, epochs=2, workdir=tmp_path / "e", **HP)
    assert (tmp_path / "e" / "state").exists() and every.summary["state_saves"] == 3  # epochs 0, 1, 2
    pd.testing.assert_frame_equal(steps_only(res.losses), steps_only(every.losses), check_exact=True)


def test_the_state_interval_is_checked_before_any_work(monkeypatch, blocks, tok):
    with pytest.raises(ParameterError, match="state_every_s"):
        training.train(fresh(), tok, blocks, epochs=1, **{**HP, "state_every_s": -1})
    monkeypatch.setenv("RESURFACE_STATE_EVERY_S", "soon")
    with pytest.raises(ParameterError, match="RESURFACE_STATE_EVERY_S"):
        training.train(fresh(), tok, blocks, epochs=1, **{**HP, "state_every_s": None})
    monkeypatch.setenv("RESURFACE_STATE_EVERY_S", "0")
    assert training.state_every_seconds() == 0.0


def test_per_item_rows_of_the_eval_hook_are_written_per_epoch(blocks, tok, tmp_path):
    """A hook's ``items[epoch]`` (make_eval_hook keeps lm-eval's per-item values there) lands in
    ``items/epoch_XX.csv.gz``, readable with resurface.evaluate.evaluation.read_items."""
    from resurface.evaluate.evaluation import read_items

    def hook(model, tokenizer, epoch):
        hook.items[epoch] = [{"run": "", "epoch": epoch, "suite": "s", "task": "t", "item": i, "metric": "m,none",
                              "value": float(epoch + i)} for i in range(3)]
        return [{"suite": "s", "task": "t", "metric": "m,none", "value": float(epoch), "primary": True}]

    hook.items = {}
    training.train(fresh(), tok, blocks, epochs=2, workdir=tmp_path / "w", eval_hook=hook, **HP)
    files = sorted(p.name for p in (tmp_path / "w" / "items").iterdir())
    assert files == ["epoch_00.csv.gz", "epoch_01.csv.gz", "epoch_02.csv.gz"] and hook.items == {}
    df = read_items(tmp_path / "w")
    assert df.groupby("epoch").value.sum().tolist() == [3.0, 6.0, 9.0]
