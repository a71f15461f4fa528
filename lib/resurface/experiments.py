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

from .artifacts import Store


@dataclass(frozen=True)
class Condition:
    """One training corpus for one student."""

    name: str  # e.g. "self@1.25", "cross@0.75", "replay"
    student: str  # model alias / folder / Hub id being trained
    source: str | None  # model that wrote the corpus; None for the replay corpus
    temperature: float | None = None


def allow_hub(P: dict) -> bool:
    """Only the paper profile may touch the Hub."""
    return P["profile"] == "paper"


def training_suites(P: dict) -> list[str]:
    """The suites every training run evaluates (same list everywhere, so runs are shared)."""
    return list(dict.fromkeys([P["eval_suite"], P["eval_suite_few_shot"]]))


def sampled_corpus(P: dict, source: str, temperature: float, store: Store | None = None) -> Path:
    """The decontaminated BOS-only corpus of ``source`` at ``temperature``."""
    from .decontam import decontaminate
    from .sampling import sample

    raw = sample(source, temperature=temperature, num_samples=P["num_samples"],
                 max_new_tokens=P["max_new_tokens"], min_new_tokens=P["min_new_tokens"], seed=P["seed"],
                 batch_size=P["sample_batch_size"], device=P["device"], dtype=P["dtype"],
                 allow_hub=allow_hub(P), store=store)
    return decontaminate(raw, suite=P["decontam_suite"], ngram=P["ngram"], allow_hub=allow_hub(P), store=store)


def replay_corpus(P: dict, student: str, store: Store | None = None) -> Path:
    """The decontaminated human-text replay corpus (token counts with the student's tokenizer)."""
    from .decontam import decontaminate
    from .replay import build_replay

    raw = build_replay(P["replay"], max_docs=P["replay_docs"], min_chars=P["replay_min_chars"], seed=P["seed"],
                       tokenizer=student, store=store, allow_hub=allow_hub(P))
    return decontaminate(raw, suite=P["decontam_suite"], ngram=P["ngram"], allow_hub=allow_hub(P), store=store)


def corpus_for(P: dict, cond: Condition, store: Store | None = None) -> Path:
    if cond.source is None:
        return replay_corpus(P, cond.student, store)
    return sampled_corpus(P, cond.source, cond.temperature, store)


def train_condition(P: dict, cond: Condition, store: Store | None = None) -> pd.DataFrame:
    """Train ``cond.student`` on every subset of the condition's corpus; tidy results of all runs."""
    from .subsets import make_subsets, subset_dirs
    from .training import train_run

    corpus = corpus_for(P, cond, store)
    subsets = make_subsets(corpus, P["num_subsets"], P["tokens_per_subset"], seed=P["seed"], store=store)
    frames = []
    for i, d in enumerate(subset_dirs(subsets)):
        run = train_run(cond.student, d, epochs=P["epochs"], lr=P["lr"], warmup_ratio=P["warmup_ratio"],
                        block_size=P["block_size"], batch_size=P["batch_size"],
                        effective_batch=P["effective_batch"], weight_decay=P["weight_decay"], seed=P["seed"],
                        eval_suites=training_suites(P), eval_limit=P["eval_limit"] or None,
                        device=P["device"], dtype=P["dtype"], allow_hub=allow_hub(P),
                        save_checkpoints=P["save_checkpoints"], store=store)
        df = pd.read_csv(Path(run) / "results.csv")
        df["condition"], df["subset"], df["student"] = cond.name, i, cond.student
        df["source"] = cond.source or "replay"
        df["run_artifact"] = Path(run).name
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def run_conditions(P: dict, conditions: list[Condition], store: Store | None = None) -> pd.DataFrame:
    """Train every condition and return one tidy table with a ``delta`` column (vs epoch 0)."""
    from .plots import deltas

    df = pd.concat([train_condition(P, c, store) for c in conditions], ignore_index=True)
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


def summary_table(df: pd.DataFrame, suite: str | None = None) -> pd.DataFrame:
    """Per condition x task x metric: final-epoch and best-epoch Δ (mean and std over subsets)."""
    d = df[df["epoch"] > 0]
    if suite is not None and "suite" in d.columns:
        d = d[d["suite"] == suite]
    keys = [k for k in ("condition", "task", "metric") if k in d.columns]
    per_epoch = d.groupby(keys + ["epoch"])["delta"].agg(["mean", "std"]).reset_index()
    last = per_epoch[per_epoch["epoch"] == per_epoch["epoch"].max()].set_index(keys)
    best = per_epoch.loc[per_epoch.groupby(keys)["mean"].idxmax()].set_index(keys)
    return pd.DataFrame({
        "final_delta": last["mean"], "final_std": last["std"].fillna(0.0),
        "best_delta": best["mean"], "best_epoch": best["epoch"],
    }).reset_index()
