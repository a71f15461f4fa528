"""What identifies a model in an artifact key: one function for every stage that takes a model.

:func:`model_identity` pins the weights (and the files that change outputs) without ever naming an
absolute path, so a cached result follows the weights, not the folder they sit in:

- an offline alias (``gguf``, ``tiny``, ``embedder``): its resolved cache folder's name, which
  encodes the shipping package's version (or the tiny model's seed and version);
- a Hub id or ``hub`` alias: the repo id and the snapshot revision it resolved to;
- a folder inside an artifact store (the planted model of Figs 7/8, a training run's
  ``final_model/``): that artifact's ``stage/key`` plus the sub-path, checked against the sizes its
  ``artifact.json`` records. It costs one small read and survives moving or copying the store
  (``RESURFACE_STORE``);
- any other local folder: the sha256 of its content, i.e. the weight files and the config, tokenizer
  and generation files that change outputs (:data:`OUTPUT_FILES`; for a sentence-transformers folder
  also the module folders listed in ``modules.json``). Rewriting the weights in place (a retraining
  into the same folder) changes the key even when every size stays the same.

Per-file digests are cached under ``<cache_dir>/file-digests``, one small file per entry, keyed on
``(st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns)`` and written atomically, so a second lookup
costs a ``stat`` per file. ``st_ctime_ns`` is in the key because the first four do not catch a
same-size rewrite *in place* (same inode) whose modification time is restored with ``os.utime``;
the change time cannot be set from user space (``utime`` itself sets it to now). A new file renamed
over the old one gets a new inode and is caught by ``st_ino`` as well.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Literal

from resurface.artifacts import DONE, META, make_key, sha256_file
from resurface.models import ALIASES, local_path
from resurface.paths import cache_dir


DIGEST_DIR = "file-digests"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")
# Trainer checkpoint state that never changes a model's outputs
NOT_OUTPUT = {"training_args.bin", "optimizer.pt", "optimizer.bin", "scheduler.pt", "scaler.pt",
              "trainer_state.json"}
OUTPUT_FILES = {
    "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
    "special_tokens_map.json", "added_tokens.json", "tokenizer.model", "spiece.model",
    "sentencepiece.bpe.model", "vocab.json", "vocab.txt", "merges.txt", "chat_template.jinja",
    "chat_template.json", "preprocessor_config.json", "model.safetensors.index.json",
    "pytorch_model.bin.index.json", "modules.json", "sentence_bert_config.json",
    "config_sentence_transformers.json",
}
OUTPUT_SUFFIXES = WEIGHT_SUFFIXES + (".tiktoken", ".py")  # .py: remote-code model definitions
LOCAL_FOLDER = "<local folder>"  # what stands for a folder's name in a key (its identity pins it)
CORPUS_FILE = "corpus.jsonl"  # the file of a corpus folder


# ---------------------------------------------------------------------------------------------
# per-file digests, cached on the file's stat
# ---------------------------------------------------------------------------------------------
def _stat_key(st: os.stat_result) -> str:
    raw = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _digest_cache() -> Path:
    return cache_dir() / DIGEST_DIR


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes, cached on ``(dev, inode, size, mtime_ns, ctime_ns)``."""
    path = Path(path)
    st = path.stat()
    k = _stat_key(st)
    entry = _digest_cache() / k[:2] / k[2:]
    try:
        cached = entry.read_text().strip()
        if len(cached) == 64:
            return cached
    except OSError:
        pass
    digest = sha256_file(path)
    if path.stat().st_mtime_ns != st.st_mtime_ns or path.stat().st_size != st.st_size:
        return digest  # changed while being read: do not cache a digest of a moving target
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f".{entry.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(digest)
        os.replace(tmp, entry)
    except OSError:
        pass  # a read-only cache only costs speed
    return digest


# ---------------------------------------------------------------------------------------------
# which files of a folder change a model's outputs
# ---------------------------------------------------------------------------------------------
def _counts(f: Path) -> bool:
    if not f.is_file() or f.name.startswith((".", "rng_state")) or f.name in NOT_OUTPUT:
        return False
    return f.name in OUTPUT_FILES or f.suffix in OUTPUT_SUFFIXES or f.suffix == ".model"


def output_files(folder: str | Path) -> list[Path]:
    """The files of a model folder whose content changes outputs, sorted by relative path."""
    folder = Path(folder)
    files = [f for f in folder.iterdir() if _counts(f)]
    modules = folder / "modules.json"  # sentence-transformers: the pooling/normalize module folders
    if modules.is_file():
        try:
            subdirs = [m.get("path", "") for m in json.loads(modules.read_text())]
        except (OSError, json.JSONDecodeError, AttributeError):
            subdirs = []
        for sub in subdirs:
            d = folder / sub
            if sub and d.is_dir() and d.resolve() != folder.resolve():
                files += [f for f in d.rglob("*") if _counts(f)]
    return sorted(set(files), key=lambda f: f.relative_to(folder).as_posix())


def folder_digests(folder: str | Path) -> dict[str, str]:
    """``{relative path: sha256}`` of :func:`output_files`."""
    folder = Path(folder)
    return {f.relative_to(folder).as_posix(): file_digest(f) for f in output_files(folder)}


def _combined(digests: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(digests.items())).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# folders inside an artifact store
# ---------------------------------------------------------------------------------------------
def store_artifact_of(folder: str | Path, max_depth: int = 3) -> tuple[str, str] | None:
    """``("stage/key", "sub/path")`` when ``folder`` lies in a finished store artifact, else None.

    The artifact must sit at ``<root>/<stage>/<key>/`` with its DONE marker and an ``artifact.json``
    naming that stage and key, and every output file of ``folder`` must be listed there with its size
    (a folder edited inside the store so that a size or the file list changes falls back to content
    hashing; finished artifacts are treated as immutable, so a same-size edit inside the store is not
    seen here; ``Store.load`` checks the recorded sha256 of files up to 64 MiB).
    """
    folder = Path(folder).resolve()
    cand = folder
    for _ in range(max_depth + 1):
        meta_file = cand / META
        if meta_file.is_file() and (cand / DONE).exists():
            try:
                meta = json.loads(meta_file.read_text())
            except (OSError, json.JSONDecodeError):
                return None
            key, stage = meta.get("key"), meta.get("stage")
            if not key or not stage or cand.name != key or cand.parent.name != stage:
                return None
            sub = folder.relative_to(cand).as_posix()
            listed = meta.get("files") or {}
            prefix = "" if sub == "." else sub + "/"
            outputs = output_files(folder) if folder.is_dir() else []
            if not outputs:
                return None
            for f in outputs:
                rec = listed.get(prefix + f.relative_to(folder).as_posix())
                if not rec or rec.get("bytes") != f.stat().st_size:
                    return None
            return f"{stage}/{key}", sub
        if cand.parent == cand:
            break
        cand = cand.parent
    return None


# ---------------------------------------------------------------------------------------------
# the one identity
# ---------------------------------------------------------------------------------------------
def is_local_folder(name: str) -> bool:
    """True when ``name`` is not an alias and names an existing folder."""
    return name not in ALIASES and Path(name).expanduser().is_dir()


def key_name(name: str) -> str:
    """How a model's *name* appears in a key: the alias or Hub id itself, never a folder's path."""
    return LOCAL_FOLDER if is_local_folder(str(name)) else str(name)


def display_name(name: str) -> str:
    """A short name for progress lines: an alias or Hub id as given; a store artifact's model folder
    (``<store>/<stage>/<key>/model``) as ``<stage>/<key[:8]>``; another folder by its own name."""
    name = str(name)
    if not is_local_folder(name):
        return name
    p = Path(name).expanduser()
    if p.name == "model" and p.parent.parent.name:
        return f"{p.parent.parent.name}/{p.parent.name[:8]}"
    return p.name


def name_or_identity(name: str) -> str:
    """``name`` when it is an alias or Hub id; for a local folder, its :func:`identity_string` (e.g. a
    tokenizer named in a key by the folder it was loaded from)."""
    name = str(name)
    if not is_local_folder(name):
        return name
    return identity_string(model_identity(name, Path(name).expanduser()))


def model_identity(name: str, path: str | Path | None = None, *, allow_hub: bool = False) -> dict[str, Any]:
    """What pins a model's weights in an artifact key (see the module docstring); never a path.

    ``path`` is the resolved local folder (:func:`resurface.models.local_path`); it is resolved here
    when not given. Aliases and Hub ids keep the dicts used before content identity
    (``{"kind": "alias:<kind>", "folder": ...}``, ``{"kind": "hub", "repo": ..., "revision": ...}``);
    :func:`identity_string` gives a one-line form.
    """
    name = str(name)
    if path is None:
        path = local_path(name, allow_hub=allow_hub)
    path = Path(path)
    spec = ALIASES.get(name)
    if spec is not None and spec.kind != "hub":
        out: dict[str, Any] = {"kind": f"alias:{spec.kind}", "folder": path.name}
    elif spec is not None or not Path(name).expanduser().is_dir():
        repo = spec.hub_id if spec is not None else name
        out = {"kind": "hub", "repo": str(repo), "revision": path.name}
    else:
        art = store_artifact_of(path)
        if art is not None:
            out = {"kind": "artifact", "artifact": art[0], "subpath": art[1]}
        else:
            files = folder_digests(path)
            out = {"kind": "folder", "sha256": _combined(files), "files": files}
    return out


def identity_string(ident: dict[str, Any]) -> str:
    """A one-line form of a :func:`model_identity` dict (its weights, not its location): an alias's
    folder name, ``<hub id>@<revision>``, ``artifact:<stage>/<key>[/<sub>]`` or ``sha256:<digest>``."""
    kind = ident["kind"]
    if kind.startswith("alias:"):
        return str(ident["folder"])
    if kind == "hub":
        return f"{ident['repo']}@{ident['revision']}"
    if kind == "artifact":
        return f"artifact:{ident['artifact']}" + ("" if ident["subpath"] == "." else f"/{ident['subpath']}")
    return f"sha256:{ident['sha256']}"


def folder_id(folder: str | Path) -> str:
    """A path-free identity of any folder: ``stage/key`` of a store artifact (its artifact.json), else
    ``sha256:`` over the digests of every file in it (hidden files left out)."""
    folder = Path(folder)
    meta = folder / META
    if meta.exists():
        try:
            info = json.loads(meta.read_text())
        except (OSError, json.JSONDecodeError):
            info = {}
        if info.get("key"):
            return f"{info.get('stage', '')}/{info['key']}"
    files = {f.relative_to(folder).as_posix(): file_digest(f) for f in sorted(folder.rglob("*"))
             if f.is_file() and not any(part.startswith(".") for part in f.relative_to(folder).parts)}
    return "sha256:" + _combined(files)


# ---------------------------------------------------------------------------------------------
# corpora and training runs
# ---------------------------------------------------------------------------------------------
def _artifact_info(folder: Path) -> dict:
    try:
        info = json.loads((folder / META).read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return info if isinstance(info, dict) else {}


def corpus_identity(corpus_file: str | Path, style: Literal["stage", "run"] = "stage") -> str:
    """What pins a corpus file in an artifact key, never its path: ``sha256:<digest>`` of the file, or,
    when it lies in a store artifact, that artifact's key.

    ``style`` is the spelling a stage has always used, kept so that existing keys stay the same:
    ``"stage"`` (the corpus stages and the measures) reads the folder's own ``artifact.json`` and
    writes ``<stage>/<key>``; ``"run"`` (a training run's input) writes ``<key>``, also finds a subset
    folder inside an artifact (``<key>/subset_01``), and names a file other than ``corpus.jsonl``.
    """
    f = Path(corpus_file)
    folder = f.parent
    places = ((folder, ""), (folder.parent, "/" + folder.name)) if style == "run" else ((folder, ""),)
    for cand, suffix in places:
        info = _artifact_info(cand)
        if not info.get("key"):
            continue
        if style == "run":
            return f"{info['key']}{suffix if f.name == CORPUS_FILE else suffix + '/' + f.name}"
        return f"{info['stage']}/{info['key']}" if info.get("stage") else str(info["key"])
    return "sha256:" + sha256_file(f)


def run_key(stage: str, version: int, config: Any, inputs: list[str] | tuple[str, ...] = ()) -> str:
    """The artifact key of a run: its config (a dataclass with ``as_key()``, such as
    :class:`resurface.train.training.RunConfig`, or a dict) hashed with its input keys."""
    fields = config.as_key() if dataclasses.is_dataclass(config) else dict(config)
    return make_key(stage, version, fields, list(inputs))


__all__ = ["model_identity", "identity_string", "key_name", "name_or_identity", "is_local_folder", "file_digest", "folder_digests",
           "output_files", "store_artifact_of", "folder_id", "corpus_identity", "run_key", "OUTPUT_FILES", "WEIGHT_SUFFIXES",
           "LOCAL_FOLDER", "CORPUS_FILE"]
