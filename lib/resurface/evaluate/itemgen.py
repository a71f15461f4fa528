"""Seeded generators of the course task items (``lib/resurface/evaluate/tasks/data/*.jsonl``).

Every item file of the course tasks is written by :func:`write_all` from the tables and templates of
the family modules (:mod:`resurface.evaluate.items_mc`, ``items_completion``, ``items_code``; math in
:mod:`resurface.evaluate.coursetasks`) (written for this project, never copied from a benchmark). Regenerating gives
byte-identical files (``tests/test_itemgen.py`` checks it), so an item file can always be traced to
this code and a seed.

========================  ===========  =====================================================================
file                      items        how
========================  ===========  =====================================================================
``math.jsonl``            POOL_SIZE    :func:`resurface.evaluate.coursetasks.generate_math_items` (one/two-step word problems)
``mc.jsonl``              POOL_SIZE    question families over fact tables (below), 4 choices
``completion.jsonl``      POOL_SIZE    everyday scenes x subjects, 1 sensible + 3 wrong endings
``code.jsonl``            POOL_SIZE    parameterised small-function families with hidden tests
``*_train.jsonl``         TRAIN_SIZE   few-shot pools, drawn with other seeds (or held-out scenes)
========================  ===========  =====================================================================

Disjointness: every few-shot candidate that has the same question as a test item, or shares a word
8-gram (the decontamination rule of :mod:`resurface.corpus.decontam`) with any test item, is rejected, so
the test and few-shot pools are disjoint in exact text and in 8-grams.

Distractors
- MC: drawn from the **same category** as the gold answer (another capital for a capital, another
  element name for an element, another animal class, a nearby number for arithmetic: gold +- a
  small offset, or the result of the wrong operation), so a choice can be ruled out only by knowing
  the fact, not by its form. Category-membership questions ("Which of these is a fruit?") take the
  three distractors from other categories of the same kind of thing (vegetables, tools, ...).
- Completion: one distractor is the sensible ending of **another scene** (fluent, but wrong for this
  context), two violate the scene's physical or temporal logic (written per scene).
- Code: hidden tests are computed by the family's reference implementation on fixed inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

from resurface.evaluate import items_code, items_completion, items_mc
from resurface.evaluate.coursetasks import DATA, MATH_SEED, generate_math_items, write_jsonl
from resurface.evaluate.itemrules import disjoint_pool

POOL_SIZE = 480  # test items per course task (>= 400)
TRAIN_SIZE = 40  # few-shot pool size per task (math, MC, completion)
SEEDS = {"mc": items_mc.SEED, "completion": items_completion.SEED, "code": items_code.SEED}


# ============================================================================ files
def _math_text(r: dict) -> str:
    return f"{r['question']} {r['answer']}"


def build_all() -> dict[str, list[dict]]:
    """File name -> rows of every course item file (deterministic)."""
    out: dict[str, list[dict]] = {}
    math = generate_math_items(POOL_SIZE, MATH_SEED, "math")
    cand = generate_math_items(TRAIN_SIZE * 20, MATH_SEED + 1, "math-train",
                               exclude={r["question"] for r in math})
    train = disjoint_pool(cand, TRAIN_SIZE, math, _math_text, lambda r: r["question"])
    out["math.jsonl"] = math
    out["math_train.jsonl"] = [{**r, "id": f"math-train-{i:03d}"} for i, r in enumerate(train)]

    mc = items_mc.generate_mc_items(POOL_SIZE)
    cand = (dict(r) for r in items_mc.mc_candidates(SEEDS["mc"] + 1, "mc-train"))
    train = disjoint_pool(cand, TRAIN_SIZE, mc, items_mc.mc_text, lambda r: r["question"])
    out["mc.jsonl"] = mc
    out["mc_train.jsonl"] = [{"id": f"mc-train-{i:03d}", **r} for i, r in enumerate(train)]

    comp = items_completion.generate_completion_items(POOL_SIZE)
    comp_text = lambda r: " ".join([r["activity"], r["ctx"], *r["endings"]])  # noqa: E731
    cand = items_completion.generate_completion_items(TRAIN_SIZE, SEEDS["completion"] + 1, "completion-train", train=True)
    out["completion.jsonl"] = comp
    out["completion_train.jsonl"] = disjoint_pool(cand, TRAIN_SIZE, comp, comp_text, lambda r: r["ctx"])

    out["code.jsonl"] = items_code.generate_code_items(POOL_SIZE)
    return out


def render_all() -> dict[str, str]:
    """File name -> the exact text :func:`write_all` writes."""
    return {name: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            for name, rows in build_all().items()}


def write_all(data_dir: Path = DATA) -> list[Path]:
    """(Re)write every course item file (maintainers: ``python -m resurface.evaluate.itemgen``)."""
    paths = []
    for name, rows in build_all().items():
        write_jsonl(Path(data_dir) / name, rows)
        paths.append(Path(data_dir) / name)
    return paths


def regenerate_math_files(data_dir: Path = DATA) -> None:
    """(Re)write ``math.jsonl`` and ``math_train.jsonl`` from the generator (maintainers only); the
    few-shot pool shares no question and no word 8-gram with the test items (:func:`build_all`)."""
    files = build_all()
    for name in ("math.jsonl", "math_train.jsonl"):
        write_jsonl(Path(data_dir) / name, files[name])


if __name__ == "__main__":
    for p in write_all():
        print(p)

