"""Figure 14's evidence: Δ against the base for self and replay at every learning rate of the grid, per
student, with intervals; the verdict rows of the book's three dose claims; and the page prose, all from the
runs of :mod:`resurface.study.dose`.

Each arm is a condition at a rate (``"replay|3e-05"``, :func:`resurface.study.dose.arm`). Every arm of a
student starts from the same base, so the per-item tables of :mod:`resurface.evidence.contrasts` compare
arms directly: Δ against the base (``dose_replay_gentle``, ``dose_replay_harm``) and the paired
difference of two arms (``dose_self_gentler``, the base cancelling), over items and runs. The replay
margin is the regime pilot's (:data:`resurface.study.regime.REPLAY_MARGIN_REL` of the base's score),
fixed before that pilot ran.
"""

from __future__ import annotations

import pandas as pd

from resurface.evidence import claims, contrasts, verdicts
from resurface.evidence.findings import whose_label
from resurface.study import dose, experiments
from resurface.study.regime import REPLAY_MARGIN_REL

FIGURE = "Fig 14"
CLAIM_IDS = ("dose_replay_gentle", "dose_replay_harm", "dose_self_gentler")


def arm_items(results: pd.DataFrame, suite: str) -> pd.DataFrame:
    """Per-item values of every run of one suite, the ``condition`` column naming the arm (condition at
    rate), with ``lr`` and ``role``."""
    frames = []
    for (role, lr), d in results.groupby(["role", "lr"], sort=False):
        items = contrasts.run_items(d)
        items = items[items["suite"] == suite].copy()
        items["condition"] = [dose.arm(c, lr) for c in items["condition"]]
        items["lr"], items["role"] = float(lr), role
        frames.append(items)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def rate(lr: float) -> str:
    """'3e-4' (a learning rate as the pages write it)."""
    return f"{float(lr):.0e}".replace("e-0", "e-")


def self_name(P: dict) -> str:
    return f"self@{float(P['dose_temperature']):g}"


def bands(P: dict, items: pd.DataFrame, pairs) -> pd.DataFrame:
    """Per student, task, arm and epoch: Δ against the base with its 95% interval (``role`` and ``lr`` added)."""
    frames = []
    for role, d in items.groupby("role", sort=False):
        arms = list(dict.fromkeys(d["condition"]))
        b = contrasts.delta_bands(d, d["suite"].iloc[0], [(t, m) for t, m, _ in pairs], arms)
        b["role"] = role
        b["lr"] = [float(a.split("|")[1]) for a in b["condition"]]
        b["kind"] = [a.split("|")[0] for a in b["condition"]]
        frames.append(b)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def verdict_rows(P: dict, items: pd.DataFrame, pairs) -> contrasts.Rows:
    """The rows of the three dose claims, per student and task, at the last planned epoch (before Holm)."""
    out = contrasts.Rows([], [])
    rates = sorted(float(x) for x in P["dose_lrs"])
    low, high = rates[0], rates[-1]
    selfc = self_name(P)
    for role, d in items.groupby("role", sort=False):
        student = P[role]
        suite = d["suite"].iloc[0]
        for task, metric, title in pairs:
            sel = d[(d["task"] == task) & (d["metric"] == metric)]
            epochs = claims.window_epochs("last", P["epochs"], sel["epoch"].unique())
            if not epochs:
                continue
            window = claims.window_text("last", epochs)
            base = contrasts.base_values(d, suite, task, metric)
            margin = REPLAY_MARGIN_REL * abs(float(base.mean()))
            tests = (("dose_replay_gentle", [dose.arm("replay", low)], None, margin, f"replay at lr {rate(low)} vs base"),
                     ("dose_replay_harm", [dose.arm("replay", high)], None, None, f"replay at lr {rate(high)} vs base"),
                     ("dose_self_gentler", [dose.arm(selfc, low)], [dose.arm(selfc, high)], None,
                      f"{selfc} at lr {rate(low)} − at lr {rate(high)}"))
            for cid, a, b, m, what in tests:
                if not set(a + (b or [])) <= set(sel["condition"]):
                    continue
                est = contrasts.window_contrast(d, suite, task, metric, a, b, epochs)
                out.rows.append(verdicts.make_row(claims.CLAIMS[cid], est,
                                                  f"{claims.model_name(student)}, {title}: {metric.split(',')[0]}, "
                                                  f"{what}, {window}",
                                                  margin=m, model=student, figure=FIGURE,
                                                  planned_epochs=P["epochs"]))
                out.meta.append({"benchmark": title, "task": task, "window": window})
    return out


def unrated(P: dict) -> dict:
    """The parameters without a learning rate: a dose row's regime words name no rate (its label does)."""
    return {k: v for k, v in P.items() if k not in ("lr", "lr_by_model")}


def verdict_table(P: dict, items: pd.DataFrame, pairs) -> pd.DataFrame:
    """The page's verdict table (Holm over its rows), annotated with whose claim and the regime."""
    rows = verdict_rows(P, items, pairs)
    return contrasts.annotate(contrasts.page_verdicts(rows.rows), unrated(P), rows.meta)


def evidence(P: dict, results: pd.DataFrame):
    """(items, panels, bands, verdict table) of the figure's runs."""
    suite = P["eval_suite"]
    items = arm_items(results, suite)
    pairs = contrasts.panels(suite, P.get("evidence_metric", "continuous"), items)
    return items, pairs, bands(P, items, pairs), verdict_table(P, items, pairs)


def page_verdicts(P: dict, store=None) -> list[pd.DataFrame]:
    """Figure 14's verdict table as its page computes it (for Figure 1 and ``verdicts.csv``)."""
    q = experiments.figure_params(P, "fig14")
    return [evidence(q, dose.run_study(q, store))[3]]


# ------------------------------------------------------------------------------ page prose
def _iv(r) -> str:
    return f"{r.estimate:+.3f} [{r.lo:+.3f}, {r.hi:+.3f}]"


def describe(P: dict, band: pd.DataFrame, table: pd.DataFrame) -> str:
    """Markdown: per student, where self and replay land at each rate (last epoch), and what the three
    claims' rows conclude, every number from the tables."""
    last = band[band["epoch"] == band["epoch"].max()]
    text = ("Δ against the base after the last epoch (95% intervals over items and runs), per student, task "
            "and learning rate:\n\n")
    rates = sorted(float(x) for x in P["dose_lrs"])
    head = " | ".join(f"{k} at lr {rate(lr)}" for lr in rates for k in ("self", "replay"))
    text += f"| student | task | {head} |\n|" + "---|" * (2 + 2 * len(rates)) + "\n"
    for (role, task, metric), d in last.groupby(["role", "task", "metric"], sort=False):
        cells = []
        for lr in rates:
            for kind in (self_name(P), "replay"):
                r = d[(d["lr"] == lr) & (d["kind"] == kind)]
                cells.append(_iv(r.iloc[0]) if len(r) else "—")
        text += f"| {claims.model_name(P[role])} | {task} ({metric.split(',')[0]}) | " + " | ".join(cells) + " |\n"
    if table is None or table.empty:
        return text + "\nNo dose claim could be tested with the runs of this profile."
    text += "\n"
    for cid in CLAIM_IDS:
        rows = table[table["claim_id"] == cid]
        if rows.empty:
            continue
        counts = rows["verdict"].value_counts()
        text += (f"- *{claims.CLAIMS[cid].text}* {len(rows)} rows: "
                 + "; ".join(f"{int(counts[lab])} {whose_label(lab, True)}" for lab in verdicts.LABELS if lab in counts)
                 + ".\n")
    flips = _sign_flips(last, P)
    if flips:
        text += ("\nWhere the sign of self-training's Δ depends on the dose (its interval above 0 at one rate and "
                 "below 0 at another): " + "; ".join(flips) + ".")
    else:
        text += ("\nNo task shows self-training's Δ clearly above 0 at one rate and clearly below 0 at another: the "
                 "sign of 'self-training helps' does not flip with the dose on this grid, at this resolution.")
    return text


def _sign_flips(last: pd.DataFrame, P: dict) -> list[str]:
    out = []
    s = last[last["kind"] == self_name(P)]
    for (role, task), d in s.groupby(["role", "task"], sort=False):
        up = [rate(lr) for lr in sorted(d.loc[d["lo"] > 0, "lr"])]
        down = [rate(lr) for lr in sorted(d.loc[d["hi"] < 0, "lr"])]
        if up and down:
            out.append(f"{claims.model_name(P[role])} on {task} (above 0 at lr {', '.join(up)}; below at lr {', '.join(down)})")
    return out
