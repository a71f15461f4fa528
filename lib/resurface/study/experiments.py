"""Experiment plans shared by the figure notebooks: conditions -> corpora -> subsets -> training runs.

A *condition* is one training corpus for one student: the student's own samples at τ
(``self@1.25``), another model's samples (``cross@0.75``, ``lineage@1.0``, ``recipe@1.0``), or the
human-text replay (``replay``). Every stage goes through the artifact store, so a run that several
figures need (Figs 2, 5, 9 share the self-training runs) is computed once, and a killed notebook
resumes where it stopped. Every training run evaluates the same suites (the profile's zero-shot and
few-shot suites), so its artifact key is the same whichever figure asks first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from resurface import progress
from resurface.artifacts import Store
from resurface.corpus.decontam import decontaminate
from resurface.corpus.replay import build_replay
from resurface.corpus.sampling import resolve_sample_engine, sample
from resurface.corpus.subsets import make_subsets, subset_dirs
from resurface.errors import ParameterError
from resurface.identity import display_name
from resurface.study import figures, profiles
from resurface.train.training import train_run


@dataclass(frozen=True)
class Condition:
    """One training corpus for one student."""

    name: str  # e.g. "self@1.25", "cross@0.75", "replay"
    student: str  # model alias / folder / Hub id being trained
    source: str | None  # model that wrote the corpus; None for the replay corpus
    temperature: float | None = None


def training_suites(P: dict) -> list[str]:
    """The suites every training run evaluates (same list everywhere, so runs are shared)."""
    return list(dict.fromkeys([P["eval_suite"], P["eval_suite_few_shot"]]))


#: requests handed to vLLM at once (its own scheduler batches them; sampling.sample_corpus_vllm)
VLLM_SAMPLE_BATCH = 1024
_ENGINE_SAID: set[str] = set()


def sample_engine(P: dict) -> str:
    """The sampler of this profile on this machine: ``P["sample_engine"]`` (paper: vllm) when it can run,
    else the transformers loop with a one-line message, said once per process."""
    want = P.get("sample_engine", "hf")
    said: list[str] = []
    engine = resolve_sample_engine(want, say=said.append)
    for m in said:
        if m not in _ENGINE_SAID:
            _ENGINE_SAID.add(m)
            import sys

            print(m, file=sys.stderr, flush=True)
    return engine


def sampled_corpus(P: dict, source: str, temperature: float, store: Store | None = None) -> Path:
    """The decontaminated BOS-only corpus of ``source`` at ``temperature``."""
    engine = sample_engine(P)
    batch = P["sample_batch_size"] if engine == "hf" else max(P["sample_batch_size"], VLLM_SAMPLE_BATCH)
    raw = sample(source, temperature=temperature, num_samples=P["num_samples"],
                 max_new_tokens=P["max_new_tokens"], min_new_tokens=P["min_new_tokens"], seed=P["seed"],
                 batch_size=batch, device=P["device"], dtype=P["dtype"],
                 allow_hub=profiles.allow_hub(P), store=store, engine=engine)
    return decontaminate(raw, suite=P["decontam_suite"], ngram=P["ngram"], allow_hub=profiles.allow_hub(P), store=store)


def replay_corpus(P: dict, student: str, store: Store | None = None) -> Path:
    """The decontaminated human-text replay corpus (token counts with the student's tokenizer)."""
    raw = build_replay(P["replay"], max_docs=P["replay_docs"], min_chars=P["replay_min_chars"], seed=P["seed"],
                       tokenizer=student, store=store, allow_hub=profiles.allow_hub(P),
                       language=P.get("replay_language", "English"),
                       language_column=P.get("replay_language_column", "language"))
    return decontaminate(raw, suite=P["decontam_suite"], ngram=P["ngram"], allow_hub=profiles.allow_hub(P), store=store)


def corpus_for(P: dict, cond: Condition, store: Store | None = None) -> Path:
    if cond.source is None:
        return replay_corpus(P, cond.student, store)
    return sampled_corpus(P, cond.source, cond.temperature, store)


def suites_for(P: dict, cond: Condition) -> list[str]:
    """The suites a condition's runs evaluate every epoch.

    Only the main student's self-training and replay runs (Fig 2, reused by Figs 5 and 9) also run
    the few-shot suite; every other run evaluates the zero-shot suite alone. The choice depends on
    the condition only, so a run has the same artifact key whichever figure asks for it first.
    """
    if cond.student == P["student"] and (cond.name.startswith("self@") or cond.name == "replay"):
        return training_suites(P)
    return [P["eval_suite"]]


def train_corpus(P: dict, name: str, student: str, corpus: Path, source: str | None,
                 suites: list[str], store: Store | None = None, eval_hook=None) -> pd.DataFrame:
    """Train ``student`` on every subset drawn from ``corpus``; tidy results of all runs.

    ``name`` labels the rows (column ``condition``); ``source`` fills the ``source`` column
    ("replay" when None). ``eval_hook`` replaces ``suites`` (see :func:`resurface.train.training.train_run`).
    """
    subsets = make_subsets(corpus, P["num_subsets"], P["tokens_per_subset"], seed=P["seed"], store=store,
                           draw=P.get("subset_draw", "with-replacement"))
    frames = []
    dirs = subset_dirs(subsets)
    for i, d in enumerate(dirs):
        progress.report(f"{name} on {display_name(student)}: training run {i + 1} of {len(dirs)}")
        run = train_run(student, d, epochs=P["epochs"], lr=profiles.lr_for(P, student), warmup_ratio=P["warmup_ratio"],
                        block_size=P["block_size"], batch_size=P["batch_size"],
                        effective_batch=P["effective_batch"], weight_decay=P["weight_decay"], seed=P["seed"],
                        eval_suites=[] if eval_hook else suites, eval_hook=eval_hook,
                        eval_limit=P["eval_limit"] or None,
                        device=P["device"], dtype=P["dtype"], allow_hub=profiles.allow_hub(P),
                        save_checkpoints=P["save_checkpoints"], store=store,
                        eval_engine=P.get("eval_engine", "hf"), loss_chunk=P.get("loss_chunk", "auto"),
                        train_engine=P.get("train_engine", "ddp"))
        df = pd.read_csv(Path(run) / "results.csv")
        df["condition"], df["subset"], df["student"] = name, i, student
        df["source"] = source or "replay"
        df["run_artifact"] = Path(run).name
        df["run_path"] = str(run)  # where evidence.run_items finds the run's per-item values
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def train_condition(P: dict, cond: Condition, store: Store | None = None) -> pd.DataFrame:
    """Train ``cond.student`` on every subset of the condition's corpus; tidy results of all runs."""
    return train_corpus(P, cond.name, cond.student, corpus_for(P, cond, store), cond.source,
                        suites_for(P, cond), store)


def run_conditions(P: dict, conditions: list[Condition], store: Store | None = None) -> pd.DataFrame:
    """Train every condition and return one tidy table with a ``delta`` column (vs epoch 0)."""
    from resurface.conditions import deltas

    frames = []
    for k, c in enumerate(conditions):
        progress.report(f"condition {k + 1} of {len(conditions)}: {c.name}")
        frames.append(train_condition(P, c, store))
    df = pd.concat(frames, ignore_index=True)
    return deltas(df)


def self_conditions(P: dict, student: str, replay: bool = True) -> list[Condition]:
    """The Fig 2/3 conditions: the student's own samples at each τ, plus the human-text replay."""
    conds = [Condition(f"self@{t:g}", student, student, t) for t in P["temperatures"]]
    if replay:
        conds.append(Condition("replay", student, None))
    return conds


def source_conditions(P: dict, student: str, kind: str, source: str, temperatures=None) -> list[Condition]:
    """``student`` trained on ``source``'s samples (kind: lineage | recipe | cross)."""
    return [Condition(f"{kind}@{t:g}", student, source, t) for t in (temperatures or P["temperatures"])]


def source_swap_conditions(P: dict, student: str) -> list[Condition]:
    """Fig 5: ``student``'s own corpus at ``self_temperature`` (the dashed reference; the same run as
    Fig 2's) and every source of ``P["sources"]`` (kind -> model) at ``source_temperatures``."""
    t = P["self_temperature"]
    conds = [Condition(f"self@{t:g}", student, student, t)]
    for kind, source in P["sources"].items():
        conds += source_conditions(P, student, kind, source, P["source_temperatures"])
    return conds


def figure_params(P: dict, fig: str) -> dict:
    """The parameters ``fig`` runs with when another notebook (parameters ``P``) rebuilds its runs.

    ``fig``'s own files decide (its figure-specific keys, and common keys it sets itself, e.g. Fig 8's
    epochs); a value of ``P`` wins where ``P`` overrides the profile's common value or sets a key the
    common file lacks, so overrides given to one notebook (e.g. ``epochs``) reach the runs it rebuilds.
    """
    common, own = profiles.load(P["profile"]), profiles.load(P["profile"], fig)
    changed = {k: v for k, v in P.items() if k in own and (k not in common or v != common[k])}
    return {**own, **changed, "fig": fig}


def figure_conditions(P: dict, fig: str) -> tuple[dict, list[Condition]]:
    """The parameters and training conditions of one transfer figure (the single definition the
    figure notebooks, Figure 1 and the proxy table all use, so they name the same runs).

    The figure's record names its recipe (:data:`resurface.study.figures.CONDITION_RECIPES`):
    ``self-main`` (Figs 2, 9), the main student's own samples at every τ plus replay; ``self-second``
    (Fig 3), the same for the second student; ``source-swap`` (Fig 5), the main student on every source
    (its own τ = ``self_temperature`` run first); ``cross-second`` (Fig 10), the second student on the main
    student's samples, its own ``self_temperature`` run last.
    """
    recipe = figures.get(fig).conditions
    if recipe is None:
        raise ParameterError("figure", f"{fig!r} has no training conditions", ", ".join(figures.transfer()))
    q = figure_params(P, fig)
    s, s2 = q["student"], q["second_student"]
    if recipe == "self-main":
        return q, self_conditions(q, s, replay=True)
    if recipe == "self-second":
        return q, self_conditions(q, s2, replay=True)
    if recipe == "source-swap":
        return q, source_swap_conditions(q, s)
    t = q["self_temperature"]
    return q, source_conditions(q, s2, "cross", s) + [Condition(f"self@{t:g}", s2, s2, t)]


def summary_table(df: pd.DataFrame, suite: str | None = None) -> pd.DataFrame:
    """Per condition x task x metric: final-epoch and best-epoch Δ (mean and std over subsets) and the
    number of subsets (``subsets``; with one, ``final_std`` is 0 and means nothing)."""
    d = df[df["epoch"] > 0]
    if suite is not None and "suite" in d.columns:
        d = d[d["suite"] == suite]
    keys = [k for k in ("condition", "task", "metric") if k in d.columns]
    per_epoch = d.groupby(keys + ["epoch"])["delta"].agg(["mean", "std", "count"]).reset_index()
    last = per_epoch[per_epoch["epoch"] == per_epoch["epoch"].max()].set_index(keys)
    best = per_epoch.loc[per_epoch.groupby(keys)["mean"].idxmax()].set_index(keys)
    return pd.DataFrame({
        "final_delta": last["mean"], "final_std": last["std"].fillna(0.0),
        "best_delta": best["mean"], "best_epoch": best["epoch"], "subsets": last["count"],
    }).reset_index()
