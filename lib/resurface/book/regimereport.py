"""Tables of the regime pilot (``benchmarks/pilot_regime.py``) for the page "Which dose does the course train?".

The pilot's measurements live in ``benchmarks/pilot_regime.json``; :func:`write_tables` turns them into
the markdown the page includes: the rule (fixed before the runs, :mod:`resurface.study.regime`), every
grid point with replay's Δ, the held-out NLL shift, the projected MDE and the reasons it does or does not
qualify, and the chosen point per student.
"""

from __future__ import annotations

from pathlib import Path

from resurface.book.pilotreport import write_report
from resurface.evidence.claims import model_key, model_name
from resurface.paths import generated_dir, repo_root
from resurface.study import figures
from resurface.study.profiles import lr_for

REGIME_FILE = Path("benchmarks") / "pilot_regime.json"
PLANTING_FILE = Path("benchmarks") / "pilot_planting.json"
SKILL_PLANTING_FILE = Path("benchmarks") / "pilot_planting_skill.json"
BURIAL_FILE = Path("benchmarks") / "pilot_burial.json"
BURIAL_8K_FILE = Path("benchmarks") / "pilot_burial_8k.json"  # the same pilot with 8,192 replay tokens per epoch


def _ci(d: dict) -> str:
    return f"{d['estimate']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]"


def tables(report: dict) -> str:
    """Markdown: the rule, the grid per student, the choice."""
    version = report.get("rule_version", 1)
    out = [f"**The rule** (version {version}, written in `resurface.study.regime` before the runs it was "
           f"applied to): {report['rule']}", ""]
    if report.get("rule_history"):
        out += [f"**Why a second version.** {report['rule_history']}", ""]
    out += [
           f"Pilot seeds {', '.join(map(str, report['seeds']))} (the book uses none of them); "
           + (f"{report['subsets']} training subsets per corpus and point; " if report.get("subsets") else "")
           + f"{report.get('precision', '')}; started {report['started']}, "
           + (f"finished {report['finished']}." if report.get("finished") else "not finished."), ""]
    students = list(dict.fromkeys(p["student"] for p in report["points"]))
    for student in students:
        pts = [p for p in report["points"] if p["student"] == student]
        tasks = list(dict.fromkeys(t["task"] for p in pts for t in p["tasks"]))
        choice = report["choices"].get(student, {})
        reasons = choice.get("reasons", {})
        out += [f"## {model_name(student)}", "",
                "Replay's Δ against the base per task [95% CI]; the replay runs' shift of held-out English "
                "NLL and the self runs' shift of held-out own-sample NLL (nats/token); the median MDE of "
                "self − replay at the book's design; seconds per run.", "",
                "| lr | tokens | epochs | " + " | ".join(f"replay `{t}`" for t in tasks)
                + " | English NLL shift (replay) | own-sample NLL shift (self) | median MDE | s/run | qualifies |",
                "|---|---|---|" + "---|" * len(tasks) + "---|---|---|---|---|"]
        for p in pts:
            by = {t["task"]: t for t in p["tasks"]}
            why = reasons.get(f"{p['lr']:g} x {p['tokens']} x {p['epochs']}", [])
            cells = [_ci(by[t]["replay"]) if t in by else "" for t in tasks]
            nll = _ci(p["heldout_nll_shift"]) if p.get("heldout_nll_shift") else "n/a"
            eng = _ci(p["heldout_english_shift"]) if p.get("heldout_english_shift") else "n/a"
            out.append(f"| {p['lr']:g} | {p['tokens']:,} | {p['epochs']} | " + " | ".join(cells)
                       + f" | {eng} | {nll} | {p['median_mde']:.4f} | {p['run_seconds']:.0f} | "
                       + ("not applied yet" if report.get("partial") else "yes" if not why else "no (reasons below)")
                       + " |")
        chosen = choice.get("chosen")
        if report.get("partial"):
            continue
        failed = [(p, reasons.get(f"{p['lr']:g} x {p['tokens']} x {p['epochs']}", [])) for p in pts]
        if any(why for _, why in failed):
            out += ["", "Why a point does not qualify:", ""]
            out += [f"- lr {p['lr']:g}, {p['tokens']:,} tokens, {p['epochs']} epoch(s) — no: " + "; ".join(why)
                    for p, why in failed if why]
        out += ["", (f"**Chosen for {model_name(student)}:** lr {chosen['lr']:g}, {chosen['tokens']:,} tokens per "
                     f"run, {chosen['epochs']} epoch(s) (median MDE {chosen['median_mde']:.4f})."
                     if chosen else f"**No grid point qualifies for {model_name(student)}**: the book keeps its "
                     "regime, and its pages state the damage."), ""]
    if report.get("partial"):
        out.append("**The pilot has not finished:** the points above are the ones measured so far; the rule "
                   "has not been applied.")
    else:
        out.append(f"**Main student by the rule:** {model_name(report['main_student'])}.")
    return "\n".join(out)


def _rule_lines(report: dict, applied_to: str, design: str) -> list[str]:
    """A pilot table's opening lines: its rule with the version, then ``design`` and when it ran."""
    return [f"**The rule** (version {report['rule_version']}, written in `resurface.study.regime` before the "
            f"{applied_to} it was applied to): {report['rule']}", "",
            design + f"started {report['started']}, "
            + (f"finished {report['finished']}." if report.get("finished") else "not finished."), ""]


def planting_tables(report: dict) -> str:
    """Markdown: a planting rule, every planting tried (what it planted: the extractable share of the
    pool, or K's dev-probe gap; general NLL against the base's; cost; reasons) and the chosen one."""
    skill = report.get("figure") == 13
    what = "K's dev-probe gap [95% CI]" if skill else "extractable"
    out = _rule_lines(report, "plantings",
                      f"{model_name(report['model'])}, one planting per point on the pilot seed {report['seed']} "
                      f"(the book uses another), {report['passes']} passes, general-text rows of "
                      f"{report['mix_tokens']} tokens; ") + [
           f"| planting lr | replay documents per pass | {what} | held-out English NLL, base → planted "
           "(nats/token) | Δ per text [95% CI] | relative | s | qualifies |",
           "|---|---|---|---|---|---|---|---|"]
    reasons = report.get("reasons", {})
    for p in report["points"]:
        why = reasons.get(f"{p['lr']:g} x {p['mix_docs']}", [])
        verdict = ("not applied yet" if report.get("partial") else "yes" if not why else "no (reasons below)")
        got = (f"{p['gap']:+.3f} [{p['gap_lo']:+.3f}, {p['gap_hi']:+.3f}]" if skill
               else f"{p['extracted']:.0%} of {p['sequences']}")
        out.append(f"| {p['lr']:g} | {p['mix_docs']} | {got} | "
                   f"{p['base_nll']:.2f} → {p['planted_nll']:.2f} | "
                   f"{p['delta']['delta']:+.3f} [{p['delta']['lo']:+.3f}, {p['delta']['hi']:+.3f}] | "
                   f"{p['health_relative']:+.0%} | {p['seconds']:.0f} | {verdict} |")
    failed = [(p, reasons.get(f"{p['lr']:g} x {p['mix_docs']}", [])) for p in report["points"]]
    if not report.get("partial") and any(why for _, why in failed):
        out += ["", "Why a planting does not qualify:", ""]
        out += [f"- lr {p['lr']:g}, {p['mix_docs']} replay documents per pass — no: " + "; ".join(why)
                for p, why in failed if why]
    out.append("")
    pages = "Figure 13's page shows" if skill else "the pages of Figures 7 and 8 show"
    if report.get("partial"):
        out.append("**This planting pilot has not finished:** the rule has not been applied.")
    elif report.get("chosen"):
        c = report["chosen"]
        got = f"dev-probe gap {c['gap']:+.3f}" if skill else f"{c['extracted']:.0%} extractable"
        out.append(f"**Chosen:** lr {c['lr']:g} with {c['mix_docs']} replay documents per pass "
                   f"({got}, held-out English {c['health_relative']:+.0%} of the base's).")
    else:
        out.append(f"**No planting qualifies:** the book keeps today's planting, and {pages} the planted "
                   "model's damage next to the base's NLL.")
    return "\n".join(out)


def burial_tables(report: dict) -> str:
    """Markdown: the burial rule, K's dev gap left (share of the planted gap) and held-out English against
    the unplanted model's after every burial epoch at every rate tried, and the chosen length and rate."""
    runs = report["runs"]
    epochs = max((len(r["fraction_left"]) for r in runs), default=0)
    out = _rule_lines(report, "burials",
                      f"{model_name(report['model'])} planted with K, buried on the pilot seed {report['seed']} "
                      f"(the book uses another) for {report['epochs']} epochs of {report['tokens_per_epoch']:,} "
                      "replay tokens at each rate; ") + [
           "Each cell: K's dev-probe gap as a share of the planted gap / held-out English NLL relative to the "
           "unplanted model's.", "",
           "| burial lr | planted | " + " | ".join(f"epoch {e}" for e in range(1, epochs + 1)) + " |",
           "|---|---|" + "---|" * epochs]
    chosen = report.get("chosen") or {}
    for r in runs:
        cells = []
        for e, (f, h) in enumerate(zip(r["fraction_left"], r["health_relative"]), start=1):
            cell = f"{f:.0%} / {h:+.0%}"
            cells.append(f"**{cell}**" if chosen and chosen["lr"] == r["lr"] and chosen["epochs"] == e else cell)
        cells += [""] * (epochs - len(cells))
        out.append(f"| {r['lr']:g} | 100% / {r['planted_health_relative']:+.0%} | " + " | ".join(cells) + " |")
    out.append("")
    if report.get("partial"):
        out.append("**This burial pilot has not finished:** the rule has not been applied.")
    elif chosen:
        out.append(f"**Chosen:** {chosen['epochs']} burial epochs at lr {chosen['lr']:g} (K's dev gap "
                   f"{chosen['fraction_left']:.0%} of the planted gap, held-out English "
                   f"{chosen['health_relative']:+.0%} of the unplanted model's); Figure 13 buries for exactly "
                   "that long.")
    else:
        out.append(f"**No burial qualifies at {report['tokens_per_epoch']:,} replay tokens per epoch.** Without a "
                   "qualifying burial at any amount of text the pilots tried, Figure 13 keeps its stopping rule and "
                   "its page shows the buried model's held-out English next to the base's.")
    return "\n".join(out)


DOSE_FIGURE = "regime_dose.png"
SHORT_METRICS = {"logp_gold_norm,none": "Δ log p(gold), normalised", "neg_bpb,none": "Δ −bits/byte of the gold answer"}


def dose_figure(report: dict, path: Path) -> Path:
    """Δ against the base of self-training and of replay over the pilot's learning rates, per student
    (rows) and course task (columns), one line per token count, with 95% intervals: how the sign of
    "self-training helps" depends on the dose. Written to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from resurface.conditions import condition_color

    students = list(dict.fromkeys(p["student"] for p in report["points"]))
    tasks = list(dict.fromkeys(t["task"] for p in report["points"] for t in p["tasks"]))
    fig, axes = plt.subplots(len(students), len(tasks), figsize=(2.6 * len(tasks), 2.5 * len(students)),
                             squeeze=False, sharex=True)
    tokens = sorted({p["tokens"] for p in report["points"]})
    styles = dict(zip(tokens, ("-", "--", ":", "-.")))
    for i, student in enumerate(students):
        pts = [p for p in report["points"] if p["student"] == student]
        for j, task in enumerate(tasks):
            ax = axes[i][j]
            for tok in tokens:
                line = sorted((p for p in pts if p["tokens"] == tok), key=lambda p: p["lr"])
                for k, (side, name) in enumerate((("self", "self@1"), ("replay", "replay"))):
                    got = [(p["lr"], t[side]) for p in line for t in p["tasks"] if t["task"] == task]
                    if not got:
                        continue
                    x = [lr * (1.06 if k else 0.94) for lr, _ in got]  # self and replay side by side
                    y = [d["estimate"] for _, d in got]
                    err = [[d["estimate"] - d["lo"] for _, d in got], [d["hi"] - d["estimate"] for _, d in got]]
                    ax.errorbar(x, y, yerr=err, color=condition_color(name), ls=styles[tok], marker="o", ms=3,
                                capsize=2, lw=1.2, label=f"{side}, {tok:,} tokens")
            ax.axhline(0, color="0.5", lw=0.8)
            ax.set_xscale("log")
            lrs = sorted({p["lr"] for p in report["points"]})
            ax.set_xticks(lrs, [f"{lr:.0e}".replace("e-0", "e-") for lr in lrs])
            ax.minorticks_off()
            metric = next((t["metric"] for p in pts for t in p["tasks"] if t["task"] == task), "")
            ax.set_title(f"{task}\n{SHORT_METRICS.get(metric, metric)}", fontsize=8)
            if j == 0:
                ax.set_ylabel(f"{model_name(student).split(' (')[0]}\nΔ against the base", fontsize=8)
            if i == len(students) - 1:
                ax.set_xlabel("learning rate", fontsize=8)
            ax.tick_params(labelsize=7)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=max(1, len(labels)), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def trained_keys(P: dict) -> list[str]:
    """The parameters naming the models whose runs a page shows: the figure's trained students
    (:mod:`resurface.study.figures`) and the model its verdict rows are about; the overview shows every
    figure's. Without a figure (``P['fig']``), every student parameter."""
    fig = P.get("fig")
    if not fig:
        return ["student", "second_student", "memorization_model"]
    rec = figures.get(fig)
    if rec.finding == "overview":
        return ["student", "second_student"]
    return list(dict.fromkeys([*rec.needs.get("students", ("student",)), model_key(figures.label(fig))]))


def dose_note(P: dict, source: Path | None = None) -> str:
    """A sentence for a course page whose runs train a student for which the finished pilot found no
    qualifying dose: that student keeps the stronger dose, named with its rate, and replay is its
    control. Empty where the pilot is missing or unfinished, or chose a dose for every student here."""
    if P.get("dose_lrs"):  # a page that varies the dose itself (Figure 14) names each run's rate in its rows
        return ""
    import json

    src = source or repo_root() / REGIME_FILE
    try:
        report = json.loads(Path(src).read_text())
    except (OSError, ValueError):
        return ""
    if report.get("partial") or not report.get("choices"):
        return ""
    students = [s for s in dict.fromkeys(P.get(k) for k in trained_keys(P))
                if s in report["choices"] and not report["choices"][s].get("chosen")]
    if not students or "lr" not in P:
        return ""
    doses = " and ".join(f"{model_name(s)} at lr {lr_for(P, s):.0e}".replace("e-0", "e-") for s in students)
    return (f" **The dose.** The regime pilot found no gentle dose that passed its rule (fixed before the runs; "
            f"see *Which dose does the course train?*) for {' and '.join(model_name(s) for s in students)}, "
            f"so the runs here keep the course's stronger dose: {doses}, "
            f"{int(P.get('tokens_per_subset', 0)):,} tokens per run, far stronger per token than the paper's "
            "gentle, long runs. Read every self-training Δ of theirs next to replay's, which shows what the dose does "
            "to the student by itself.")


def write_tables(path: Path | None = None, source: Path | None = None, planting: Path | None = None,
                 skill: Path | None = None, burial: Path | None = None) -> Path:
    """Write the pilots' tables for the book (a note instead of each pilot that has not been run): the
    dose pilot's to ``path``, the planting and burial pilots' beside it (``planting_tables.md``,
    ``skill_planting_tables.md``, ``burial_tables.md``, ``burial_8k_tables.md``)."""
    out = write_report(path or generated_dir() / "regime_tables.md", source or repo_root() / REGIME_FILE, tables,
                       f"_The regime pilot has not been run in this checkout: `{REGIME_FILE}` is missing (see "
                       "`benchmarks/pilot_regime.py`)._")
    write_report(out.parent / "planting_tables.md", planting or repo_root() / PLANTING_FILE, planting_tables,
                 f"_The planting pilot has not been run in this checkout: `{PLANTING_FILE}` is missing (see "
                 "`benchmarks/pilot_planting.py`)._")
    src = Path(source or repo_root() / REGIME_FILE)
    figure = out.parent / DOSE_FIGURE
    if src.exists():
        import json

        dose_figure(json.loads(src.read_text()), figure)
        out.write_text(out.read_text() + f"\n![Δ against the base of self-training and replay over the pilot's "
                       f"learning rates](_generated/{DOSE_FIGURE})\n\n*Self-training (own samples, τ = 1) and replay: Δ "
                       "against the base per course task and learning rate, one line per token count, with "
                       "95% intervals over the pilot's runs and items.*\n")
    elif figure.exists():
        figure.unlink()
    write_report(out.parent / "skill_planting_tables.md", skill or repo_root() / SKILL_PLANTING_FILE,
                 planting_tables, f"_Figure 13's planting pilot has not been run in this checkout: "
                 f"`{SKILL_PLANTING_FILE}` is missing (see `benchmarks/pilot_planting.py --figure 13`)._")
    write_report(out.parent / "burial_tables.md", burial or repo_root() / BURIAL_FILE, burial_tables,
                 f"_Figure 13's burial pilot has not been run in this checkout: `{BURIAL_FILE}` is missing (see "
                 "`benchmarks/pilot_burial.py`)._")
    write_report(out.parent / "burial_8k_tables.md", repo_root() / BURIAL_8K_FILE, burial_tables,
                 f"_The burial pilot with more text per epoch has not been run in this checkout: `{BURIAL_8K_FILE}` "
                 "is missing (see `benchmarks/pilot_burial.py --tokens 8192`)._")
    return out
