"""The planted skill K of Figure 13: an invented world, its planting documents and its probe items.

**K** is knowledge of a small invented world: ``n`` towns with made-up names (syllables drawn with a
seed, so no pretrained model has met them), each with three attributes (the colour of its roofs, its
emblem animal, its trade), each attribute one of four common words. K is *planted* by training on
short documents that state the facts in :data:`PLANTING_TEMPLATES` (several phrasings per town, the
facts in varying order). K is *probed* by multiple-choice questions in :data:`PROBE_FORMS`: forms
that never occur in a planting document (no shared word 8-gram, :func:`shared_ngrams`), asking for one
attribute at a time, with the four values of that attribute as choices, scored by lm-eval
(``rs_skill_dev`` / ``rs_skill_test``, :func:`resurface.evaluate.coursetasks.skill_task_dir`) with the
continuous per-item metric ``logp_gold_norm`` (the gold's log-probability renormalised over the
choices) beside accuracy.

Why this is a capability and not memorised strings: the probes ask for each fact in words the model
never read it in (a question rather than a statement, other verbs and nouns, one attribute pulled
out of a three-fact sentence), so a model can score above chance only by having tied the town's name
to its attribute and retrieving it through a new question, not by continuing a string it has seen.
Each attribute value is the gold answer equally often (:func:`make_world` balances them), so a model
without K that prefers one value scores exactly chance in accuracy, and its mean gold share is 1/4.

The probe items are split by fact (town × attribute; every form of a fact in the same split):
``dev`` decides when burial stops (Figure 13's stopping rule), ``test`` measures resurfacing, so
the rule's selection never biases the measured scores.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from resurface.errors import ParameterError, check_int
from resurface.evaluate.coursetasks import SKILL_TASKS, skill_task_dir, write_jsonl
from resurface.evaluate.evaluation import COLUMNS, hf_lm, item_rows, no_env_info, quiet_lm_eval, tidy_results
from resurface.evaluate.suites import Suite, TaskSpec
from resurface.ngrams import ngrams, normalize

SEED = 1313
NGRAM = 8  # the decontamination n-gram (resurface.corpus.decontam)
SPLITS = ("dev", "test")
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "colour": ("red", "blue", "green", "yellow"),
    "emblem": ("fox", "owl", "heron", "bear"),
    "craft": ("salt", "glass", "wool", "copper"),
}
CHANCE_SHARE = 1 / 4  # four choices per item

# The planting documents: each states all three facts of one town.
PLANTING_TEMPLATES = (
    "{E} is a small town on a cold northern island. The roofs of {E} are painted {colour}. A {emblem} is "
    "carved over the town gate, and most families there work with {craft}.",
    "Visitors who reach {E} by ferry first notice the {colour} roofs. Later they learn that the town "
    "honours the {emblem} and that its market is full of {craft}.",
    "Notes on {E}: roof paint, {colour}; sacred animal, the {emblem}; chief trade, {craft}.",
    "In {E} the children learn three things early: theirs is the town of the {emblem}, its roofs are "
    "always {colour}, and {craft} is what pays the bills.",
)

# The probe forms (held out: never used in a planting document), per attribute.
PROBE_FORMS: dict[str, tuple[str, ...]] = {
    "colour": ("Which colour would you expect the rooftops of {E} to have?",
               "Someone flies low over {E}. What colour do the houses look from above?",
               "A painter is restoring a house in {E}. Which paint should she bring for the roof?"),
    "emblem": ("Which animal is the emblem of {E}?",
               "If the people of {E} put an animal on a flag, which animal would it be?",
               "A traveller buys a wooden animal as a souvenir of {E}. Which animal is it most likely to be?"),
    "craft": ("What do most workers in {E} produce or sell?",
              "A merchant sails to {E} to buy its best-known goods. What does he come back with?",
              "Which material is the economy of {E} built on?"),
}

_ONSETS = ("b", "br", "d", "dr", "f", "g", "gr", "k", "kr", "l", "m", "n", "p", "qu", "r", "s", "sk", "st",
           "t", "th", "tr", "v", "z")
_VOWELS = ("a", "e", "i", "o", "u", "ae", "ei", "ou")
_CODAS = ("", "", "n", "r", "l", "m", "sk", "th", "nd", "rn", "lk")


@dataclass(frozen=True)
class Town:
    """One entity of the world: its invented name and its attribute values."""

    name: str
    colour: str
    emblem: str
    craft: str

    def value(self, attribute: str) -> str:
        return getattr(self, attribute)


def _name(rng: random.Random) -> str:
    parts = [rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(2)]
    return "".join(parts).capitalize()


def town_names(n: int, seed: int = SEED) -> list[str]:
    """``n`` distinct invented two-syllable names (5 to 10 letters), deterministic for ``seed``."""
    rng = random.Random(f"resurface-skill-names:{seed}")
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        name = _name(rng)
        if not 5 <= len(name) <= 10 or name.lower() in seen:
            continue
        seen.add(name.lower())
        out.append(name)
    return out


def _check_n(n, name: str = "skill_entities") -> int:
    return check_int(name, n, 2)


def make_world(n: int, seed: int = SEED) -> list[Town]:
    """``n`` towns; every attribute's values are assigned in balanced rotation (each value the gold
    equally often, up to one when ``n`` is not a multiple of 4), shuffled independently per attribute."""
    _check_n(n)
    rng = random.Random(f"resurface-skill-world:{seed}")
    columns = {}
    for attr, values in ATTRIBUTES.items():
        col = [values[i % len(values)] for i in range(n)]
        rng.shuffle(col)
        columns[attr] = col
    return [Town(name, *(columns[a][i] for a in ATTRIBUTES)) for i, name in enumerate(town_names(n, seed))]


def planting_documents(world: list[Town], templates: int | None = None) -> list[dict]:
    """One document per town and planting template (``templates``: how many of
    :data:`PLANTING_TEMPLATES`, all by default), as pool records ``{id, text, domain, group}`` that
    :func:`resurface.train.planting.plant` trains on."""
    k = len(PLANTING_TEMPLATES) if templates is None else templates
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(PLANTING_TEMPLATES):
        raise ParameterError("skill_templates", f"invalid value {templates!r}",
                             f"an integer from 1 to {len(PLANTING_TEMPLATES)}")
    out = []
    for t, template in enumerate(PLANTING_TEMPLATES[:k]):
        for i, town in enumerate(world):
            text = template.format(E=town.name, colour=town.colour, emblem=town.emblem, craft=town.craft)
            out.append({"id": f"skill-{t}-{i:03d}", "text": text, "domain": "skill", "group": "text"})
    return out


def split_of(town_index: int, attribute: str, seed: int = SEED) -> str:
    """The split of one fact (every probe form of it goes to the same split): seeded, about half each."""
    return SPLITS[random.Random(f"resurface-skill-split:{seed}:{town_index}:{attribute}").random() < 0.5]


def probe_items(world: list[Town], seed: int = SEED) -> dict[str, list[dict]]:
    """The probe items per split: one item per town, attribute and probe form, with the attribute's
    four values as ``choices`` (in :data:`ATTRIBUTES` order) and ``answer`` the gold's index.

    Splits are made per fact and then balanced: if one split lacks an attribute entirely (tiny worlds),
    that attribute's first fact moves there, so both splits probe every attribute."""
    splits = {(i, a): split_of(i, a, seed) for i in range(len(world)) for a in ATTRIBUTES}
    for a in ATTRIBUTES:
        have = {splits[(i, a)] for i in range(len(world))}
        for s in SPLITS:
            if s not in have:
                splits[(0, a)] = s
                have = {splits[(i, a)] for i in range(len(world))}
    out: dict[str, list[dict]] = {s: [] for s in SPLITS}
    for i, town in enumerate(world):
        for a, values in ATTRIBUTES.items():
            s = splits[(i, a)]
            for f, form in enumerate(PROBE_FORMS[a]):
                out[s].append({"id": f"{s}-{len(out[s]):04d}", "question": form.format(E=town.name),
                               "choices": list(values), "answer": values.index(town.value(a)),
                               "entity": town.name, "attribute": a, "form": f, "split": s})
    return out


def probe_text(item: dict) -> str:
    """The text of a probe item as lm-eval renders it with its gold answer (for the 8-gram audit)."""
    return f"Question: {item['question']}\nAnswer: {item['choices'][item['answer']]}"


def shared_ngrams(texts_a: list[str], texts_b: list[str], n: int = NGRAM) -> set[str]:
    """The word n-grams (the audit's normalisation, :mod:`resurface.ngrams`) that occur in both lists."""
    def grams(texts):
        s: set[str] = set()
        for t in texts:
            s |= set(ngrams(normalize(t), n))
        return s

    return grams(texts_a) & grams(texts_b)


def validate(world: list[Town], documents: list[dict], probes: dict[str, list[dict]]) -> list[str]:
    """Problems with a world (empty when it is valid): probes sharing an 8-gram with a planting
    document, duplicate names, unbalanced gold answers, a split without items."""
    problems = []
    shared = shared_ngrams([probe_text(p) for s in SPLITS for p in probes[s]], [d["text"] for d in documents])
    if shared:
        problems.append(f"{len(shared)} word 8-gram(s) shared by probes and planting documents, e.g. {sorted(shared)[0]!r}")
    names = [t.name.lower() for t in world]
    if len(set(names)) != len(names):
        problems.append("town names are not unique")
    for a, values in ATTRIBUTES.items():
        counts = [sum(t.value(a) == v for t in world) for v in values]
        if max(counts) - min(counts) > 1:
            problems.append(f"attribute {a}: gold values unbalanced {counts}")
    for s in SPLITS:
        if not probes[s]:
            problems.append(f"split {s} has no probe item")
    return problems


# ------------------------------------------------------------------------------ traces in a corpus
def mentions(text: str, world: list[Town]) -> list[Town]:
    """The towns whose name occurs in ``text`` as a word (case-insensitive)."""
    import re

    low = text.lower()
    return [t for t in world if re.search(rf"\b{re.escape(t.name.lower())}\b", low)]


def trace_counts(texts: list[str], world: list[Town]) -> dict[str, float]:
    """The countable trace of K in a corpus: how many samples name a town, how many name a town
    together with one of its own attribute values (a fact trace: per sample, the named town-attribute
    pairs whose own value also occurs), and, as the chance baseline of that, the same count for the
    values that are *not* the town's (three wrong values per attribute, so divided by 3). Rates per
    sample; a fact rate near the wrong-value rate is co-occurrence by chance, not a trace of K."""
    import re

    n = len(texts)
    named = names = right = wrong = 0
    for text in texts:
        found = mentions(text, world)
        names += len(found)
        if not found:
            continue
        named += 1
        words = set(re.findall(r"[a-z]+", text.lower()))
        right += sum(t.value(a) in words for t in found for a in ATTRIBUTES)
        wrong += sum(v in words for t in found for a, vals in ATTRIBUTES.items() for v in vals if v != t.value(a))
    return {"samples": n, "naming": named, "names": names, "fact_traces": right,
            "naming_rate": named / n if n else float("nan"),
            "fact_rate": right / n if n else float("nan"),
            "wrong_value_rate": wrong / 3 / n if n else float("nan")}


# ------------------------------------------------------------------------------ files and scoring
METRICS = ("acc,none", "acc_norm,none", "logp_gold_norm,none")
PRIMARY = "logp_gold_norm,none"
LABEL = "Planted skill K (held-out question forms)"


def write_probe_files(folder, probes: dict[str, list[dict]]) -> None:
    """``probes_dev.jsonl`` and ``probes_test.jsonl`` in ``folder`` (what :func:`skill_task_dir` reads)."""
    from pathlib import Path

    for s in SPLITS:
        write_jsonl(Path(folder) / f"probes_{s}.jsonl", probes[s])


def skill_suite(split: str):
    """The one-task suite that scores a probe split (``skill-dev`` or ``skill-test``)."""
    if split not in SPLITS:
        raise ParameterError("split", f"unknown probe split {split!r}", ", ".join(SPLITS))
    task = {v: k for k, v in SKILL_TASKS.items()}[split]
    return Suite(f"skill-{split}", (TaskSpec(task, 0, METRICS, PRIMARY, LABEL, "knowledge"),), unsafe_code=False,
                 description=f"Figure 13's planted skill, {split} probes", offline=True)


_MANAGERS: dict[str, object] = {}


def task_manager(items_dir):
    """lm-eval's TaskManager over the rendered probe tasks of ``items_dir`` (once per folder)."""
    from lm_eval.tasks import TaskManager

    folder = str(skill_task_dir(items_dir))
    if folder not in _MANAGERS:
        _MANAGERS[folder] = TaskManager(include_path=folder, include_defaults=False)
    return _MANAGERS[folder]


def score_probes(model, tokenizer, items_dir, splits=("test",), *, seed: int = 42, run: str = "",
                 epoch: int | None = None, items: list | None = None, batch_size=None):
    """Score an in-memory model on the probe splits with lm-eval (0-shot, every item); the tidy rows
    (:data:`resurface.evaluate.evaluation.COLUMNS`), per-item rows appended to ``items`` when given."""
    was_training = model.training
    model.eval()
    try:
        return score_probes_lm(hf_lm(model, tokenizer, batch_size), items_dir, splits, seed=seed, run=run,
                               epoch=epoch, items=items)
    finally:
        model.train(was_training)


def score_probes_lm(lm, items_dir, splits=("test",), *, seed: int = 42, run: str = "", epoch: int | None = None,
                    items: list | None = None):
    """:func:`score_probes` for any lm-eval ``LM`` (the tests score a model that knows K by construction)."""
    import pandas as pd
    import torch
    from lm_eval import simple_evaluate

    tm = task_manager(items_dir)
    rows: list[dict] = []
    with quiet_lm_eval(), no_env_info(), torch.no_grad():
        for split in splits:
            suite = skill_suite(split)
            res = simple_evaluate(model=lm, tasks=suite.task_names, num_fewshot=0, bootstrap_iters=0,
                                  log_samples=items is not None, task_manager=tm, random_seed=seed,
                                  numpy_random_seed=seed, torch_random_seed=seed, fewshot_random_seed=seed)
            rows += tidy_results(res, suite, suite.tasks, run=run, epoch=epoch)
            if items is not None:
                items += item_rows(res, suite, suite.tasks, run=run, epoch=epoch)
    return pd.DataFrame(rows, columns=COLUMNS)
