"""Pilot of the course study: where is the noise, and does self-training move the course student?

Measures on the real course student (offline, CPU), through the library's own stages and store:

1. the cost of one evaluation of the log-likelihood suite ``course-continuous`` (seconds, items/s);
2. the dose-response of self-training: Δ of every continuous metric against the base after one epoch on
   the student's own τ = 1 samples, at several token budgets and learning rates (paired 95% intervals
   over items, :func:`resurface.evidence.paired.delta_ci`);
3. the spread between training subsets: ``--subsets`` independent subsets of self and of replay at one
   dose, their variance components (:func:`resurface.evidence.sizing.variance_components`) and the self − replay
   contrast;
4. from those components, the standard error and minimum detectable effect of the self − replay
   contrast for candidate designs (subsets × items) and what each costs in CPU seconds.

Everything is written to ``--out`` (JSON) and printed. Runs are cached in the artifact store
(``RESURFACE_STORE``), so a killed pilot resumes. Example (about 25 minutes on 2 idle cores)::

    .venv/bin/python benchmarks/pilot_course.py --items 96 --doses 4096,16384 --lrs 1e-4,3e-4 \\
        --subsets 3 --subset-tokens 8192 --out benchmarks/pilot_course.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from resurface.evidence import contrasts, paired, sizing
from resurface.study import profiles
from resurface.evaluate.evaluation import evaluate_model, read_items
from resurface.study.experiments import replay_corpus, sampled_corpus
from resurface.models import load_model
from resurface.corpus.subsets import make_subsets, subset_dirs
from resurface.train.training import train_run

SUITE = "course-continuous"


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--student", default="smollm2-135m")
    p.add_argument("--items", type=int, default=96, help="items per task in every evaluation")
    p.add_argument("--doses", default="4096,16384", help="training tokens of the dose-response runs")
    p.add_argument("--lrs", default="1e-4", help="learning rates of the dose-response runs")
    p.add_argument("--subsets", type=int, default=3, help="independent subsets of self and replay")
    p.add_argument("--subset-tokens", type=int, default=8192, help="tokens of each of those subsets")
    p.add_argument("--lr", type=float, default=1e-4, help="learning rate of the subset runs")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--conditions", default="", help="how the machine was shared while the pilot ran (printed with "
                   "its timings on the page)")
    p.add_argument("--out", default="benchmarks/pilot_course.json")
    return p.parse_args()


def course(**over) -> dict:
    """The course profile's parameters with ``over`` applied (validated)."""
    return profiles.resolve("course", None, over)


def run(P: dict, student: str, subset: Path, lr: float, items: int) -> tuple[Path, float]:
    """Train and evaluate one run (cached in the store); its folder and the wall seconds it took when it
    was computed (``train.json``; a cached run reports the time of the computation, not of the look-up)."""
    folder = train_run(student, subset, epochs=1, lr=lr, warmup_ratio=P["warmup_ratio"], block_size=P["block_size"],
                       batch_size=P["batch_size"], effective_batch=P["effective_batch"], seed=P["seed"],
                       eval_suites=[SUITE], eval_limit=items, device=P["device"], dtype=P["dtype"], progress=False)
    info = json.loads((Path(folder) / "train.json").read_text())
    return Path(folder), float(info["wall_seconds"])


def per_item(folder: Path, condition: str, subset: int) -> pd.DataFrame:
    d = read_items(folder)
    d = d[d["metric"].isin(contrasts.CONTINUOUS_METRICS)].copy()
    d["condition"], d["subset"] = condition, subset
    return d


def main() -> None:
    a = parse()
    doses = [int(x) for x in a.doses.split(",") if x]
    lrs = [float(x) for x in a.lrs.split(",") if x]
    need = max(doses + [a.subset_tokens]) * 2  # with-replacement subsets: draw from twice the budget
    P = course(num_samples=max(64, need // 48), student=a.student)
    report: dict = {"student": a.student, "items": a.items, "suite": SUITE, "subsets": a.subsets,
                    "subset_tokens": a.subset_tokens, "subset_lr": a.lr, "conditions": a.conditions,
                    "started": time.strftime("%F %T")}

    # 1. one evaluation of the suite, timed (the base model)
    model, tok = load_model(a.student, device="cpu", dtype="float32")
    t0 = time.perf_counter()
    base_rows = evaluate_model(model, tok, SUITE, limit=a.items)
    eval_s = time.perf_counter() - t0
    n_tasks = base_rows["task"].nunique()
    report["eval_seconds"] = round(eval_s, 1)
    report["eval_items_per_s"] = round(n_tasks * a.items / eval_s, 2)
    report["base"] = base_rows[["task", "metric", "value"]].to_dict("records")
    print(f"[pilot] one {SUITE} evaluation, {a.items} items x {n_tasks} tasks: {eval_s:.0f} s "
          f"({report['eval_items_per_s']} items/s)", flush=True)
    del model

    # 2. dose-response on the student's own samples
    t0 = time.perf_counter()
    corpus = sampled_corpus(P, a.student, a.temperature)
    report["sample_seconds"] = round(time.perf_counter() - t0, 1)
    doses_out = []
    for lr in lrs:
        for dose in doses:
            sub = subset_dirs(make_subsets(corpus, 1, dose, seed=P["seed"]))[0]
            folder, secs = run(P, a.student, sub, lr, a.items)
            items = per_item(folder, "self", 0)
            train = json.loads((folder / "train.json").read_text())
            row = {"tokens": dose, "lr": lr, "seconds": round(secs, 1),
                   "train_seconds": train.get("train_seconds"), "tokens_seen": train.get("tokens_seen"), "tasks": []}
            for (task, metric), g in items.groupby(["task", "metric"]):
                base = g[g["epoch"] == 0].set_index("item")["value"]
                table = g[g["epoch"] == 1][["condition", "subset", "item", "value"]]
                est = paired.delta_ci(table, "self", base)
                row["tasks"].append({"task": task, "metric": metric, "delta": est.estimate, "lo": est.lo,
                                     "hi": est.hi, "se": est.se})
                print(f"[pilot] dose {dose:>6} tok, lr {lr:g}: {task:<14} Δ {est.estimate:+.4f} "
                      f"[{est.lo:+.4f}, {est.hi:+.4f}]", flush=True)
            doses_out.append(row)
    report["dose_response"] = doses_out

    # 3. subset-to-subset spread, self vs replay
    rep = replay_corpus(P, a.student)
    frames, seconds = [], []
    for name, corp in (("self", corpus), ("replay", rep)):
        for i, sub in enumerate(subset_dirs(make_subsets(corp, a.subsets, a.subset_tokens, seed=P["seed"]))):
            folder, secs = run(P, a.student, sub, a.lr, a.items)
            seconds.append(secs)
            frames.append(per_item(folder, name, i))
    items = pd.concat(frames, ignore_index=True)
    comps, contrasts = [], []
    for (task, metric), g in items.groupby(["task", "metric"]):
        base = g[g["epoch"] == 0].groupby("item")["value"].mean()
        table = g[g["epoch"] == 1][["condition", "subset", "item", "value"]]
        vc = sizing.variance_components(table, {"self": 1.0, "replay": -1.0})
        est = paired.contrast_ci(table, "self", "replay")
        d_self = paired.delta_ci(table, "self", base)
        comps.append({"task": task, "metric": metric, "sigma2_subset": vc.sigma2_subset,
                      "sigma2_item": vc.sigma2_item, "sigma2_residual": vc.sigma2_residual})
        contrasts.append({"task": task, "metric": metric, "self_minus_replay": est.estimate, "lo": est.lo,
                          "hi": est.hi, "se": est.se, "self_delta": d_self.estimate, "self_lo": d_self.lo,
                          "self_hi": d_self.hi})
        print(f"[pilot] {a.subsets} subsets x {a.subset_tokens} tok: {task:<14} self−replay "
              f"{est.estimate:+.4f} [{est.lo:+.4f}, {est.hi:+.4f}]; self Δ {d_self.estimate:+.4f} "
              f"[{d_self.lo:+.4f}, {d_self.hi:+.4f}]", flush=True)
        # 4. candidate designs
        for n_s in (1, 2, 3, 4, 6):
            for n_i in (32, 64, 96, 128, 192, 256):
                se = vc.se(n_s, n_i)
                comps.append({"task": task, "metric": metric, "design_subsets": n_s, "design_items": n_i,
                              "se": se, "mde": sizing.mde(se)})
    report["run_seconds_mean"] = round(sum(seconds) / len(seconds), 1)
    report["variance_components"] = [c for c in comps if "design_subsets" not in c]
    report["designs"] = [c for c in comps if "design_subsets" in c]
    report["self_vs_replay"] = contrasts
    report["finished"] = time.strftime("%F %T")
    Path(a.out).write_text(json.dumps(report, indent=2, default=float))
    print(f"[pilot] wrote {a.out}", flush=True)


if __name__ == "__main__":
    main()
