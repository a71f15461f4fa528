"""The dtype choice: bf16 where the hardware multiplies bf16, fp32 elsewhere, and keys that follow it."""

import pytest

from resurface import device
from resurface.errors import ParameterError

AMX = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_tile amx_bf16\n"
PLAIN = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n"


def test_flags_are_read_from_cpuinfo_text():
    assert {"amx_bf16", "avx512_bf16"} <= device.cpu_flags(AMX)
    assert "amx_bf16" not in device.cpu_flags(PLAIN)
    assert device.cpu_flags("no flags line here") == frozenset()


@pytest.mark.parametrize("text, expected", [(AMX, True), (PLAIN, False),
                                            ("flags : avx512_bf16\n", True), ("flags : amx_bf16\n", True)])
def test_bf16_units_are_detected_by_flag(monkeypatch, text, expected):
    flags = device.cpu_flags(text)
    assert device.cpu_has_bf16_units(flags) is expected
    monkeypatch.setenv(device.CPU_BF16_ENV, "auto")  # auto: the flags decide
    assert device.cpu_bf16_chosen(flags) is expected
    monkeypatch.delenv(device.CPU_BF16_ENV)  # unset: the default, which is auto
    assert device.CPU_BF16_DEFAULT == "auto"
    assert device.cpu_bf16_chosen(flags) is expected
    monkeypatch.setenv(device.CPU_BF16_ENV, "0")  # 0 keeps fp32 whatever the CPU has
    assert device.cpu_bf16_chosen(flags) is False
    monkeypatch.setenv(device.CPU_BF16_ENV, "1")
    assert device.cpu_bf16_chosen(device.cpu_flags(PLAIN)) is True


def _force(monkeypatch, on: bool):
    monkeypatch.setenv(device.CPU_BF16_ENV, "1" if on else "0")


def test_auto_is_bf16_only_where_the_cpu_has_the_units(monkeypatch):
    import torch

    _force(monkeypatch, True)
    assert device.resolve_dtype("auto", "cpu") is torch.bfloat16
    assert device.mixed_precision("auto", "cpu") == "bf16"
    assert device.precision_words("auto", "cpu") == "bf16 on the CPU's matrix units"
    _force(monkeypatch, False)
    assert device.resolve_dtype("auto", "cpu") is torch.float32
    assert device.mixed_precision("auto", "cpu") == "no"
    assert device.precision_words("auto", "cpu") == "fp32"
    # CUDA is bf16 either way; an explicit setting always wins
    assert device.auto_dtype_name("cuda") == "bfloat16" and device.precision_words("auto", "cuda") == "bf16 on the GPU"
    _force(monkeypatch, True)
    assert device.resolve_dtype("float32", "cpu") is torch.float32 and device.mixed_precision("float32", "cpu") == "no"


def test_keys_change_only_where_auto_chose_the_cpu_units(monkeypatch):
    _force(monkeypatch, False)
    assert device.dtype_key("auto", "cpu") == "auto"  # fp32 machines keep their stores
    assert device.precision_fields("auto", "cpu") == {}
    _force(monkeypatch, True)
    assert device.dtype_key("auto", "cpu") == "auto:bfloat16-cpu"
    assert device.precision_fields("auto", "cpu") == {"precision": "auto:bfloat16-cpu"}
    assert device.dtype_key("float32", "cpu") == "float32" and device.dtype_key("auto", "cuda") == "auto"
    assert device.hook_scoring_dtype("auto", "cpu") == "bfloat16"
    assert device.hook_scoring_dtype("auto", "cuda") == "float32"


def test_bad_settings_are_named(monkeypatch):
    monkeypatch.setenv(device.CPU_BF16_ENV, "yes")
    with pytest.raises(ParameterError, match=device.CPU_BF16_ENV):
        device.cpu_bf16_chosen()
    monkeypatch.delenv(device.CPU_BF16_ENV)
    with pytest.raises(ParameterError, match="float16"):
        device.mixed_precision("float16", "cpu")
    with pytest.raises(ParameterError, match="dtype"):
        device.dtype_name("half", "cpu")


def test_bf16_training_keeps_fp32_masters_and_scores_a_bf16_copy(monkeypatch):
    """Forced on, a run trains fp32 weights under bf16 autocast, its hook scores a bf16 copy (never the
    training weights), and its losses stay near the fp32 run's; forced off, everything is fp32."""
    import torch

    from resurface.models import load_model, load_tokenizer
    from resurface.train import packing, training

    tok = load_tokenizer("tiny-llama")
    texts = [f"The quick brown fox number {i} jumps over the lazy dog by tree {i * 7}." for i in range(13)]
    blocks = packing.pack_blocks(texts, tok, 16)
    hp = dict(epochs=2, lr=3e-3, warmup_ratio=0.1, batch_size=4, effective_batch=8, seed=0, progress=False)

    def run(on: bool):
        _force(monkeypatch, on)
        seen = []

        def hook(model, tokenizer, epoch):
            p = next(model.parameters())
            seen.append((p.dtype, torch.is_autocast_enabled("cpu"), model.training))
            with torch.no_grad():
                value = model(input_ids=blocks[:2], labels=blocks[:2]).loss.float().item()
            return [{"suite": "probe", "task": "t", "metric": "loss", "value": value, "stderr": None}]

        model = load_model("tiny-llama", device="cpu", dtype="float32")[0]
        res = training.train(model, tok, blocks, eval_hook=hook, **hp)
        assert next(model.parameters()).dtype is torch.float32  # the master weights stay fp32
        return res, seen

    r16, seen16 = run(True)
    r32, seen32 = run(False)
    assert r16.summary["mixed_precision"] == "bf16" and r32.summary["mixed_precision"] == "no"
    assert seen16 == [(torch.bfloat16, False, False)] * 3
    assert seen32 == [(torch.float32, False, False)] * 3
    l16, l32 = r16.losses["loss"].to_numpy(), r32.losses["loss"].to_numpy()
    assert abs(l16 - l32).max() < 0.05 * abs(l32).max()  # bf16 rounding, not another run
    hook16 = r16.results["value"].to_numpy()
    assert hook16[-1] < hook16[0]  # the scored copy follows the training weights


def test_cpu_bf16_steps_use_eager_attention_and_give_the_kernel_back(monkeypatch):
    """Under bf16 on the CPU the steps run the model's own attention (the fused kernel's bf16 backward is
    slow there), the evaluations score with the model's kernel, and the caller gets it back; in fp32
    nothing changes. Both kernels give the same loss up to rounding."""
    import torch

    from resurface.models import load_model, load_tokenizer
    from resurface.train import attention, packing, training

    tok = load_tokenizer("tiny-llama")
    blocks = packing.pack_blocks([f"A small text about tree {i} and its {i * 3} leaves." for i in range(9)], tok, 16)

    def run(on: bool):
        _force(monkeypatch, on)
        model = load_model("tiny-llama", device="cpu", dtype="float32")[0]
        assert attention.kernel(model) == "sdpa"
        stepped, scored = [], []
        model.register_forward_pre_hook(lambda m, a: stepped.append(attention.kernel(m)) if m.training else None)

        def hook(m, tokenizer, epoch):
            scored.append(attention.kernel(m))
            return []

        res = training.train(model, tok, blocks, epochs=1, lr=1e-3, batch_size=4, effective_batch=4, seed=0,
                             progress=False, eval_hook=hook)
        return model, res, set(stepped), scored

    model, res, stepped, scored = run(True)
    assert stepped == {"eager"} and scored == ["sdpa", "sdpa"] and attention.kernel(model) == "sdpa"
    assert res.summary["attention"] == "eager"
    model, res, stepped, scored = run(False)
    assert stepped == {"sdpa"} and scored == ["sdpa", "sdpa"] and res.summary["attention"] == "sdpa"
    with torch.no_grad():
        a = model(input_ids=blocks[:3], labels=blocks[:3]).loss
        model.set_attn_implementation("eager")
        b = model(input_ids=blocks[:3], labels=blocks[:3]).loss
    assert abs(float(a) - float(b)) < 1e-5
    assert attention.for_training(model, cpu_bf16=False) is None  # fp32: no switch, nothing to restore


def test_scoring_copy_leaves_the_original_untouched():
    import torch

    from resurface.models import load_model
    from resurface.train.training import scoring_copy

    model = load_model("tiny-llama", device="cpu", dtype="float32")[0].train()
    model.__dict__["_resurface_hflm"] = {"wrapper": object()}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    copy = scoring_copy(model, torch.bfloat16)
    assert next(copy.parameters()).dtype is torch.bfloat16 and not copy.training
    assert "_resurface_hflm" not in copy.__dict__ and "_resurface_hflm" in model.__dict__
    again = scoring_copy(model, torch.bfloat16, into=copy)
    assert again is copy  # refilled in place, its lm-eval wrapper kept
    assert model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    x = torch.arange(12)[None, :]
    with torch.no_grad():
        a, b = model(x).logits, copy(x).logits.float()
    assert torch.allclose(a, b, atol=0.1)


def test_bf16_sampler_and_nll_agree_with_fp32_within_bf16_rounding():
    """What the corpora carry (each sample's mean NLL) and the proxies' per-text NLL, computed with the
    model held in bf16, against the same numbers teacher-forced in fp32: bf16 rounding (8-bit mantissa)
    moves a per-token log-prob by about 0.01 nats, never by the size of a real effect."""
    import torch

    from resurface.corpus.sampling import derived_seed, sample_batch
    from resurface.measures.proxies import text_nll
    from resurface.models import load_model, unconditional_prompt

    m32, tok = load_model("tiny-llama", device="cpu", dtype="float32")
    m16 = load_model("tiny-llama", device="cpu", dtype="bfloat16")[0]
    prompt = list(unconditional_prompt(tok).ids)
    gen = torch.Generator().manual_seed(derived_seed(7, 0))
    batch = sample_batch(m16, prompt, 8, temperature=1.25, max_new_tokens=24, min_new_tokens=2,
                         eos_ids=[tok.eos_token_id], generator=gen)
    worst = 0.0
    with torch.no_grad():
        for ids, lps in zip(batch.token_ids, batch.logprobs):
            logp = torch.log_softmax(m32(torch.tensor([prompt + ids])).logits[0].double(), -1)
            pos = torch.arange(len(prompt) - 1, len(prompt) - 1 + len(ids))
            tf = -logp[pos, torch.tensor(ids)].mean().item()
            worst = max(worst, abs(-sum(lps) / len(lps) - tf))
    assert worst < 0.05
    texts = [f"Plain text number {i}, written for the check of per-text likelihoods." for i in range(4)]
    a, b = text_nll(m32, tok, texts), text_nll(m16, tok, texts)
    assert [r["num_tokens"] for r in a] == [r["num_tokens"] for r in b]
    assert max(abs(x["mean_nll"] - y["mean_nll"]) for x, y in zip(a, b)) < 0.05
