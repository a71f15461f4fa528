"""Shared-prefix log-likelihoods equal lm-eval's stock HFLM request by request and metric by metric."""

from __future__ import annotations

import os
import random

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

ARCHS = ["tiny-llama", "tiny-gemma3", "tiny-qwen2", "tiny-gptneox"]


def _pair(alias: str, batch_size=16):
    from lm_eval.models.huggingface import HFLM

    from resurface.models import load_model
    from resurface.evaluate.lmbackend import ResurfaceHFLM
    from resurface.tiny import ensure_tiny

    model, tok = load_model(str(ensure_tiny(alias)), device="cpu")
    return (HFLM(pretrained=model, tokenizer=tok, batch_size=batch_size),
            ResurfaceHFLM(pretrained=model, tokenizer=tok, batch_size=batch_size))


def _requests(vocab: int, seed: int = 0):
    """Multiple-choice-like requests: contexts of many lengths, 1-4 continuations of 1-7 tokens each,
    one context repeated in a later position, and one request too long for the model (stock path)."""
    r = random.Random(seed)
    reqs = []
    for q in range(9):
        ctx = [r.randrange(5, vocab) for _ in range(r.randint(1, 40))]
        for _ in range(r.randint(1, 4)):
            reqs.append(((f"q{q}", "c"), ctx, [r.randrange(5, vocab) for _ in range(r.randint(1, 7))]))
    reqs.append(((None, "again"), reqs[0][1], [7, 8, 9]))
    return reqs


@pytest.mark.parametrize("alias", ARCHS)
def test_same_loglikelihoods_and_greedy_flags_as_stock_hflm(alias):
    stock, ours = _pair(alias, batch_size=5)  # a small batch: contexts of several lengths share a forward
    reqs = _requests(min(stock.tokenizer.vocab_size, 5000))
    want = stock._loglikelihood_tokens(reqs, disable_tqdm=True)
    got = ours._loglikelihood_tokens(reqs, disable_tqdm=True)
    assert len(got) == len(want)
    for (lw, gw), (lg, gg) in zip(want, got):
        assert lg == pytest.approx(lw, abs=2e-4, rel=1e-5)
        assert gg == gw


def test_greedy_flag_is_true_for_the_model_own_greedy_continuation():
    import torch

    stock, ours = _pair("tiny-llama")
    ctx = [11, 12, 13, 14]
    with torch.no_grad():
        out = stock.model.generate(torch.tensor([ctx]), max_new_tokens=4, do_sample=False)
    cont = out[0, len(ctx):].tolist()
    (lp, greedy), (_, not_greedy) = ours._loglikelihood_tokens(
        [(None, ctx, cont), (None, ctx, cont[:-1] + [(cont[-1] + 1) % 100 + 5])], disable_tqdm=True)
    assert greedy and not not_greedy and lp < 0


def test_too_long_requests_use_lm_eval_truncation():
    stock, ours = _pair("tiny-llama")
    n = stock.max_length + 5
    reqs = [(None, [9] * n, [10, 11]), (None, [9, 10], [11])]
    want = stock._loglikelihood_tokens(reqs, disable_tqdm=True)
    got = ours._loglikelihood_tokens(reqs, disable_tqdm=True)
    for (lw, gw), (lg, gg) in zip(want, got):
        assert lg == pytest.approx(lw, abs=2e-4) and gg == gw


CONTINUOUS = ("logp_gold_norm,none", "neg_bpb,none")


def _assert_same_metrics(ours, stock) -> None:
    """Accuracies and pass rates equal exactly (the same decisions); the continuous metrics are sums of
    float32 log-probabilities, which the two backends batch differently: equal to 1e-5."""
    b = ours.set_index(["task", "metric"]).value.to_dict()
    a = stock.set_index(["task", "metric"]).value.to_dict()
    assert b.keys() == a.keys()
    exact = {k: v for k, v in a.items() if k[1] not in CONTINUOUS}
    close = {k: v for k, v in a.items() if k[1] in CONTINUOUS}
    assert {k: b[k] for k in exact} == pytest.approx(exact, abs=1e-9)
    assert {k: b[k] for k in close} == pytest.approx(close, abs=1e-5)


def test_course_multiple_choice_metrics_equal_stock(tmp_path):
    """The course MC and completion tasks through lm-eval end to end: same metrics with either backend."""
    from resurface.evaluate.evaluation import evaluate_lm

    stock, ours = _pair("tiny-gemma3")
    a = evaluate_lm(stock, "course-few-shot", limit=4, seed=1)
    b = evaluate_lm(ours, "course-few-shot", limit=4, seed=1)
    a, b = a[a.task != "rs_math"], b[b.task != "rs_math"]
    assert len(a) >= 4 and a.metric.isin(CONTINUOUS).any()
    _assert_same_metrics(b, a)


def _generate(lm, prompts: list[str], until: list[str], max_gen_toks: int) -> list[str]:
    from lm_eval.api.instance import Instance

    kwargs = {"until": until, "do_sample": False, "temperature": 0.0, "max_gen_toks": max_gen_toks}
    return lm.generate_until([Instance(request_type="generate_until", doc={}, arguments=(p, dict(kwargs)), idx=i)
                              for i, p in enumerate(prompts)], disable_tqdm=True)


def _course_prompts(name: str, n: int) -> list[str]:
    from resurface.evaluate.coursetasks import load_items

    rows = load_items(name)[:n]
    return [r["prompt"] if "prompt" in r else f"Question: {r['question']}\nAnswer:" for r in rows]


@pytest.mark.parametrize("alias", ["tiny-llama", "tiny-gemma3"])
def test_greedy_generation_equals_model_generate(alias, monkeypatch):
    """Same text as stock HFLM (model.generate), with rows of very different lengths in one batch:
    stop strings that random models hit at different steps, and max_gen_toks for the rest."""
    from resurface.evaluate import lmbackend

    calls = []
    real = lmbackend.greedy_generate
    monkeypatch.setattr(lmbackend, "greedy_generate", lambda *a, **k: calls.append(1) or real(*a, **k))
    stock, ours = _pair(alias, batch_size=8)
    prompts = _course_prompts("rs_math", 12)
    for until in (["e", "\n"], ["Question:"]):
        assert _generate(ours, prompts, until, 24) == _generate(stock, prompts, until, 24)
    assert calls  # the fast path ran (not the stock fallback)


def test_sampling_and_active_processors_take_the_stock_path(monkeypatch):
    from resurface.evaluate.lmbackend import plain_greedy

    stock, ours = _pair("tiny-llama")
    cfg = ours.model.generation_config
    assert plain_greedy(cfg, {"do_sample": False, "temperature": 0.0, "attention_mask": None})
    assert not plain_greedy(cfg, {"do_sample": True, "temperature": 0.2, "top_p": 0.95})
    monkeypatch.setattr(cfg, "repetition_penalty", 1.3, raising=False)
    assert not plain_greedy(cfg, {"do_sample": False})
    # and through the backend: with the penalty active both sides run model.generate and agree
    prompts = _course_prompts("rs_math", 4)
    assert _generate(ours, prompts, ["\n"], 8) == _generate(stock, prompts, ["\n"], 8)


@pytest.mark.slow
def test_course_suite_on_smollm2_equals_stock():
    """Every metric of the course suite (generation and log-likelihood tasks) on the real course student."""
    from lm_eval.models.huggingface import HFLM

    from resurface.evaluate.evaluation import evaluate_lm
    from resurface.evaluate.lmbackend import ResurfaceHFLM
    from resurface.models import load_model

    model, tok = load_model("smollm2-135m", device="cpu")
    a = evaluate_lm(HFLM(pretrained=model, tokenizer=tok, batch_size=16), "course", limit=6, seed=3, model=model)
    b = evaluate_lm(ResurfaceHFLM(pretrained=model, tokenizer=tok, batch_size=16), "course", limit=6, seed=3,
                    model=model)
    _assert_same_metrics(b, a)


def test_pack_groups_covers_every_group_once_and_bounds_rows_and_padding():
    from resurface.evaluate.lmbackend import PAD_SLACK, pack_groups, padded_positions

    r = random.Random(3)
    # a mixed suite: short multiple-choice items (4 short choices) and long bits-per-byte answers
    shapes = [(r.randint(10, 90), [r.randint(1, 6) for _ in range(4)]) for _ in range(30)]
    shapes += [(r.randint(10, 90), [r.randint(20, 70)]) for _ in range(12)]
    shapes += [(5, [2] * 40)]  # a group larger than the cap forms its own batch
    batches = pack_groups(shapes, cap=32)
    assert sorted(g for b in batches for g in b) == list(range(len(shapes)))
    for b in batches:
        rows = sum(len(shapes[g][1]) for g in b)
        assert rows <= 32 or len(b) == 1
        if len(b) > 1:
            padded, real = padded_positions([shapes[g] for g in b])
            assert padded <= PAD_SLACK * real
    # a long bits-per-byte answer never shares a batch with short choices (the old context-length order
    # mixed them, and about 40% of a course evaluation was padding: benchmarks/bench_loglik_batching.py)
    for b in batches:
        longest = [max(shapes[g][1]) for g in b]
        assert not (max(longest) >= 20 and min(longest) <= 6), [shapes[g] for g in b]


def test_padded_positions_counts_left_padded_contexts_and_continuation_tails():
    from resurface.evaluate.lmbackend import padded_positions

    # contexts 3 and 5 -> 2 x 5; continuations 1, 4, 2 -> tails 0, 3, 1 padded to 3 each
    assert padded_positions([(3, [1, 4]), (5, [2])]) == (2 * 5 + 3 * 3, 3 + 5 + 0 + 3 + 1)
