"""Regime pilot: which course dose teaches the student without wrecking it? (rule: resurface.study.regime)

For each course student and each grid point (learning rate x tokens per run x epochs) it trains two
disjoint subsets of the student's own BOS samples (τ = 1) and two of the human replay text, on the
pilot's own seeds (:data:`resurface.study.regime.PILOT_SEEDS`, never the book's), and measures per point

(a) replay's Δ against the base on every course task (the paper's replay stays near 0),
(b) the shift of the student's mean NLL on held-out English (docstrings no replay pool holds) after
    replay training: does training move the student at all; and of its mean NLL on held-out own samples
    (an independent draw at another seed) after self-training: does it drift off its own distribution,
(c) the minimum detectable self − replay effect the book's design (its subsets and items) would reach,
    from the point's variance components, and what a run costs.

After each point the measurements so far go to ``--out`` with ``"partial": true``. Then
:func:`resurface.study.regime.choose` applies the rule fixed before the runs and the result, with
every point's reasons, goes to ``--out`` (JSON), which the page "Which dose does the course train?"
shows. Runs are cached in the artifact store (``RESURFACE_STORE``), so a killed pilot resumes::

    .venv/bin/python benchmarks/pilot_regime.py                                   # both students, default grid
    .venv/bin/python benchmarks/pilot_regime.py --students smollm2-135m --lrs 3e-4,3e-5 --tokens 1024
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import pandas as pd

from resurface.corpus.files import read_corpus
from resurface.corpus.subsets import make_subsets, subset_dirs
from resurface.device import precision_words
from resurface.evaluate.evaluation import make_eval_hook, read_items
from resurface.evidence import contrasts, paired, sizing
from resurface.measures.health import heldout_english
from resurface.study import profiles, regime
from resurface.study.experiments import replay_corpus, sampled_corpus
from resurface.train.training import shared_base_eval, train_run

HELDOUT_TASK = "heldout_own_nll"
ENGLISH_TASK = "heldout_english_nll"


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--profile", default="course", help="course (or smoke, for a quick check)")
    p.add_argument("--students", default=f"{regime.INSTRUCT_STUDENT},{regime.BASE_MODEL_STUDENT}")
    p.add_argument("--lrs", default="3e-4,1e-4,3e-5", help="learning rates (the first is the current regime's)")
    p.add_argument("--tokens", default="1024,4096", help="tokens per run (the first is the current regime's)")
    p.add_argument("--epochs", default="1", help="epochs per run (the first is the current regime's)")
    p.add_argument("--subsets", type=int, default=2, help="disjoint subsets per corpus and point")
    p.add_argument("--heldout", type=int, default=32, help="held-out own samples scored for (b)")
    p.add_argument("--out", default="benchmarks/pilot_regime.json")
    return p.parse_args()


def heldout_hook(P: dict, texts: list[str], english: list[str], suite: str, items: int, seed: int, store):
    """The course suite plus per-text NLL of the held-out own samples (task ``heldout_own_nll``) and of
    held-out English (task ``heldout_english_nll``)."""
    from resurface.measures.proxies import text_nll

    suite_hook = make_eval_hook([suite], limit=items, seed=seed)

    def hook(model, tokenizer, epoch: int) -> list[dict]:
        rows = suite_hook(model, tokenizer, epoch)
        got = suite_hook.items.pop(epoch, [])
        for task, docs in ((HELDOUT_TASK, texts), (ENGLISH_TASK, english)):
            nll = text_nll(model, tokenizer, docs, max_tokens=P["nll_max_tokens"])
            got += [{"run": "", "epoch": epoch, "suite": "pilot", "task": task, "item": i,
                     "metric": "mean_nll,none", "value": r["mean_nll"]} for i, r in enumerate(nll)]
            rows.append({"suite": "pilot", "task": task, "metric": "mean_nll,none", "stderr": None,
                         "value": float(pd.Series([r["mean_nll"] for r in nll]).mean())})
        hook.items[epoch] = got
        return rows

    hook.items = {}
    config = {"suite": suite, "items": items, "seed": seed, "heldout": len(texts),
              "texts": hash_texts(texts), "english": hash_texts(english), "nll_max_tokens": P["nll_max_tokens"]}
    wrapped = shared_base_eval(hook, store, {"regime_pilot_hook": config})
    wrapped.key_name = f"regime-pilot-hook[{json.dumps(config, sort_keys=True)}]"
    return wrapped


def hash_texts(texts: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\x1e".join(texts).encode()).hexdigest()[:16]


def point_result(student: str, lr: float, tokens: int, epochs: int, frames: list[pd.DataFrame],
                 seconds: list[float], design: tuple[int, int]) -> tuple[regime.GridPoint, dict]:
    """Reduce one point's runs to the rule's inputs and a JSON record."""
    items = pd.concat(frames, ignore_index=True)
    tasks, record_tasks = [], []
    nll_hi, nll, own_base = float("inf"), {}, float("nan")
    english_hi, english = float("inf"), {}
    for (task, metric), g in items.groupby(["task", "metric"]):
        base = g[g["epoch"] == 0].groupby("item")["value"].mean()
        table = g[g["epoch"] == epochs][["condition", "subset", "item", "value"]]
        if task in (HELDOUT_TASK, ENGLISH_TASK):  # self drifts on its own samples; replay learns English
            cond = "self" if task == HELDOUT_TASK else "replay"
            est = paired.delta_ci(table[table["condition"] == cond], cond, base)
            rec = {"estimate": est.estimate, "lo": est.lo, "hi": est.hi, "base": float(base.mean())}
            if task == HELDOUT_TASK:
                nll_hi, nll, own_base = est.hi, rec, float(base.mean())
            else:
                english_hi, english = est.hi, rec
            continue
        if metric not in contrasts.CONTINUOUS_METRICS:
            continue
        rep = paired.delta_ci(table, "replay", base)
        slf = paired.delta_ci(table, "self", base)
        vc = sizing.variance_components(table, {"self": 1.0, "replay": -1.0})
        mde = sizing.mde(vc.se(design[0], design[1] or int(table["item"].nunique())))
        tasks.append(regime.TaskResult(task, float(base.mean()), rep.lo, rep.hi, mde))
        record_tasks.append({"task": task, "metric": metric, "base": float(base.mean()),
                             "replay": {"estimate": rep.estimate, "lo": rep.lo, "hi": rep.hi},
                             "self": {"estimate": slf.estimate, "lo": slf.lo, "hi": slf.hi},
                             "mde_book_design": mde})
    point = regime.GridPoint(student, lr, tokens, epochs, tuple(tasks), nll_hi, sum(seconds) / len(seconds),
                             english_shift_hi=english_hi, own_base_nll=own_base)
    return point, {"student": student, "lr": lr, "tokens": tokens, "epochs": epochs, "tasks": record_tasks,
                   "heldout_nll_shift": nll, "heldout_english_shift": english, "run_seconds": point.run_seconds,
                   "median_mde": point.median_mde}


def main() -> None:
    a = parse()
    students = [s for s in a.students.split(",") if s]
    lrs = [float(x) for x in a.lrs.split(",") if x]
    token_grid = [int(x) for x in a.tokens.split(",") if x]
    epoch_grid = [int(x) for x in a.epochs.split(",") if x]
    seed, heldout_seed = regime.PILOT_SEEDS
    report: dict = {"rule": regime.RULE_TEXT, "rule_version": regime.RULE_VERSION,
                    "rule_history": regime.RULE_HISTORY, "subsets": a.subsets, "seeds": list(regime.PILOT_SEEDS), "started": time.strftime("%F %T"),
                    "machine": platform.processor() or platform.machine(), "points": [], "choices": {}}
    points: list[regime.GridPoint] = []
    reference: dict[str, float] = {}
    for student in students:
        need = max(token_grid) * a.subsets * 2  # disjoint subsets; the audit drops a few samples
        P = profiles.resolve(a.profile, None, {"seed": seed, "student": student,
                                               "num_samples": max(64, need // 40)})
        report["precision"] = precision_words(P["dtype"], "cpu")
        design = (P["num_subsets"], P["eval_limit"])
        own = sampled_corpus(P, student, 1.0)
        held = sampled_corpus({**P, "seed": heldout_seed, "num_samples": a.heldout}, student, 1.0)
        texts = [r["text"] for r in read_corpus(held)]
        rep = replay_corpus(P, student)
        english = [r["text"] for r in read_corpus(heldout_english({**P, "seed": heldout_seed}, rep, None))]
        hook = heldout_hook(P, texts, english, P["eval_suite"], P["eval_limit"], seed, None)
        for lr in lrs:
            for tokens in token_grid:
                for epochs in epoch_grid:
                    frames, seconds = [], []
                    for name, corpus in (("self", own), ("replay", rep)):
                        subs = subset_dirs(make_subsets(corpus, a.subsets, tokens, seed=seed, draw="disjoint"))
                        for i, sub in enumerate(subs):
                            t0 = time.perf_counter()
                            folder = train_run(student, sub, epochs=epochs, lr=lr, warmup_ratio=P["warmup_ratio"],
                                               block_size=P["block_size"], batch_size=P["batch_size"],
                                               effective_batch=P["effective_batch"], seed=seed, eval_hook=hook,
                                               device=P["device"], dtype=P["dtype"], progress=False)
                            info = json.loads((Path(folder) / "train.json").read_text())
                            seconds.append(float(info.get("wall_seconds", time.perf_counter() - t0)))
                            d = read_items(folder)
                            d["condition"], d["subset"] = name, i
                            frames.append(d)
                    point, record = point_result(student, lr, tokens, epochs, frames, seconds, design)
                    points.append(point)
                    report["points"].append(record)
                    if (lr, tokens, epochs) == (lrs[0], token_grid[0], epoch_grid[0]):
                        reference[student] = point.run_seconds
                    Path(a.out).write_text(json.dumps({**report, "partial": True}, indent=2, default=float))
                    print(f"[pilot] {student} lr {lr:g} {tokens} tok {epochs} ep: median MDE "
                          f"{point.median_mde:.4f}, own-sample NLL shift <= {point.nll_shift_hi:+.4f}, "
                          f"English NLL shift (replay) <= {point.english_shift_hi:+.4f}, "
                          f"{point.run_seconds:.0f} s/run", flush=True)
    choices = regime.choose(points, reference)
    for student, c in choices.items():
        report["choices"][student] = {
            "chosen": None if c.chosen is None else {"lr": c.chosen.lr, "tokens": c.chosen.tokens,
                                                     "epochs": c.chosen.epochs, "median_mde": c.chosen.median_mde},
            "reasons": {f"{lr:g} x {tokens} x {epochs}": why for (lr, tokens, epochs), why in c.reasons.items()}}
        print(f"[pilot] {student}: {report['choices'][student]['chosen'] or 'no qualifying point'}", flush=True)
    report["main_student"] = regime.main_student(choices)
    report["reference_seconds"] = reference
    report["finished"] = time.strftime("%F %T")
    report["partial"] = False
    Path(a.out).write_text(json.dumps(report, indent=2, default=float))
    print(f"[pilot] wrote {a.out}", flush=True)


if __name__ == "__main__":
    main()
