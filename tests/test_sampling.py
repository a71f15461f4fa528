"""Unconditional sampling: the sampled distribution, EOS handling, NLL bookkeeping, determinism, resume."""

import json
import shutil

import pytest
import torch

from resurface.corpus import sampling
from resurface.errors import ParameterError
from resurface.models import load_model, unconditional_prompt
from resurface.corpus.sampling import derived_seed, sample, sample_batch, sample_corpus


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tiny():
    model, tok = load_model("tiny-llama", device="cpu")
    return model, tok


@pytest.fixture(scope="module")
def small_vocab_model():
    """A 16-token Llama whose next-token distribution at the prompt is far from uniform."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=16, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64,
                      bos_token_id=0, eos_token_id=1, tie_word_embeddings=False)
    model = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        logits = model(torch.tensor([[0]])).logits[0, -1]
        model.lm_head.weight.mul_(2.0 / logits.std())  # logit std 2: clearly non-uniform
        logits = model(torch.tensor([[0]])).logits[0, -1]
    assert logits.max() - logits.min() > 4
    return model, logits.double()


def _eos_bias(model, eos_id: int, bias: float):
    """Register a hook adding ``bias`` to the EOS logit; returns the handle."""
    def hook(module, inputs, output):
        output = output.clone()
        output[..., eos_id] += bias
        return output

    return model.lm_head.register_forward_hook(hook)


def _chisquare_p(counts: torch.Tensor, probs: torch.Tensor) -> float:
    from scipy.stats import chisquare

    n = int(counts.sum())
    expected = probs * n
    big = expected >= 5
    obs = counts[big].tolist() + [float(counts[~big].sum())]
    exp = expected[big].tolist() + [float(expected[~big].sum())]
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    return float(chisquare(obs, exp).pvalue)


@pytest.mark.parametrize("temperature", [0.75, 1.0, 1.25])
def test_first_token_frequencies_match_softmax_at_temperature(small_vocab_model, temperature):
    model, logits = small_vocab_model
    n = 4000
    gen = torch.Generator().manual_seed(123)
    batch = sample_batch(model, [0], n, temperature=temperature, max_new_tokens=1, eos_ids=[1],
                         generator=gen)
    first = torch.tensor([ids[0] for ids in batch.token_ids])
    counts = torch.bincount(first, minlength=16).double()
    p_right = _chisquare_p(counts, torch.softmax(logits / temperature, -1))
    assert p_right > 0.001
    # the test has power: the frequencies are far from the distribution at another temperature
    wrong = 1.0 if temperature != 1.0 else 0.75
    assert _chisquare_p(counts, torch.softmax(logits / wrong, -1)) < 0.001


def test_raw_logprobs_are_temperature_one(small_vocab_model):
    model, logits = small_vocab_model
    batch = sample_batch(model, [0], 50, temperature=1.25, max_new_tokens=1,
                         generator=torch.Generator().manual_seed(0))
    raw = torch.log_softmax(logits, -1)
    for ids, lps in zip(batch.token_ids, batch.logprobs):
        assert lps[0] == pytest.approx(float(raw[ids[0]]), abs=1e-5)


def _zipf_logits(vocab: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    ranks = torch.randperm(vocab, generator=g).double() + 1
    return (-1.1 * ranks.log() + 0.5 * torch.randn(vocab, generator=g, dtype=torch.float64)).float()


def _mass_bins_p(counts: torch.Tensor, probs: torch.Tensor, bins: int = 20) -> float:
    """Chi-square p-value of the draws grouped into ``bins`` runs of consecutive ids of about equal mass:
    tests the whole cumulative distribution, tail included, not only the frequent tokens."""
    from scipy.stats import chisquare

    edges = torch.searchsorted(probs.cumsum(0), torch.linspace(0, 1, bins + 1)[1:-1].double())
    group = torch.bucketize(torch.arange(len(probs)), edges, right=True)
    obs = torch.zeros(bins, dtype=torch.float64).index_add_(0, group, counts)
    exp = torch.zeros(bins, dtype=torch.float64).index_add_(0, group, probs * counts.sum())
    keep = exp > 0
    return float(chisquare(obs[keep].tolist(), exp[keep].tolist()).pvalue)


@pytest.mark.parametrize("temperature", [0.75, 1.25])
def test_draw_tokens_matches_a_large_vocabulary_distribution(temperature):
    """The inverse-CDF draw over a 49,152-token Zipf-like vocabulary (SmolLM2's size), with two ids
    banned: the frequencies fit the renormalised softmax over the whole vocabulary, banned ids never
    come up, and the returned log-probabilities are the raw (temperature 1, unbanned) ones."""
    vocab, rows, chunks = 49152, 250, 24
    logits = _zipf_logits(vocab)
    banned = torch.tensor([int(logits.argmax()), vocab - 1])
    gen = torch.Generator().manual_seed(7)
    counts = torch.zeros(vocab, dtype=torch.float64)
    raw = torch.log_softmax(logits.double(), -1)
    for _ in range(chunks):
        ids, lps = sampling.draw_tokens(logits.expand(rows, -1), temperature, gen, banned=banned)
        counts += torch.bincount(ids, minlength=vocab).double()
        assert torch.allclose(lps.double(), raw[ids], atol=1e-5)
    assert counts[banned].sum() == 0
    scaled = logits.double() / temperature
    scaled[banned] = float("-inf")
    probs = torch.softmax(scaled, -1)
    assert _chisquare_p(counts, probs) > 0.001
    assert _mass_bins_p(counts, probs) > 0.001
    wrong = torch.softmax(logits.double() / 1.0, -1)  # the test has power: temperature 1 is rejected
    assert _mass_bins_p(counts, wrong) < 0.001


def test_draw_tokens_never_overruns_to_a_banned_last_id(monkeypatch):
    """A uniform number rounding up to the total weight still lands on the last id of non-zero weight."""
    logits = torch.zeros(3, 10)
    banned = torch.tensor([8, 9])
    monkeypatch.setattr(torch, "rand", lambda shape, **kw: torch.full(shape, 1.0, dtype=torch.float64))
    ids, _ = sampling.draw_tokens(logits, 1.0, banned=banned)
    assert ids.tolist() == [7, 7, 7]


def test_draw_tokens_refuses_nan_logits():
    logits = torch.zeros(2, 5)
    logits[1, 2] = float("nan")
    with pytest.raises(RuntimeError, match="NaN"):
        sampling.draw_tokens(logits, 1.0)


def test_min_new_tokens_holds_when_eos_is_very_likely(tiny, tmp_path):
    model, tok = tiny
    eos = tok.eos_token_id
    handle = _eos_bias(model, eos, 40.0)
    try:
        batch = sample_batch(model, [tok.bos_token_id], 6, temperature=1.0, max_new_tokens=12,
                             min_new_tokens=5, eos_ids=[eos], generator=torch.Generator().manual_seed(1))
        for ids, fin in zip(batch.token_ids, batch.finished):
            assert eos not in ids[:5]
            assert ids[5] == eos and len(ids) == 6 and fin == "eos"
        out = sample_corpus(model, tok, temperature=1.0, num_samples=6, max_new_tokens=12,
                            min_new_tokens=5, seed=0, batch_size=3, out_dir=tmp_path / "min5", progress=False)
        recs = [json.loads(l) for l in (out / "corpus.jsonl").read_text().splitlines()]
        assert len(recs) == 6
        assert all(r["num_tokens"] == 6 and r["finished"] == "eos" and r["text"] for r in recs)
        # without the minimum every sample is a lone EOS: empty text, dropped
        out0 = sample_corpus(model, tok, temperature=1.0, num_samples=6, max_new_tokens=12,
                             min_new_tokens=0, seed=0, batch_size=3, out_dir=tmp_path / "min0", progress=False)
        meta = json.loads((out0 / "meta.json").read_text())
        assert meta["num_kept"] == 0 and meta["dropped"]["empty"] == 6 and meta["finished"]["eos"] == 6
    finally:
        handle.remove()


def test_mean_nll_matches_teacher_forced_recomputation(tiny, tmp_path):
    model, tok = tiny
    eos = tok.eos_token_id
    prompt = list(unconditional_prompt(tok).ids)
    handle = _eos_bias(model, eos, 8.0)  # rows stop at different steps: exercises cache compaction
    try:
        gen = torch.Generator().manual_seed(derived_seed(7, 0))
        batch = sample_batch(model, prompt, 8, temperature=1.25, max_new_tokens=24, min_new_tokens=2,
                             eos_ids=[eos], generator=gen)
        assert len({len(ids) for ids in batch.token_ids}) > 1, "want rows of different lengths"
        with torch.no_grad():
            for ids, lps in zip(batch.token_ids, batch.logprobs):
                full = torch.tensor([prompt + ids])
                logp = torch.log_softmax(model(full).logits[0].double(), -1)
                pos = torch.arange(len(prompt) - 1, len(prompt) - 1 + len(ids))
                tf = -logp[pos, torch.tensor(ids)].mean().item()
                assert -sum(lps) / len(lps) == pytest.approx(tf, abs=1e-4)
        # the corpus records carry the same numbers (batch 0 uses the generator seeded (seed, 0))
        out = sample_corpus(model, tok, temperature=1.25, num_samples=8, max_new_tokens=24,
                            min_new_tokens=2, seed=7, batch_size=8, out_dir=tmp_path / "c", progress=False)
        recs = {json.loads(l)["id"]: json.loads(l) for l in (out / "corpus.jsonl").read_text().splitlines()}
        for i, (ids, lps) in enumerate(zip(batch.token_ids, batch.logprobs)):
            if i in recs:
                assert recs[i]["mean_nll"] == pytest.approx(-sum(lps) / len(lps), abs=1e-5)
                assert recs[i]["num_tokens"] == len(ids)
    finally:
        handle.remove()


def _run(model, tok, out_dir, seed=3, **kw):
    args = dict(temperature=1.0, num_samples=10, max_new_tokens=10, min_new_tokens=2, seed=seed,
                batch_size=3, progress=False)
    args.update(kw)
    return sample_corpus(model, tok, out_dir=out_dir, **args)


def test_same_seed_same_corpus_other_seed_other_corpus(tiny, tmp_path):
    model, tok = tiny
    a = (_run(model, tok, tmp_path / "a") / "corpus.jsonl").read_text()
    b = (_run(model, tok, tmp_path / "b") / "corpus.jsonl").read_text()
    c = (_run(model, tok, tmp_path / "c", seed=4) / "corpus.jsonl").read_text()
    assert a == b
    assert a != c
    assert len(a.splitlines()) == 10


def test_killed_then_resumed_run_equals_uninterrupted(tiny, tmp_path, monkeypatch):
    model, tok = tiny
    reference = (_run(model, tok, tmp_path / "ref") / "corpus.jsonl").read_text()

    real_write = sampling._write_shard
    written = []

    def dying_write(path, rows):
        if len(written) == 3:
            raise KeyboardInterrupt("simulated kill")
        real_write(path, rows)
        written.append(path)

    monkeypatch.setattr(sampling, "_write_shard", dying_write)
    with pytest.raises(KeyboardInterrupt):
        _run(model, tok, tmp_path / "resumed")
    monkeypatch.setattr(sampling, "_write_shard", real_write)
    shards = sorted((tmp_path / "resumed" / "shards").glob("batch_*.jsonl"))
    assert len(shards) == 3 and not (tmp_path / "resumed" / "corpus.jsonl").exists()
    shards[1].unlink()  # a lost shard is recomputed too

    calls = []
    real_batch = sampling.sample_batch

    def counting_batch(*a, **k):
        calls.append(1)
        return real_batch(*a, **k)

    monkeypatch.setattr(sampling, "sample_batch", counting_batch)
    out = _run(model, tok, tmp_path / "resumed")
    assert len(calls) == 2  # 4 batches of 3/3/3/1: shards 0 and 2 were kept
    assert (out / "corpus.jsonl").read_text() == reference
    assert not (out / "shards").exists()
    # a finished folder is reused as is; other settings in the same folder are refused
    _run(model, tok, tmp_path / "resumed")
    assert len(calls) == 2
    with pytest.raises(ParameterError) as err:
        _run(model, tok, tmp_path / "resumed", seed=99)
    assert err.value.name == "out"


def test_interrupted_shards_of_other_settings_are_refused(tiny, tmp_path, monkeypatch):
    model, tok = tiny

    def die(path, rows):
        raise KeyboardInterrupt

    monkeypatch.setattr(sampling, "_write_shard", die)
    with pytest.raises(KeyboardInterrupt):
        _run(model, tok, tmp_path / "x")
    monkeypatch.undo()
    with pytest.raises(ParameterError, match="temperature"):
        _run(model, tok, tmp_path / "x", temperature=0.5)


def test_a_foreign_corpus_folder_is_never_overwritten(tiny, tmp_path):
    from resurface.corpus.files import write_corpus

    model, tok = tiny
    write_corpus(tmp_path / "other", [{"text": "precious"}], {"kind": "replay"})
    with pytest.raises(ParameterError, match="not made by this sampler") as err:
        _run(model, tok, tmp_path / "other")
    assert err.value.name == "out"
    assert "precious" in (tmp_path / "other" / "corpus.jsonl").read_text()


@pytest.mark.parametrize("kwargs,name", [
    (dict(temperature=0.0), "temperature"),
    (dict(temperature=-1.0), "temperature"),
    (dict(temperature=float("nan")), "temperature"),
    (dict(min_new_tokens=20, max_new_tokens=10), "min_new_tokens"),
    (dict(num_samples=0), "num_samples"),
    (dict(batch_size=0), "batch_size"),
    (dict(engine="tgi"), "engine"),
])
def test_bad_parameters_fail_before_any_loading(kwargs, name):
    args = dict(temperature=1.0, num_samples=4, max_new_tokens=10, min_new_tokens=0)
    args.update(kwargs)
    with pytest.raises(ParameterError) as err:
        sample("no-such-model-alias", **args)  # the model is never looked up
    assert err.value.name == name


def test_vllm_engine_without_vllm_says_how_to_install():
    pytest.importorskip("torch")
    try:
        import vllm  # noqa: F401
        pytest.skip("vllm is installed here")
    except ImportError:
        pass
    with pytest.raises(ParameterError, match=r"vllm is not installed.*pip install -e \.\[vllm\]") as err:
        sample("no-such-model-alias", temperature=1.0, num_samples=4, max_new_tokens=8, engine="vllm")
    assert err.value.name == "engine"


def test_sample_stage_is_cached_and_keyed_on_the_model_identity(store):
    kw = dict(temperature=1.0, num_samples=4, max_new_tokens=6, batch_size=2, device="cpu",
              store=store, progress=False)
    a = sample("tiny-llama", **kw)
    b = sample("tiny-llama", **kw)
    c = sample("tiny-llama", **{**kw, "temperature": 0.75})
    assert a == b and a != c
    art = json.loads((a / "artifact.json").read_text())
    assert art["config"]["model_identity"] == {"kind": "alias:tiny", "folder": "tiny-llama-s0-v1"}
    assert art["config"]["prompt_ids"] == [1] and art["config"]["dtype"] == "float32"
    meta = json.loads((a / "meta.json").read_text())
    for field in ("model", "model_path", "prompt_text", "prompt_ids", "prompt_rule", "temperature",
                  "top_k", "top_p", "min_new_tokens", "max_new_tokens", "seed", "batch_size",
                  "num_requested", "num_kept", "versions"):
        assert field in meta
    assert meta["top_k"] == 0 and meta["top_p"] == 1.0 and meta["prompt_rule"] == "bos_token"


def test_qwen_style_tokenizer_uses_the_newline_prompt(tmp_path):
    model, tok = load_model("tiny-qwen2", device="cpu")
    out = sample_corpus(model, tok, temperature=1.0, num_samples=2, max_new_tokens=4, min_new_tokens=0,
                        seed=0, batch_size=2, out_dir=tmp_path, progress=False)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["prompt_text"] == "\n" and meta["prompt_rule"] == "newline-fallback"


def test_cli_sample_prints_the_corpus_folder_last(tmp_path, capsys):
    from resurface.cli import main

    out = tmp_path / "corpus"
    rc = main(["sample", "--model", "tiny-llama", "--temperature", "1.0", "--num-samples", "3",
               "--max-new-tokens", "5", "--min-new-tokens", "1", "--batch-size", "2", "--seed", "1",
               "--device", "cpu", "--out", str(out)])
    assert rc == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out)
    assert len((out / "corpus.jsonl").read_text().splitlines()) == 3
    rc = main(["sample", "--model", "tiny-llama", "--temperature", "0", "--num-samples", "3",
               "--max-new-tokens", "5", "--out", str(tmp_path / "bad")])
    assert rc == 2
    assert "parameter 'temperature'" in capsys.readouterr().err


@pytest.mark.slow
def test_smollm2_samples_real_text(tmp_path):
    model, tok = load_model("smollm2-135m", device="cpu")
    out = sample_corpus(model, tok, temperature=1.0, num_samples=4, max_new_tokens=24, min_new_tokens=8,
                        seed=0, batch_size=4, out_dir=tmp_path, progress=False)
    recs = [json.loads(l) for l in (out / "corpus.jsonl").read_text().splitlines()]
    assert len(recs) >= 3
    assert all(8 <= r["num_tokens"] <= 24 for r in recs)
    # a trained model is far more confident than uniform over its 49k vocabulary (ln 49152 = 10.8)
    assert all(0 < r["mean_nll"] < 8 for r in recs)
    shutil.rmtree(tmp_path, ignore_errors=True)
