"""The n-gram contamination audit (METHODS.md c.2): drop samples that share a word 8-gram with a benchmark.

Normalisation follows the paper's reference code (``audit.py``): lowercase, delete every character
matching ``[^\\w\\s]`` (deleted, not replaced by a space: "don't" -> "dont"), collapse whitespace, split
on whitespace. A benchmark's fingerprint is the set of all word n-grams of its items' texts (fields
joined with spaces by :func:`resurface.evaluate.suites.benchmark_texts`). A sample is removed when it shares at
least one n-gram with any benchmark (``min_cutoff=1``). Texts shorter than n words have no n-grams:
such a sample is always kept and such a benchmark item contributes nothing.

The per-benchmark counts of the report count a sample once for every benchmark it hits, so they can
add up to more than the total removed.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Iterable

from resurface.artifacts import run_stage
from resurface.corpus.files import corpus_path, iter_jsonl, read_meta, write_corpus
from resurface.errors import ParameterError, check_int
from resurface.evaluate import suites
from resurface.identity import corpus_identity
from resurface.ngrams import ngrams, normalize

STAGE = "decontaminate"
STAGE_VERSION = 1
REMOVED_FILE = "removed.jsonl"


def _check_n(n) -> int:
    return check_int("ngram", n, 1, "an integer >= 1 (the paper uses 8)")


def fingerprints(benchmark_texts: dict[str, list[str]], n: int) -> dict[str, set[str]]:
    """Per benchmark, the set of word n-grams of all its texts."""
    _check_n(n)
    if not isinstance(benchmark_texts, dict):
        raise ParameterError("benchmark_texts", f"expected a dict name -> list of texts, got "
                             f"{type(benchmark_texts).__name__}")
    out: dict[str, set[str]] = {}
    for name, texts in benchmark_texts.items():
        if isinstance(texts, str):
            raise ParameterError("benchmark_texts", f"benchmark {name!r} maps to a string, not a list of texts")
        fp: set[str] = set()
        for t in texts:
            fp.update(ngrams(normalize(t), n))
        out[name] = fp
    return out


def hits(text: str, fps: dict[str, set[str]], n: int) -> list[str]:
    """The benchmarks (sorted) that share at least one n-gram with ``text``."""
    grams = set(ngrams(normalize(text), n))
    if not grams:
        return []
    return sorted(name for name, fp in fps.items() if not grams.isdisjoint(fp))


def audit(records: Iterable[dict], benchmark_texts: dict[str, list[str]], n: int = 8,
          progress: bool = False) -> tuple[list[dict], list[dict], dict]:
    """Split ``records`` into ``(kept, removed, report)`` by the n-gram rule.

    Each removed record is returned with an extra field ``benchmarks`` (the benchmarks it hit). The
    report holds the totals in/kept/removed, the removals per benchmark and the fingerprint sizes.
    """
    from tqdm.auto import tqdm

    _check_n(n)
    fps = fingerprints(benchmark_texts, n)
    kept: list[dict] = []
    removed: list[dict] = []
    per_bench = {name: 0 for name in fps}
    for r in tqdm(records, desc=f"{n}-gram audit", unit="sample", disable=not progress, file=sys.stderr):
        found = hits(r["text"], fps, n)
        if found:
            removed.append({**r, "benchmarks": found})
            for name in found:
                per_bench[name] += 1
        else:
            kept.append(r)
    total = len(kept) + len(removed)
    report = {
        "ngram": n, "rule": ">= 1 shared word n-gram with any benchmark",
        "total_in": total, "kept": len(kept), "removed": len(removed),
        "removed_fraction": round(len(removed) / total, 6) if total else 0.0,
        "removed_per_benchmark": per_bench,
        "benchmark_items": {name: len(texts) for name, texts in benchmark_texts.items()},
        "benchmark_ngrams": {name: len(fp) for name, fp in fps.items()},
    }
    return kept, removed, report


def corpus_key(folder: str | Path) -> str:
    """Identity of a corpus folder for artifact keys (:func:`resurface.identity.corpus_identity`, the
    stages' spelling): its store key ``stage/key`` if it is an artifact, else ``sha256:<digest of corpus.jsonl>``."""
    return corpus_identity(corpus_path(folder), "stage")


def texts_digest(benchmark_texts: dict[str, list[str]]) -> str:
    """sha256 over the benchmark names and texts, so a change in a suite's data changes the key."""
    h = hashlib.sha256()
    for name in sorted(benchmark_texts):
        h.update(name.encode() + b"\0")
        for t in benchmark_texts[name]:
            h.update(t.encode() + b"\0")
        h.update(b"\1")
    return h.hexdigest()


def decontaminate(corpus: str | Path, suite: str, ngram: int = 8, allow_hub: bool = False,
                  store=None, out: str | Path | None = None, progress: bool = True) -> Path:
    """Write the clean version of a corpus folder: every sample sharing an n-gram with ``suite`` removed.

    The output is a corpus folder (``corpus.jsonl``; ``meta.json`` = the source's meta plus
    ``decontamination`` (the report), ``suite`` and ``ngram``) with ``removed.jsonl`` beside it. It is an
    artifact of stage ``decontaminate`` keyed on the suite, n, a digest of the benchmark texts and the
    input corpus's key; with ``out`` it is written straight into that folder. Returns the folder.
    """
    _check_n(ngram)
    if not isinstance(suite, str) or not suite:
        raise ParameterError("suite", f"expected a suite name, got {suite!r}")
    src = corpus_path(corpus)  # raises CorpusError naming the folder
    src_dir = src.parent

    texts = suites.benchmark_texts(suite, allow_hub=allow_hub)
    if not texts:
        raise ParameterError("suite", f"suite {suite!r} has no benchmark texts to fingerprint")
    input_key = corpus_key(src_dir)
    config = {"suite": suite, "ngram": ngram, "benchmarks": sorted(texts),
              "benchmark_texts_sha256": texts_digest(texts)}

    def compute(workdir: Path) -> dict:
        records = list(iter_jsonl(src))
        kept, removed, report = audit(records, texts, ngram, progress=progress)
        meta = {**read_meta(src_dir), "decontamination": report, "suite": suite, "ngram": ngram,
                "decontaminated_from": {"path": str(src_dir.resolve()), "key": input_key}}
        write_corpus(workdir, kept, meta)
        with open(Path(workdir) / REMOVED_FILE, "w", encoding="utf-8") as f:
            for r in removed:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        return {"decontamination": report}

    return run_stage(STAGE, STAGE_VERSION, config, compute, inputs=[input_key], store=store, out=out)


def cli(args) -> int:
    """``resurface decontaminate``: print the report and the clean corpus folder (last line)."""
    path = decontaminate(args.corpus, args.suite, ngram=args.ngram, allow_hub=args.allow_hub, out=args.out)
    report = read_meta(path).get("decontamination", {})
    print(f"{args.ngram}-gram audit against suite {args.suite!r}: {report.get('total_in')} in, "
          f"{report.get('kept')} kept, {report.get('removed')} removed")
    for name, count in sorted(report.get("removed_per_benchmark", {}).items()):
        print(f"  {name}: {count}")
    print(path)
    return 0


__all__ = ["normalize", "ngrams", "fingerprints", "hits", "audit", "corpus_key", "texts_digest",
           "decontaminate", "cli"]
