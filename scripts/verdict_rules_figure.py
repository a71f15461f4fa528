"""Draw the verdict rules, ``docs/img/verdict_rules.png`` (the Methods page's picture): for each kind
of claim, intervals at typical positions against the threshold and margin, each labelled with the word
:func:`resurface.evidence.verdicts.decide` gives it (the picture is computed from the rule, not drawn
by hand).

    .venv/bin/python scripts/verdict_rules_figure.py [--out docs/img/verdict_rules.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from resurface.evidence.verdicts import AGREES, CONTRADICTS, INCONCLUSIVE, decide  # noqa: E402

COLOURS = {AGREES: "#1b7837", CONTRADICTS: "#b2182b", INCONCLUSIVE: "#6b6b6b"}
WORDS = {AGREES: "agrees", CONTRADICTS: "contradicts", INCONCLUSIVE: "inconclusive"}

# kind, title, threshold, margin, intervals (lo, hi) from top to bottom
PANELS = [
    ("direction", "direction: A > B", 0.0, None,
     [(0.15, 0.75), (-0.3, 0.5), (-0.75, -0.15)]),
    ("threshold", "threshold: drop > 95%", 0.95, None,
     [(0.955, 0.99), (0.93, 1.0), (0.86, 0.94)]),
    ("equivalence", "equivalence: |Δ| < m", 0.0, 0.5,
     [(-0.35, 0.4), (0.02, 0.55), (-0.8, 0.8), (0.6, 0.95)]),
    ("noninferiority", "non-inferiority: Δ > −m", 0.0, 0.5,
     [(-0.4, 0.3), (-0.6, -0.1), (-0.95, -0.6)]),
]


def draw(out: Path) -> Path:
    """Write the figure to ``out`` (PNG, 10 x 4 in, 150 dpi) and return the path."""
    fig, axes = plt.subplots(1, 4, figsize=(10, 4), constrained_layout=True)
    for ax, (kind, title, t, m, intervals) in zip(axes, PANELS):
        span = (0.84, 1.01) if kind == "threshold" else (-1.0, 1.0)
        if m is not None:
            lo_zone = t - m
            hi_zone = t + m if kind == "equivalence" else span[1]
            ax.axvspan(lo_zone, hi_zone, color="#d9f0d3", zorder=0,
                       label="inside the margin" if kind == "equivalence" else "tolerated")
            ax.axvline(lo_zone, color="#5aae61", lw=1, ls="--")
            if kind == "equivalence":
                ax.axvline(hi_zone, color="#5aae61", lw=1, ls="--")
        ax.axvline(t, color="black", lw=1)
        n = len(intervals)
        for j, (lo, hi) in enumerate(intervals):
            y = n - j
            word = decide(lo, hi, kind=kind, threshold=t, margin=m)
            c = COLOURS[word]
            ax.plot([lo, hi], [y, y], color=c, lw=4, solid_capstyle="butt")
            ax.plot([(lo + hi) / 2], [y], "o", color="white", mec=c, ms=6, zorder=3)
            ax.text((lo + hi) / 2, y + 0.28, WORDS[word], ha="center", va="bottom", color=c, fontsize=10,
                    fontweight="bold")
        ax.set_xlim(*span)
        ax.set_ylim(0.4, n + 0.9)
        ax.set_yticks([])
        ticks = [t] if m is None else ([t - m, t, t + m] if kind == "equivalence" else [t - m, t])
        names = {t: "t", t - (m or 0): "t − m", t + (m or 0): "t + m"} if m else {t: "t"}
        ax.set_xticks(ticks, [names[x] for x in ticks] if kind != "threshold" else ["0.95"])
        ax.set_title(title, fontsize=11)
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
    fig.suptitle("Verdict rules: the position of the 95% interval against the threshold t and margin m",
                 fontsize=12)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "verdict_rules.png")
    print(draw(ap.parse_args(argv).out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
