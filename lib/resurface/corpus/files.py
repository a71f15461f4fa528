"""Corpus folders: ``corpus.jsonl`` (one JSON object per sample) plus ``meta.json``.

Every record has ``text`` and ``num_tokens``; sampled corpora add ``mean_nll`` (the source's mean
per-token NLL of its own sample, at temperature 1). ``meta.json`` says where the corpus came from
(model, prompt and the rule that chose it, temperature, seed, versions). Readers validate each line
and name the file and line of the first bad one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Iterator

from resurface.errors import ResurfaceError
from resurface.identity import CORPUS_FILE

META_FILE = "meta.json"


class CorpusError(ResurfaceError, ValueError):
    """A corpus file is missing or malformed; the message names the file and line."""


def iter_jsonl(path: Path, required: tuple[str, ...] = ("text",)) -> Iterator[dict]:
    """Yield the objects of a JSONL file, checking each has the ``required`` fields."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such file")
    with open(path, "rb") as f:
        yield from parse_jsonl_lines(f, path, required)


def parse_jsonl_lines(lines: Iterable[bytes], where: Path | str,
                      required: tuple[str, ...] = ("text",)) -> Iterator[dict]:
    """The objects of JSON lines given as bytes (a file opened ``"rb"``, or a decompressing stream),
    each error naming ``where`` and the line number. Bytes split on b"\\n" only: a text may hold
    U+2028 or U+0085 (which str.splitlines() would treat as line ends), and a bad byte must be reported
    with its line number."""
    for lineno, raw in enumerate(lines, 1):
        try:
            line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{where}:{lineno}: not valid UTF-8 (byte {exc.start + 1} of the line)") from None
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{where}:{lineno}: invalid JSON ({exc.msg}: column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise CorpusError(f"{where}:{lineno}: expected a JSON object, got {type(obj).__name__}")
        for field in required:
            if field not in obj:
                raise CorpusError(f"{where}:{lineno}: missing field '{field}'")
        if "text" in obj and not isinstance(obj["text"], str):
            raise CorpusError(f"{where}:{lineno}: field 'text' must be a string")
        yield obj


def corpus_path(folder: str | Path) -> Path:
    """The corpus.jsonl of a corpus folder (or the file itself, if given a .jsonl path)."""
    p = Path(folder)
    if p.is_file():
        return p
    if not p.exists():
        raise CorpusError(f"{p}: no such corpus folder")
    f = p / CORPUS_FILE
    if not f.exists():
        raise CorpusError(f"{p}: not a corpus folder (no {CORPUS_FILE})")
    return f


def read_corpus(folder: str | Path) -> list[dict]:
    """All records of a corpus folder."""
    return list(iter_jsonl(corpus_path(folder)))


def read_meta(folder: str | Path) -> dict:
    p = Path(folder) / META_FILE
    if not p.exists():
        return {}
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{p}: invalid JSON ({exc.msg})") from None


def write_corpus(folder: str | Path, records: Iterable[dict], meta: dict) -> Path:
    """Write ``corpus.jsonl`` and ``meta.json`` into ``folder`` (atomically per file)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (CORPUS_FILE + ".tmp")
    n = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
    os.replace(tmp, folder / CORPUS_FILE)
    (folder / META_FILE).write_text(json.dumps({**meta, "num_records": n}, indent=2, default=str))
    return folder
