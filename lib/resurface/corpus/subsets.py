"""Token-budget training subsets, drawn with replacement (METHODS.md c.3) or disjoint.

As in the paper's reference code (``create_subsets.py``): one ``random.Random(seed)`` serves all
subsets, which are drawn one after another; each subset draws records uniformly at random *with
replacement* (``rng.choice`` over the record indices) until its estimated token total reaches the
budget. The default estimate is the reference's ``int(len(text) / 4)`` per record; ``"num_tokens"``
uses the record's own ``num_tokens`` field instead. With the same corpus order and seed, the chosen
indices are the ones the reference code would choose. Subsets may overlap and repeat records, and the
last record drawn makes a subset overshoot its budget by less than one record.

``draw="disjoint"`` (the course and smoke profiles): one seeded shuffle of the records, cut into
consecutive subsets, so no record is in two subsets. The paper draws 5M-token subsets from a much
larger corpus, where overlap is rare; a course corpus is about three subsets' worth, and subsets drawn
with replacement would share a third of their records. Runs that share records are not independent
replicates, so the between-run term of every interval would miss part of the corpus draw's variance;
disjoint subsets of independently sampled texts are independent draws of the sampling stage.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from resurface.artifacts import run_stage
from resurface.corpus.decontam import corpus_key
from resurface.corpus.files import CorpusError, corpus_path, iter_jsonl, read_meta, write_corpus
from resurface.errors import ParameterError, check_int

STAGE = "subsets"
STAGE_VERSION = 1
ESTIMATES = ("chars/4", "num_tokens")
DRAWS = ("with-replacement", "disjoint")
SUMMARY_FILE = "summary.json"


def estimate_tokens(record: dict, estimate: str = "chars/4") -> int:
    """The token estimate of one record: ``int(len(text) / 4)`` or its ``num_tokens`` field."""
    if estimate == "chars/4":
        return int(len(record["text"]) / 4)
    if estimate == "num_tokens":
        if "num_tokens" not in record:
            raise CorpusError(f"record {record.get('id', '?')!r} has no 'num_tokens' field "
                              "(use estimate='chars/4')")
        return int(record["num_tokens"])
    raise ParameterError("estimate", f"unknown estimate {estimate!r}", ", ".join(ESTIMATES))


def _validate(num_subsets, tokens_per_subset, seed, estimate, draw: str = "with-replacement") -> None:
    for name, value in (("num_subsets", num_subsets), ("tokens_per_subset", tokens_per_subset)):
        check_int(name, value, 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ParameterError("seed", f"expected an integer, got {seed!r}", "an integer")
    if estimate not in ESTIMATES:
        raise ParameterError("estimate", f"unknown estimate {estimate!r}", ", ".join(ESTIMATES))
    if draw not in DRAWS:
        raise ParameterError("subset_draw", f"unknown value {draw!r}", ", ".join(DRAWS))


def draw_subsets(records: list[dict], num_subsets: int, tokens_per_subset: int, seed: int,
                 estimate: str = "chars/4", draw: str = "with-replacement") -> list[list[dict]]:
    """Draw ``num_subsets`` lists of records, each reaching ``tokens_per_subset`` estimated tokens
    (``draw``: ``with-replacement`` as the reference code, or ``disjoint``: see the module)."""
    _validate(num_subsets, tokens_per_subset, seed, estimate, draw)
    if not records:
        raise ParameterError("records", "the corpus is empty: no records to draw subsets from",
                             "a corpus with at least one non-empty record")
    sizes = [estimate_tokens(r, estimate) for r in records]
    if sum(sizes) <= 0:
        raise ParameterError("records", f"every record has an estimated size of 0 tokens ({estimate}), "
                             "so no budget can be reached", "a corpus with non-empty records")
    rng = random.Random(seed)
    indices = list(range(len(records)))
    if draw == "disjoint":
        return _disjoint(records, sizes, indices, rng, num_subsets, tokens_per_subset, estimate)
    out: list[list[dict]] = []
    for _ in range(num_subsets):
        chosen: list[dict] = []
        total = 0
        while total < tokens_per_subset:
            i = rng.choice(indices)
            chosen.append(records[i])
            total += sizes[i]
        out.append(chosen)
    return out


def _disjoint(records: list[dict], sizes: list[int], indices: list[int], rng: random.Random, num_subsets: int,
              tokens_per_subset: int, estimate: str) -> list[list[dict]]:
    """Consecutive runs of one seeded shuffle, each reaching the budget; too small a corpus is an error
    that says how large it is and what to change."""
    rng.shuffle(indices)
    out: list[list[dict]] = []
    pos = 0
    for k in range(num_subsets):
        chosen: list[dict] = []
        total = 0
        while total < tokens_per_subset:
            if pos == len(indices):
                raise ParameterError(
                    "num_samples", f"the corpus holds {len(records)} records, {sum(sizes)} estimated tokens "
                    f"({estimate}); {num_subsets} disjoint subsets of {tokens_per_subset} tokens ran out of "
                    f"records in subset {k + 1}", "sample more (num_samples), or lower num_subsets or "
                    "tokens_per_subset, or set subset_draw: with-replacement (subsets then share records)")
            i = indices[pos]
            pos += 1
            chosen.append(records[i])
            total += sizes[i]
        out.append(chosen)
    return out


def _record_key(r: dict) -> str:
    return f"id:{r['id']}" if "id" in r else "text:" + r["text"]


def subset_summary(subset: list[dict], estimate: str) -> dict:
    """Records, unique records, estimated tokens (and real ``num_tokens`` when present) of one subset."""
    out = {"records": len(subset), "unique_records": len({_record_key(r) for r in subset}),
           "estimated_tokens": sum(estimate_tokens(r, estimate) for r in subset)}
    if subset and all("num_tokens" in r for r in subset):
        out["num_tokens"] = sum(int(r["num_tokens"]) for r in subset)
    return out


def make_subsets(corpus: str | Path, num_subsets: int, tokens_per_subset: int, seed: int = 42,
                 estimate: str = "chars/4", store=None, out: str | Path | None = None,
                 draw: str = "with-replacement") -> Path:
    """Write ``subset_00/``, ``subset_01/``... (each a corpus folder) and ``summary.json``.

    An artifact of stage ``subsets`` keyed on the parameters and the corpus's key; with ``out`` it is
    written straight into that folder. Returns the folder; :func:`subset_dirs` lists its subsets.
    """
    _validate(num_subsets, tokens_per_subset, seed, estimate, draw)
    src = corpus_path(corpus)
    src_dir = src.parent
    records = list(iter_jsonl(src))
    if not records:
        raise CorpusError(f"{src}: the corpus is empty, so no subsets can be drawn from it")
    if estimate == "num_tokens" and any("num_tokens" not in r for r in records):
        raise CorpusError(f"{src}: some records have no 'num_tokens' field (use estimate='chars/4')")
    if sum(estimate_tokens(r, estimate) for r in records) <= 0:
        raise CorpusError(f"{src}: every record has an estimated size of 0 tokens ({estimate}), so no "
                          "token budget can be reached")
    input_key = corpus_key(src_dir)
    config = {"num_subsets": num_subsets, "tokens_per_subset": tokens_per_subset, "seed": seed,
              "estimate": estimate}
    if draw != "with-replacement":  # keys of the reference draw stay as they were
        config["draw"] = draw

    def compute(workdir: Path) -> dict:
        from tqdm.auto import tqdm

        try:
            subsets = draw_subsets(records, num_subsets, tokens_per_subset, seed, estimate, draw)
        except ParameterError as exc:
            raise CorpusError(f"{src}: {exc}") from None
        source_meta = read_meta(src_dir)
        summaries = []
        for i, subset in enumerate(tqdm(subsets, desc="write subsets", unit="subset", file=sys.stderr,
                                        disable=len(subsets) < 2)):
            info = subset_summary(subset, estimate)
            write_corpus(Path(workdir) / f"subset_{i:02d}", subset, {
                **source_meta, "subset": {"index": i, "of": num_subsets, **config, **info},
                "subset_of": {"path": str(src_dir.resolve()), "key": input_key}})
            summaries.append({"subset": f"subset_{i:02d}", **info})
        summary = {**config, "source": str(src_dir.resolve()), "source_key": input_key,
                   "source_records": len(records),
                   "source_estimated_tokens": sum(estimate_tokens(r, estimate) for r in records),
                   "subsets": summaries}
        (Path(workdir) / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
        return {"summary": summary}

    return run_stage(STAGE, STAGE_VERSION, config, compute, inputs=[input_key], store=store, out=out)


def subset_dirs(folder: str | Path) -> list[Path]:
    """The subset folders (``subset_00``, ``subset_01``...) of a subsets folder, in order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"{folder}: no such subsets folder")
    dirs = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith("subset_")
                  and p.name[len("subset_"):].isdigit())
    if not dirs:
        raise CorpusError(f"{folder}: not a subsets folder (no subset_NN/ inside; make it with "
                          "`resurface subsets`)")
    return dirs


def cli(args) -> int:
    """``resurface subsets``: print one line per subset and the folder (last line)."""
    path = make_subsets(args.corpus, args.num_subsets, args.tokens_per_subset, seed=args.seed, out=args.out)
    summary = json.loads((Path(path) / SUMMARY_FILE).read_text())
    for s in summary["subsets"]:
        print(f"{s['subset']}: {s['records']} records ({s['unique_records']} unique), "
              f"~{s['estimated_tokens']} tokens")
    print(path)
    return 0
