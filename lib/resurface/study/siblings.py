"""Same-lineage siblings of Figure 12: the student after a short fine-tune on the replay corpus
(``data: replay``) or on the cross-family source's corpus at ``sibling_temperature`` (``data: cross``),
one recipe of the profile's ``siblings`` each (:func:`resurface.study.profiles.check_siblings`).

A sibling shares the student's pretraining, tokenizer and architecture, and differs from it only by
what it read last; :mod:`resurface.evidence.relational` trains the student on its samples. Building one
is a training run (:func:`resurface.train.training.train_run` with the final model kept), so it
lives here with the other runs, not in the evidence layer that reads them.
"""

from __future__ import annotations

from pathlib import Path

from resurface import progress
from resurface.corpus.subsets import make_subsets, subset_dirs
from resurface.errors import ParameterError
from resurface.study import experiments, profiles
from resurface.study.experiments import replay_corpus, sampled_corpus
from resurface.train.training import train_run


def sibling_data(P: dict, recipe: dict, store=None) -> Path:
    """The corpus a sibling is fine-tuned on: the replay corpus, or the cross-family source's corpus
    at ``sibling_temperature``."""
    if recipe["data"] == "replay":
        return replay_corpus(P, P["student"], store)
    sources = experiments.figure_params(P, "fig05")["sources"]
    if "cross" not in sources:
        raise ParameterError("siblings", f"recipe {recipe['name']!r} fine-tunes on the cross-family corpus, but "
                             "fig05's sources have no 'cross' role", "data: replay, or a cross source in fig05.yaml")
    return sampled_corpus(P, sources["cross"], P["sibling_temperature"], store)


def sibling_model(P: dict, recipe: dict, store=None) -> Path:
    """The student after a short fine-tune on the recipe's data: ``recipe["tokens"]`` tokens (one seeded
    subset, drawn as every training subset is), ``epochs`` and ``lr`` from the recipe, the rest of the
    training settings from the profile; no evaluation. Returns the run's ``final_model/`` folder."""
    progress.report(f"sibling {recipe['name']}: fine-tune of {P['student']} on {recipe['data']}")
    data = sibling_data(P, recipe, store)
    sub = subset_dirs(make_subsets(data, 1, recipe["tokens"], seed=P["seed"], store=store))[0]
    run = train_run(P["student"], sub, epochs=recipe["epochs"], lr=recipe["lr"], warmup_ratio=P["warmup_ratio"],
                    block_size=P["block_size"], batch_size=P["batch_size"], effective_batch=P["effective_batch"],
                    weight_decay=P["weight_decay"], seed=P["seed"], eval_suites=[], device=P["device"],
                    dtype=P["dtype"], allow_hub=profiles.allow_hub(P), save_checkpoints=True, store=store)
    return Path(run) / "final_model"
