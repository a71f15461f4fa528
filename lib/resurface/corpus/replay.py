"""Human-written replay corpora: the paper's "matched Common Corpus replay" control (METHODS.md c.8).

Two sources, both written as ordinary corpus folders (``corpus.jsonl`` + ``meta.json``) so that they go
through the same 8-gram audit (:mod:`resurface.corpus.decontam`) and subset drawing (:mod:`resurface.corpus.subsets`)
as the synthetic corpora:

* ``"stdlib-docs"`` (``course``/``smoke`` profiles, offline): the docstrings of the Python standard
  library, collected with ``importlib`` + ``inspect`` in a child process (so that nothing a module does
  on import can touch the caller), in a deterministic order. Private names, test packages,
  ``__main__`` modules and a deny-list of modules with import-time side effects (``antigravity``
  opens a browser, ``this`` prints, GUI toolkits, ``readline``/``rlcompleter`` change the terminal...)
  are skipped; import errors are caught. Texts are deduplicated, shorter ones than ``min_chars``
  dropped, and a seeded shuffle picks ``max_docs`` of them. The texts depend on the Python version,
  which is therefore part of the artifact key.
* ``"common-corpus"`` (``paper`` profile, needs the Hub): ``PleIAs/common_corpus`` streamed with
  ``datasets.load_dataset(..., split="train", streaming=True)``, filtered to one language (English by
  default; the paper does not say), documents taken from the stream through a seeded shuffle buffer.
  On the Hub stream this is datasets' own streaming shuffle, which also permutes the order of the
  parquet shards (in plain stream order the first collection would supply every document);
  :func:`read_common_corpus` has an equivalent seeded buffer for any other iterable of rows.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

from resurface import hub
from resurface.artifacts import environment_versions, run_stage
from resurface.corpus.files import write_corpus
from resurface.errors import ParameterError, ResurfaceError, check_int
from resurface.identity import name_or_identity
from resurface.models import load_tokenizer

STAGE = "replay"
STAGE_VERSION = 1
NAMES = ("stdlib-docs", "common-corpus")
COMMON_CORPUS_ID = "PleIAs/common_corpus"

# Top-level modules never imported for stdlib-docs: side effects on import, GUI toolkits, test suites,
# packaging helpers, platform-specific modules, and codec tables (boilerplate docstrings).
SKIP_MODULES = frozenset({
    "antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "test", "tests", "lib2to3",
    "ensurepip", "venv", "pydoc_data", "readline", "rlcompleter", "site", "sitecustomize",
    "usercustomize", "distutils", "msilib", "winreg", "winsound", "msvcrt", "nturl2path", "encodings",
    "xxsubtype", "xxlimited", "xxlimited_35", "curses", "webbrowser", "pty", "tty", "getpass",
    "ossaudiodev", "nis", "spwd", "crypt", "cgi", "cgitb", "mailcap", "nntplib", "telnetlib", "sndhdr",
    "imghdr", "audioop", "aifc", "sunau", "chunk", "uu", "xdrlib", "pipes", "asynchat", "asyncore",
    "smtpd", "imp",
})
# Name parts that mark test code or scripts inside packages.
SKIP_PARTS = frozenset({"test", "tests", "idle_test", "__main__"})

# The child process: collect (source, docstring) pairs and print them as JSON on the real stdout.
_COLLECTOR = r'''
import importlib, inspect, io, json, os, pkgutil, sys, warnings
skip_modules = set(json.loads(sys.argv[1])); skip_parts = set(json.loads(sys.argv[2]))
real_stdout = sys.stdout
sys.stdout = io.StringIO()            # modules that print on import print into nothing
warnings.simplefilter("ignore")

def ok_name(name):
    parts = name.split(".")
    return parts[0] not in skip_modules and not any(p.startswith("_") or p in skip_parts for p in parts)

def load(name):
    try:
        return importlib.import_module(name)
    except BaseException as exc:      # ImportError, SystemExit, platform errors...
        if isinstance(exc, KeyboardInterrupt):
            raise
        return None

names = []
for top in sorted(sys.stdlib_module_names):
    if not ok_name(top):
        continue
    mod = load(top)
    if mod is None:
        continue
    names.append(top)
    if hasattr(mod, "__path__"):
        stack = [mod]
        while stack:
            pkg = stack.pop()
            for info in sorted(pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."), key=lambda i: i.name):
                if not ok_name(info.name):
                    continue
                sub = load(info.name)
                if sub is None:
                    continue
                names.append(info.name)
                if info.ispkg:
                    stack.append(sub)

def own_doc(obj):
    doc = getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""

out = []
for name in sorted(set(names)):
    mod = sys.modules.get(name)
    if mod is None:
        continue
    out.append((name, own_doc(mod)))
    for attr, obj in sorted(vars(mod).items()):
        if attr.startswith("_") or getattr(obj, "__module__", None) != name:
            continue
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue
        out.append((f"{name}.{attr}", own_doc(obj)))
        if inspect.isclass(obj):
            for mname, member in sorted(vars(obj).items()):
                if mname.startswith("_"):
                    continue
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if inspect.isroutine(member) or isinstance(member, property):
                    out.append((f"{name}.{attr}.{mname}", own_doc(member)))
real_stdout.write(json.dumps({"python": sys.version, "modules": len(set(names)), "docs": out}))
real_stdout.flush()
'''


def collect_stdlib_docs(timeout: float = 300.0) -> dict[str, Any]:
    """All (source, docstring) pairs of the standard library, from a child Python process.

    Returns ``{"python": version, "modules": count, "docs": [[source, text], ...]}`` in a deterministic
    order (modules sorted by name, then members sorted by name). Empty docstrings are included.
    """
    cmd = [sys.executable, "-c", _COLLECTOR, json.dumps(sorted(SKIP_MODULES)), json.dumps(sorted(SKIP_PARTS))]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              env={**_child_env(), "PYTHONHASHSEED": "0"})
    except subprocess.TimeoutExpired:
        raise ResurfaceError(f"collecting standard-library docstrings took more than {timeout:.0f} s") from None
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-5:]
        raise ResurfaceError("collecting standard-library docstrings failed: " + " | ".join(tail))
    return json.loads(proc.stdout)


def _child_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("PYTHONSTARTUP", None)
    env["DISPLAY"] = ""  # no GUI even if some module tried
    return env


#: one standard-library docstring in this many (by a hash of its text) is kept out of every replay pool,
#: so that general English no stage trains on is left to score models by (resurface.measures.health):
#: with the course's 1,500-document pool every other docstring of at least 200 characters is replay.
HELDOUT_MODULUS = 10
SPLITS = ("all", "replay", "heldout")


def is_held_out(text: str) -> bool:
    """Whether ``text`` belongs to the held-out share of the standard-library docstrings."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % HELDOUT_MODULUS == 0


def stdlib_documents(min_chars: int, timeout: float = 300.0, split: str = "all") -> list[dict]:
    """Deduplicated stdlib docstrings of at least ``min_chars`` characters: ``{source, text}`` dicts;
    ``split`` keeps all of them, those a replay pool may use, or the held-out share (:func:`is_held_out`)."""
    if split not in SPLITS:
        raise ParameterError("split", f"unknown split {split!r}", ", ".join(SPLITS))
    seen: set[str] = set()
    docs = []
    for source, text in collect_stdlib_docs(timeout)["docs"]:
        text = text.strip()
        if len(text) < min_chars or text in seen:
            continue
        seen.add(text)
        if split != "all" and is_held_out(text) != (split == "heldout"):
            continue
        docs.append({"source": source, "text": text})
    return docs


LANGUAGE_COLUMN = "language"
#: rows read without one that passes the language filter before the reader gives up (English is the
#: largest language of Common Corpus; a filter that matches nothing in this many rows is wrong)
MAX_UNMATCHED_ROWS = 100_000


def check_language_column(row: dict, language: str | None, column: str = LANGUAGE_COLUMN) -> None:
    """Raise a ParameterError naming the column and the fix when ``row`` (the stream's first row) lacks
    the language column the filter reads, or has no ``text``."""
    if not isinstance(row, dict) or not isinstance(row.get("text"), str):
        cols = sorted(row) if isinstance(row, dict) else type(row).__name__
        raise ParameterError("replay", f"the first {COMMON_CORPUS_ID} row has no string 'text' column "
                             f"(columns: {cols})", "a dataset revision whose rows have 'text'")
    if language is not None and column not in row:
        raise ParameterError("replay_language_column", f"the language filter reads the column {column!r}, which the "
                             f"first {COMMON_CORPUS_ID} row does not have (columns: {sorted(row)})",
                             "replay_language_column=<the column that holds the language> or "
                             "replay_language=null (no filter)")


def read_common_corpus(rows: Iterable[dict], *, max_docs: int, min_chars: int, seed: int,
                       language: str | None = "English", shuffle_buffer: int = 10_000,
                       progress: bool = False, language_column: str = LANGUAGE_COLUMN,
                       max_unmatched_rows: int = MAX_UNMATCHED_ROWS) -> list[dict]:
    """Take up to ``max_docs`` documents from an iterable of Common Corpus rows.

    Columns of ``PleIAs/common_corpus`` as recalled from the Hub dataset viewer and NOT re-checked
    here (the documentation search found the dataset card, with its collections, languages and
    per-document metadata, but not the column list):
    ``identifier``, ``collection``, ``open_type``, ``license``, ``date``, ``title``, ``creator``,
    ``language`` (full English names such as ``"English"``, ``"French"``), ``language_type``,
    ``word_count``, ``token_count``, ``text``. Only ``text`` is required here; ``language`` is used for
    the filter when present (a row without it is kept only when ``language`` is None), and
    ``identifier``/``collection`` name the record's source.

    Rows are read in order; those passing the filters (language, ``len(text.strip()) >= min_chars``,
    not seen before) go through a shuffle buffer of ``shuffle_buffer`` documents drawn with
    ``random.Random(seed)`` (0 keeps stream order), until ``max_docs`` documents are out.
    Returns ``{text, source, language}`` dicts.

    The first row is checked before anything else (:func:`check_language_column`: ``text`` and the
    ``language_column`` the filter reads must exist), and the stream is bounded: after
    ``max_unmatched_rows`` consecutive rows of which none has the wanted language, the reader stops with
    a ParameterError listing the most common values it saw (instead of streaming the whole corpus).
    """
    from tqdm.auto import tqdm

    for name, value, low in (("max_docs", max_docs, 1), ("min_chars", min_chars, 0),
                             ("shuffle_buffer", shuffle_buffer, 0)):
        check_int(name, value, low)
    rng = random.Random(seed)
    wanted = language.strip().lower() if language else None

    check_int("max_unmatched_rows", max_unmatched_rows, 1)

    def eligible() -> Iterator[dict]:
        from collections import Counter

        seen: set[bytes] = set()
        unmatched, values = 0, Counter()
        for i, row in enumerate(rows):
            if i == 0:
                check_language_column(row, language, language_column)
            text = row.get("text")
            if not isinstance(text, str):
                continue
            if wanted is not None:
                value = str(row.get(language_column) or "").strip()
                if value.lower() != wanted:
                    unmatched += 1
                    values[value] += 1
                    if unmatched >= max_unmatched_rows:
                        common = ", ".join(f"{v!r} ({n})" for v, n in values.most_common(8))
                        raise ParameterError(
                            "replay_language", f"{unmatched} rows in a row of {COMMON_CORPUS_ID} without "
                            f"{language_column} == {language!r}; values seen: {common}",
                            "replay_language=<one of the values seen> (or null for no filter), or "
                            "replay_language_column=<another column>")
                    continue
                unmatched = 0
            text = text.strip()
            if len(text) < min_chars:
                continue
            digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
            if digest in seen:
                continue
            seen.add(digest)
            source = ":".join(str(row[k]) for k in ("collection", "identifier") if row.get(k) is not None)
            yield {"text": text, "source": source or "common_corpus", "language": row.get(language_column)}

    out: list[dict] = []
    buffer: list[dict] = []
    bar = tqdm(total=max_docs, desc="common corpus", unit="doc", disable=not progress, file=sys.stderr)

    def emit(doc: dict) -> None:
        out.append(doc)
        bar.update(1)

    def draw() -> dict:
        i = rng.randrange(len(buffer))
        buffer[i], buffer[-1] = buffer[-1], buffer[i]
        return buffer.pop()

    for doc in eligible():
        if shuffle_buffer <= 1:
            emit(doc)
        else:
            buffer.append(doc)
            if len(buffer) < shuffle_buffer:
                continue
            emit(draw())
        if len(out) >= max_docs:
            break
    while buffer and len(out) < max_docs:
        emit(draw())
    bar.close()
    return out


def _token_counter(tokenizer):
    """``(count(text) -> int, description)``: the tokenizer's count, or the chars/4 estimate."""
    if tokenizer is None:
        return (lambda text: int(len(text) / 4)), "chars/4 estimate (no tokenizer given)"
    if isinstance(tokenizer, str):  # loaded on first use: a cached artifact needs only the description

        name, loaded = tokenizer, []
    else:
        name = str(getattr(tokenizer, "name_or_path", type(tokenizer).__name__))
        loaded = [tokenizer]

    def count(text: str) -> int:
        if not loaded:
            loaded.append(load_tokenizer(name))
        return len(loaded[0](text, add_special_tokens=False)["input_ids"])

    return count, f"tokenizer {name_or_identity(name)}"  # a folder by its content, never its path


def common_corpus_stream(seed: int, shuffle_buffer: int = 10_000):
    """Common Corpus's train split as the replay reads it: streamed, with datasets' seeded shuffle
    (which permutes the order of the parquet shards by ``seed`` and draws rows through a buffer of
    ``shuffle_buffer``; read in stream order, one collection would dominate). The shard order depends
    on ``seed`` only, so a smaller buffer reads the same shards first: the preflight's replay check
    streams its rows from here with the run's seed."""
    from datasets import load_dataset

    stream = load_dataset(COMMON_CORPUS_ID, split="train", streaming=True)
    if shuffle_buffer > 1:
        stream = stream.shuffle(seed=seed, buffer_size=shuffle_buffer)
    return stream


def build_replay(name: str, *, max_docs: int, min_chars: int, seed: int, tokenizer=None, store=None,
                 allow_hub: bool = False, language: str | None = "English", shuffle_buffer: int = 10_000,
                 out: str | Path | None = None, language_column: str = LANGUAGE_COLUMN,
                 max_unmatched_rows: int = MAX_UNMATCHED_ROWS) -> Path:
    """Build a human-text replay corpus folder (records ``id, text, num_tokens, source``).

    ``name`` is ``"stdlib-docs"`` (offline) or ``"common-corpus"`` (needs ``allow_hub=True`` and Hub
    access). ``tokenizer`` (a tokenizer or a model alias/folder) gives real ``num_tokens``; without it
    they are ``int(len(text)/4)`` estimates (``meta.json`` says which). ``language`` and
    ``shuffle_buffer`` apply to common-corpus only. An artifact of stage ``replay`` (or written to
    ``out``). Returns the folder.
    """
    import platform

    if name not in NAMES:
        raise ParameterError("name", f"unknown replay corpus {name!r}", ", ".join(NAMES))
    for pname, value, low in (("max_docs", max_docs, 1), ("min_chars", min_chars, 0),
                              ("shuffle_buffer", shuffle_buffer, 0)):
        check_int(pname, value, low)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ParameterError("seed", f"expected an integer, got {seed!r}", "an integer")
    if name == "common-corpus":
        if not allow_hub:
            raise ParameterError("allow_hub", f"the 'common-corpus' replay streams {COMMON_CORPUS_ID} "
                                 "from the Hugging Face Hub, and Hub access is off",
                                 "allow_hub=True (the paper profile, with network), or "
                                 "name='stdlib-docs' offline")

        hub.check_reachable(COMMON_CORPUS_ID, repo_type="dataset")

    count, count_desc = _token_counter(tokenizer)
    config: dict[str, Any] = {"name": name, "max_docs": max_docs, "min_chars": min_chars, "seed": seed,
                              "num_tokens": count_desc}
    if name == "stdlib-docs":
        config["python"] = platform.python_version()
        config["held_out"] = f"sha256 mod {HELDOUT_MODULUS} == 0 left out"
    else:
        config.update(language=language, shuffle_buffer=shuffle_buffer)
        if language_column != LANGUAGE_COLUMN:  # the default keeps earlier keys
            config["language_column"] = language_column

    def compute(workdir: Path) -> dict:
        from tqdm.auto import tqdm

        if name == "stdlib-docs":
            docs = stdlib_documents(min_chars, split="replay")
            random.Random(seed).shuffle(docs)
            docs = docs[:max_docs]
            source_desc = ("docstrings of the Python standard library (modules, public classes, "
                           "functions, methods), deduplicated, the held-out share left out, seeded shuffle")
        else:
            stream = common_corpus_stream(seed, shuffle_buffer)
            docs = read_common_corpus(stream, max_docs=max_docs, min_chars=min_chars, seed=seed,
                                      language=language, shuffle_buffer=0, progress=True,
                                      language_column=language_column, max_unmatched_rows=max_unmatched_rows)
            source_desc = (f"{COMMON_CORPUS_ID} streamed (datasets shuffle: seed {seed}, shard order "
                           f"permuted, buffer {shuffle_buffer}), language={language!r}")
        if not docs:
            raise ResurfaceError(f"replay corpus {name!r}: no document has at least {min_chars} characters")
        records = []
        for i, d in enumerate(tqdm(docs, desc="count tokens", unit="doc", file=sys.stderr,
                                   disable=tokenizer is None)):
            records.append({"id": f"{name}-{i:06d}", "text": d["text"], "num_tokens": count(d["text"]),
                            "source": d["source"]})

        write_corpus(workdir, records, {
            "kind": "replay", "name": name, "source": source_desc, "max_docs": max_docs,
            "min_chars": min_chars, "seed": seed, "num_tokens_source": count_desc,
            "total_num_tokens": sum(r["num_tokens"] for r in records),
            "python": platform.python_version(), "versions": environment_versions(),
            **({"language": language, "shuffle_buffer": shuffle_buffer} if name == "common-corpus" else {}),
        })
        return {}

    return run_stage(STAGE, STAGE_VERSION, config, compute, store=store, out=out)
