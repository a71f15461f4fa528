"""Burial pilot: how long, and at which rate, should Figure 13 bury K? (rule: resurface.study.regime.BURY_RULE_TEXT)

On the pilot's seed (:data:`resurface.study.regime.PILOT_SEEDS`, never the book's), with the profile's
Figure 13 settings otherwise, it builds K's world, plants K, and buries the planted model for
``--epochs`` epochs at each learning rate of ``--lrs`` (the burial of :func:`resurface.study.buried_skill.bury`
at a fixed length, so every epoch is run and none is chosen by a stopping rule). After every burial epoch it
reads K's dev-probe gap as a share of the planted gap and the held-out English NLL against the unplanted
model's. The rule, fixed before the runs (:func:`resurface.study.regime.choose_burial`), then picks the
burial length and rate the book uses (``bury_epochs``, ``bury_lr``). Stages are cached in the artifact
store (``RESURFACE_STORE``), so a killed pilot resumes::

    .venv/bin/python benchmarks/pilot_burial.py --lrs 1e-3,5e-4,3e-4 --epochs 12

``--tokens`` buries with more (or less) replay text per epoch than the profile's ``bury_tokens``: a gentle
rate over more text is the other way to a burial both deep and healthy (its report goes to ``--out``).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import pandas as pd

from resurface.measures.health import general_nll, heldout_english
from resurface.measures.resurfacing import skill_world
from resurface.study import profiles, regime
from resurface.study.buried_skill import bury, planted_model
from resurface.study.experiments import replay_corpus


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--profile", default="course")
    p.add_argument("--lrs", default="1e-3,5e-4,3e-4", help="burial learning rates (the first is today's)")
    p.add_argument("--epochs", type=int, default=12, help="burial epochs run at each rate (today's cap)")
    p.add_argument("--tokens", type=int, default=None,
                   help="replay tokens per burial epoch (default: the profile's bury_tokens)")
    p.add_argument("--out", default="benchmarks/pilot_burial.json")
    return p.parse_args()


def main() -> None:
    a = parse()
    lrs = [float(x) for x in a.lrs.split(",") if x]
    seed = regime.PILOT_SEEDS[0]
    over = {"seed": seed, "bury_epochs": a.epochs, **({"bury_tokens": a.tokens} if a.tokens else {})}
    P = profiles.resolve(a.profile, "fig13", over)
    model = P["student"]
    report: dict = {"rule": regime.BURY_RULE_TEXT, "rule_version": regime.BURY_RULE_VERSION, "seed": seed,
                    "started": time.strftime("%F %T"), "machine": platform.processor() or platform.machine(),
                    "model": model, "epochs": a.epochs, "tokens_per_epoch": P["bury_tokens"], "runs": []}
    world = skill_world(P)
    planted = planted_model(P, world)
    replay = replay_corpus(P, model)
    heldout = heldout_english(P, replay)
    base_nll = float(general_nll(P, {}, model, heldout).set_index("model").loc["base", "nll_per_token"])
    points: list[regime.BuryPoint] = []
    for lr in lrs:
        t0 = time.perf_counter()
        folder = Path(bury({**P, "bury_lr": lr}, planted, world, replay, heldout))
        info = json.loads((folder / "bury.json").read_text())
        curve = pd.read_csv(folder / "bury.csv")
        dev = curve[(curve["split"] == "dev") & (curve["epoch"] >= 1)].sort_values("epoch")
        fractions = [float(v) for v in dev["fraction_of_planted"]]
        health = [float(v) / base_nll - 1.0 for v in dev["heldout_nll"]]
        points += regime.bury_points(lr, fractions, health)
        report["runs"].append({"lr": lr, "planted_gap_dev": info["planted_gap_dev"],
                               "planted_health_relative": info["heldout_nll_planted"] / base_nll - 1.0,
                               "fraction_left": fractions, "health_relative": health,
                               "seconds": float(info.get("wall_seconds", time.perf_counter() - t0))})
        Path(a.out).write_text(json.dumps({**report, "partial": True}, indent=2))
        print(f"[bury-pilot] lr {lr:g}: dev gap left " + " ".join(f"{f:.2f}" for f in fractions)
              + "; held-out English " + " ".join(f"{h:+.0%}" for h in health), flush=True)
    chosen = regime.choose_burial(points)
    report["base_nll"] = base_nll
    report["reasons"] = {f"{p.lr:g} x {p.epochs}": regime.bury_failures(p) for p in points}
    report["chosen"] = None if chosen is None else {
        "lr": chosen.lr, "epochs": chosen.epochs, "fraction_left": chosen.fraction_left,
        "health_relative": chosen.health_relative}
    report["finished"], report["partial"] = time.strftime("%F %T"), False
    Path(a.out).write_text(json.dumps(report, indent=2))
    print(f"[bury-pilot] chosen: {report['chosen'] or 'no qualifying burial'}", flush=True)


if __name__ == "__main__":
    main()
