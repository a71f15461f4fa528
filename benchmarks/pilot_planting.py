"""Planting pilot: which planting leaves a healthy model that still carries what was planted? (rules:
resurface.study.regime.PLANT_RULE_TEXT, SKILL_RULE_TEXT)

For each grid point (planting learning rate x general-text rows per pass) it plants once on the pilot's
seed (:data:`resurface.study.regime.PILOT_SEEDS`, never the book's), with the course's settings
otherwise, and measures the planted model's mean NLL per token of held-out English against the
unplanted model's (:func:`resurface.measures.health.general_nll`) and what the planting is for:

- ``--figure 7`` (Figures 7-8): the share of the planted pool the extraction attack recovers;
- ``--figure 13``: K's dev-probe gap, planted − unplanted, with its 95% interval over probes.

The rule, fixed before the runs, then picks the planting (:func:`resurface.study.regime.choose_planting`,
:func:`~resurface.study.regime.choose_skill_planting`). The first grid point is today's planting (its
cost is the budget's reference). Plantings are cached in the artifact store (``RESURFACE_STORE``), so a
killed pilot resumes::

    .venv/bin/python benchmarks/pilot_planting.py --lrs 1e-3,3e-4 --mix 0,48
    .venv/bin/python benchmarks/pilot_planting.py --figure 13 --out benchmarks/pilot_planting_skill.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import pandas as pd

from resurface.device import hook_scoring_dtype
from resurface.measures.attacks import extract, read_scores
from resurface.measures.health import general_nll, heldout_english
from resurface.measures.memorization import pool_for
from resurface.study import profiles, regime
from resurface.study.experiments import replay_corpus
from resurface.study.planted_memory import memorization_base


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--profile", default="course")
    p.add_argument("--figure", type=int, choices=(7, 13), default=7, help="7 (the pool of Figures 7-8) or 13 (K)")
    p.add_argument("--lrs", default="1e-3,3e-4", help="planting learning rates (the first is today's)")
    p.add_argument("--mix", default="0,48", help="replay documents per pass (the first is today's)")
    p.add_argument("--out", default="benchmarks/pilot_planting.json")
    return p.parse_args()


def health_record(health: pd.DataFrame) -> dict:
    """The JSON fields of :func:`resurface.measures.health.general_nll`'s table (indexed by model) for the
    planted model against the base."""
    return {"base_nll": float(health.loc["base", "nll_per_token"]),
            "planted_nll": float(health.loc["planted", "nll_per_token"]),
            "health_relative": float(health.loc["planted", "relative"]),
            "delta": {k: float(health.loc["planted", k]) for k in ("delta", "lo", "hi")}}


def skill_main(a: argparse.Namespace, lrs: list[float], mixes: list[int]) -> None:
    """The grid for Figure 13's planting of K."""
    import math

    from scipy import stats as st

    from resurface.evaluate.items_skill import PRIMARY
    from resurface.measures.resurfacing import probe_eval, probe_items_of, skill_world
    from resurface.study.buried_skill import planted_model

    seed = regime.PILOT_SEEDS[0]
    P = profiles.resolve(a.profile, "fig13", {"seed": seed})
    model = P["student"]
    report: dict = {"rule": regime.SKILL_RULE_TEXT, "rule_version": regime.PLANT_RULE_VERSION, "seed": seed,
                    "figure": 13, "started": time.strftime("%F %T"),
                    "machine": platform.processor() or platform.machine(), "model": model,
                    "passes": P["skill_plant_epochs"], "mix_tokens": P["skill_plant_block_size"], "points": []}
    world = skill_world(P)
    heldout = heldout_english(P, replay_corpus(P, model))

    def dev(folder) -> pd.Series:
        d = probe_items_of(folder)
        d = d[(d["task"] == "rs_skill_dev") & (d["metric"] == PRIMARY)]
        return d.groupby("item")["value"].mean()

    base = dev(probe_eval(model, world, P))
    points: list[regime.SkillPoint] = []
    for lr in lrs:
        for mix in mixes:
            q = {**P, "skill_plant_lr": lr, "skill_plant_mix_docs": mix}
            planted = planted_model(q, world)
            info = json.loads((Path(planted).parent / "plant.json").read_text())
            d = (dev(probe_eval(planted, world, q)) - base).dropna()
            half = float(st.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))
            health = general_nll(P, {"planted": planted}, model, heldout).set_index("model")
            point = regime.SkillPoint(lr, P["skill_plant_epochs"], mix, float(d.mean()), float(d.mean()) - half,
                                      float(health.loc["planted", "relative"]), float(info["wall_seconds"]))
            points.append(point)
            report["points"].append({
                "lr": lr, "passes": point.passes, "mix_docs": mix, "gap": point.gap, "gap_lo": point.gap_lo,
                "gap_hi": point.gap + half, "probes": int(len(d)), "seconds": point.seconds, "steps": info.get("steps"),
                **health_record(health)})
            Path(a.out).write_text(json.dumps({**report, "partial": True}, indent=2))
            print(f"[plant-pilot] K: lr {lr:g} mix {mix}: dev gap {point.gap:+.3f} (lower {point.gap_lo:+.3f}), "
                  f"held-out English {point.health_relative:+.0%} of base, {point.seconds:.0f} s", flush=True)
    reference = points[0].seconds
    chosen = regime.choose_skill_planting(points, reference)
    report["reasons"] = {f"{p.lr:g} x {p.mix_docs}": regime.skill_failures(p, reference) for p in points}
    report["chosen"] = None if chosen is None else {"lr": chosen.lr, "mix_docs": chosen.mix_docs, "gap": chosen.gap,
                                                    "health_relative": chosen.health_relative}
    report["finished"], report["partial"] = time.strftime("%F %T"), False
    Path(a.out).write_text(json.dumps(report, indent=2))
    print(f"[plant-pilot] K chosen: {report['chosen'] or 'no qualifying planting'}", flush=True)


def main() -> None:
    a = parse()
    lrs = [float(x) for x in a.lrs.split(",") if x]
    mixes = [int(x) for x in a.mix.split(",") if x]
    if a.figure == 13:
        return skill_main(a, lrs, mixes)
    seed = regime.PILOT_SEEDS[0]
    P = profiles.resolve(a.profile, "fig07", {"seed": seed, "plantings": 1})
    model = P["memorization_model"]
    report: dict = {"rule": regime.PLANT_RULE_TEXT, "rule_version": regime.PLANT_RULE_VERSION, "seed": seed,
                    "started": time.strftime("%F %T"), "machine": platform.processor() or platform.machine(),
                    "model": model, "passes": P["plant_epochs"], "mix_tokens": P["plant_mix_tokens"],
                    "points": []}
    pool = pool_for(P)
    heldout = heldout_english(P, replay_corpus(P, model))
    points: list[regime.PlantPoint] = []
    for lr in lrs:
        for mix in mixes:
            q = {**P, "plant_lr": lr, "plant_mix_docs": mix}
            t0 = time.perf_counter()
            base = memorization_base(q, pool)
            info = json.loads((Path(base).parent / "plant.json").read_text())
            seconds = float(info.get("wall_seconds", time.perf_counter() - t0))
            scores = read_scores(extract(base, pool, prefix_tokens=P["prefix_tokens"],
                                         suffix_tokens=P["suffix_tokens"], batch_size=P["extract_batch_size"],
                                         device=P["device"], dtype=hook_scoring_dtype(P["dtype"], P["device"])))
            health = general_nll(P, {"planted": base}, model, heldout).set_index("model")
            point = regime.PlantPoint(lr, P["plant_epochs"], mix, float(scores["extracted"].mean()),
                                      float(health.loc["planted", "relative"]), seconds)
            points.append(point)
            report["points"].append({
                "lr": lr, "passes": point.passes, "mix_docs": mix, "extracted": point.extracted,
                "sequences": int(len(scores)), "seconds": seconds, "steps": info.get("steps"),
                **health_record(health)})
            Path(a.out).write_text(json.dumps({**report, "partial": True}, indent=2))
            print(f"[plant-pilot] lr {lr:g} mix {mix}: {point.extracted:.0%} extractable, held-out English "
                  f"{point.health_relative:+.0%} of base, {seconds:.0f} s", flush=True)
    reference = points[0].seconds
    chosen = regime.choose_planting(points, reference)
    report["reasons"] = {f"{p.lr:g} x {p.mix_docs}": regime.plant_failures(p, reference) for p in points}
    report["chosen"] = None if chosen is None else {"lr": chosen.lr, "mix_docs": chosen.mix_docs,
                                                    "extracted": chosen.extracted,
                                                    "health_relative": chosen.health_relative}
    report["finished"], report["partial"] = time.strftime("%F %T"), False
    Path(a.out).write_text(json.dumps(report, indent=2))
    print(f"[plant-pilot] chosen: {report['chosen'] or 'no qualifying planting'}", flush=True)


if __name__ == "__main__":
    main()
