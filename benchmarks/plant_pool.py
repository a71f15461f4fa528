"""How many planting passes make the course's planted pool extractable? (Figures 7 and 8.)

Plants the course memorization model with the course pool at ``--pool-size`` sequences per domain
for each ``--passes`` value (the ``plant`` stage, cached in the artifact store), runs the greedy
extraction attack on the planted model (the ``extract`` stage) and prints, per value, the wall time
and the extractable fraction per group with its exact (Clopper–Pearson) 95% interval. The course
needs at least 80% of the pool extractable before self-training, so that a >95% drop is testable.

    .venv/bin/python benchmarks/plant_pool.py --pool-size 50 --passes 8,12 --layout rows
    .venv/bin/python benchmarks/plant_pool.py --passes 10 --layout rows --block-size 28 --anchor-tokens 24 \
        --batch-size 8 --recite
"""

from __future__ import annotations

import argparse
import time

from resurface.study import profiles
from resurface.evidence import extraction
from resurface.measures.attacks import extract, read_scores
from resurface.measures.memorization import pool_for
from resurface.study.planted_memory import memorization_base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pool-size", type=int, default=50, help="sequences per domain (email, prose, code)")
    ap.add_argument("--passes", default="8,12", help="comma-separated planting passes to try")
    ap.add_argument("--lr", type=float, default=None, help="planting learning rate (default: the profile's)")
    ap.add_argument("--batch-size", type=int, default=None, help="blocks per optimizer step (default: the profile's)")
    ap.add_argument("--layout", default=None, choices=["packed", "rows"], help="planting layout (default: the profile's)")
    ap.add_argument("--block-size", type=int, default=None, help="tokens per block or row (default: the profile's)")
    ap.add_argument("--anchor-tokens", type=int, default=None,
                    help="rows layout: anchor rows of the model's own BOS samples, this many tokens (0: none)")
    ap.add_argument("--recite", action="store_true",
                    help="also sample the planted model from BOS (the self-training corpus) and count the samples "
                         "that share an 8-gram with the pool, which the held-out rule drops")
    a = ap.parse_args()
    over = {"pool_size": a.pool_size}
    if a.batch_size:
        over["plant_batch_size"] = a.batch_size
    if a.lr:
        over["plant_lr"] = a.lr
    if a.layout:
        over["plant_layout"] = a.layout
    if a.block_size:
        over["plant_block_size"] = a.block_size
    if a.anchor_tokens is not None:
        over["plant_anchor_tokens"] = a.anchor_tokens
    P0 = profiles.resolve("course", "fig08", over)
    pool = pool_for(P0)
    for passes in [int(x) for x in a.passes.split(",") if x]:
        P = profiles.resolve("course", "fig08", {**over, "plant_epochs": passes})
        t0 = time.perf_counter()
        model = memorization_base(P, pool)  # the plant stage exactly as Figures 7-8 call it
        t_plant = time.perf_counter() - t0
        scores = read_scores(extract(str(model), pool, prefix_tokens=P["prefix_tokens"],
                                     suffix_tokens=P["suffix_tokens"], batch_size=P["extract_batch_size"],
                                     device="cpu", dtype="float32"))
        t_all = time.perf_counter() - t0
        parts = []
        for group, g in scores.groupby("group"):
            k, n = int(g["extracted"].sum()), len(g)
            lo, hi = extraction.clopper_pearson(k, n)
            parts.append(f"{group} {k}/{n} = {k / n:.0%} [{lo:.0%}, {hi:.0%}]")
        k, n = int(scores["extracted"].sum()), len(scores)
        recite = ""
        if a.recite:
            from resurface.study.experiments import sampled_corpus
            from resurface.measures.memorization import pool_overlap

            ov = pool_overlap(sampled_corpus(P, str(model), P["temperatures"][0]), pool, P["ngram"])
            recite = (f"; BOS samples sharing an 8-gram with the pool {ov['sharing_ngram']}/{ov['samples']} "
                      f"(kept for self-training: {ov['samples'] - ov['sharing_ngram']})")
        print(f"[plant] pool {a.pool_size}/domain, {passes} passes, {P['plant_layout']} "
              f"(block {P['plant_block_size']}, anchors {P.get('plant_anchor_tokens', 0)} tokens), "
              f"batch {P['plant_batch_size']}, lr {P['plant_lr']:g}: "
              f"planting {t_plant:.0f} s, with extraction {t_all:.0f} s; extractable {k}/{n} = {k / n:.0%} "
              f"({'; '.join(parts)}){recite}", flush=True)


if __name__ == "__main__":
    main()
