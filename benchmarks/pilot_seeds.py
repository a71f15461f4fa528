"""Seed-to-seed against subset-to-subset spread of the course's self-training Δ (the pilot, issue 17).

Every band and between-run interval term of the course comes from training subsets: each run trains on
other samples. Part of that spread could come from the training seed alone (the order of the blocks).
This script trains the course design's ``self@τ`` runs (Figure 2's parameters, read from the profile)
on each of the condition's subsets with several seeds; the first seed is the profile's, so those runs
are the book's own and come from the store. Per task it splits the spread of the runs' mean Δ into a
seed part and a subset part (:func:`resurface.evidence.sizing.nested_spread`) and adds the result to
``benchmarks/pilot_course.json`` (key ``seed_spread``), which the page "How big must the course study
be?" shows. Runs are cached in the artifact store (``RESURFACE_STORE``)::

    .venv/bin/python benchmarks/pilot_seeds.py --seeds 3 --temperature 1.0
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from resurface.evidence import contrasts, sizing
from resurface.study import profiles
from resurface.evaluate.evaluation import read_items
from resurface.study.experiments import Condition, corpus_for, suites_for
from resurface.corpus.subsets import make_subsets, subset_dirs
from resurface.train.training import train_run


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=3, help="seeds per subset (the first is the profile's)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--out", default="benchmarks/pilot_course.json", help="the pilot's JSON, updated in place")
    a = p.parse_args()
    P = profiles.resolve("course", "fig02", {})
    cond = Condition(f"self@{a.temperature:g}", P["student"], P["student"], a.temperature)
    subsets = subset_dirs(make_subsets(corpus_for(P, cond), P["num_subsets"], P["tokens_per_subset"], seed=P["seed"]))
    seeds = [P["seed"] + k for k in range(a.seeds)]
    t0 = time.time()
    runs: dict[tuple[int, int], Path] = {}
    for i, sub in enumerate(subsets):
        for r, seed in enumerate(seeds):
            print(f"[seeds] subset {i + 1} of {len(subsets)}, seed {seed}", flush=True)
            runs[i, r] = Path(train_run(
                P["student"], sub, epochs=P["epochs"], lr=P["lr"], warmup_ratio=P["warmup_ratio"],
                block_size=P["block_size"], batch_size=P["batch_size"], effective_batch=P["effective_batch"],
                weight_decay=P["weight_decay"], seed=seed, eval_suites=suites_for(P, cond),
                eval_limit=P["eval_limit"] or None, device=P["device"], dtype=P["dtype"],
                save_checkpoints=False, eval_engine=P.get("eval_engine", "hf"), progress=False))
    rows = []
    items = {k: read_items(f) for k, f in runs.items()}
    first = items[0, 0]
    keys = first[first["metric"].isin(contrasts.CONTINUOUS_METRICS)][["suite", "task", "metric"]].drop_duplicates()
    for key in keys.itertuples(index=False):
        means = np.zeros((len(subsets), len(seeds)))
        for (i, r), d in items.items():
            d = d[(d["suite"] == key.suite) & (d["task"] == key.task) & (d["metric"] == key.metric)]
            base = d[d["epoch"] == 0].set_index("item")["value"]
            last = d[d["epoch"] == d["epoch"].max()].set_index("item")["value"]
            means[i, r] = float((last - base.reindex(last.index)).mean())
        ns = sizing.nested_spread(means)
        rows.append({"suite": key.suite, "task": key.task, "metric": key.metric, "sigma2_subset": ns.sigma2_subset,
                     "sigma2_seed": ns.sigma2_seed, "f": ns.f, "p": ns.p, "run_means": means.round(6).tolist()})
        print(f"[seeds] {key.suite}/{key.task}: sd between subsets {ns.sigma2_subset ** 0.5:.4f}, "
              f"between seeds {ns.sigma2_seed ** 0.5:.4f} (F {ns.f:.2f}, p {ns.p:.3f})", flush=True)
    out = Path(a.out)
    report = json.loads(out.read_text()) if out.exists() else {}
    report["seed_spread"] = {"condition": cond.name, "subsets": len(subsets), "seeds": seeds,
                             "items": P["eval_limit"], "tokens_per_subset": P["tokens_per_subset"],
                             "lr": P["lr"], "epochs": P["epochs"], "finished": time.strftime("%F %T"),
                             "wall_seconds": round(time.time() - t0, 1), "tasks": rows}
    out.write_text(json.dumps(report, indent=2, default=float))
    print(f"[seeds] wrote {out}", flush=True)


if __name__ == "__main__":
    main()
