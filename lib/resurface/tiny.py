"""Tiny randomly initialised models of the real architectures, for tests and the `smoke` profile.

Each is saved once as a normal model folder under ``RESURFACE_CACHE/tiny`` so that every code path
(loading by folder, lm-eval's CLI, the training CLI) treats it like a real checkpoint. Tokenizers are
real ones shipped offline: Gemma-3's for ``tiny-gemma3``, SmolLM2's for the others. ``tiny-qwen2``
drops the BOS token (as Qwen2.5 base tokenizers have none) and ``tiny-gptneox`` uses
``<|endoftext|>`` as BOS and EOS (as Pythia does), so their unconditional prompts follow the same
rules as the models they stand in for.
"""

from __future__ import annotations

from pathlib import Path

from resurface.aliases import converted_dir, gguf_file
from resurface.artifacts import build_once
from resurface.paths import cache_dir

TINY_VERSION = 1
_TOKENIZER_OF = {"tiny-llama": "smollm2-135m", "tiny-gemma3": "gemma3-270m",
                 "tiny-qwen2": "smollm2-135m", "tiny-gptneox": "smollm2-135m"}


def tiny_dir(alias: str, seed: int = 0) -> Path:
    return cache_dir() / "tiny" / f"{alias}-s{seed}-v{TINY_VERSION}"


def is_built(alias: str, seed: int = 0) -> bool:
    return (tiny_dir(alias, seed) / "DONE").exists()


def offline_tokenizer(alias: str):
    """The real tokenizer of a GGUF alias, converted once and cached on its own (seconds)."""
    from transformers import AutoTokenizer

    if (converted_dir(alias) / "DONE").exists():
        return AutoTokenizer.from_pretrained(str(converted_dir(alias)))

    def build(tmp: Path) -> None:
        path = gguf_file(alias)
        AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name).save_pretrained(tmp)

    out = build_once(cache_dir() / "tokenizers" / converted_dir(alias).name, build)
    return AutoTokenizer.from_pretrained(str(out))


def _config(alias: str, tok):
    from transformers import Gemma3TextConfig, GPTNeoXConfig, LlamaConfig, Qwen2Config

    common = dict(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, max_position_embeddings=2048,
                  bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                  pad_token_id=tok.pad_token_id)
    if alias == "tiny-llama":
        return LlamaConfig(num_key_value_heads=2, tie_word_embeddings=True, **common)
    if alias == "tiny-qwen2":
        return Qwen2Config(num_key_value_heads=2, tie_word_embeddings=True, **common)
    if alias == "tiny-gemma3":
        return Gemma3TextConfig(num_key_value_heads=1, head_dim=16, sliding_window=64,
                                layer_types=["sliding_attention", "full_attention"], **common)
    if alias == "tiny-gptneox":
        return GPTNeoXConfig(rotary_pct=0.25, use_parallel_residual=True, tie_word_embeddings=False,
                             **common)
    raise KeyError(alias)


def ensure_tiny(alias: str, seed: int = 0) -> Path:
    """Build (once) and return the folder of a tiny random model with a real tokenizer."""
    def build(tmp: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        tok = offline_tokenizer(_TOKENIZER_OF[alias])
        if alias == "tiny-qwen2":
            tok.bos_token = None
        elif alias == "tiny-gptneox":
            tok.bos_token = tok.eos_token = "<|endoftext|>"
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        cfg = _config(alias, tok)
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)

    return build_once(tiny_dir(alias, seed), build)
