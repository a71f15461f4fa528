"""The Teaching page's exercises: each one a command that reruns figure notebooks with other
parameters, and, once run, a short answer block computed from what the run produced.

``python -m resurface.book.exercises list`` lists them; ``python -m resurface.book.exercises run ID
[--profile course]`` (or ``make exercise EX=ID``) executes the exercise's notebooks into
``book/_generated/exercises/ID/`` (the book's own pages are left alone; everything already computed is
reused from the artifact store) and writes ``book/_generated/exercises/ID.md``: the cost measured on this
machine (minutes, and its number of cores) and, folded, what the runs show (each page's verdict
summary: the paper's claim tested on this run's intervals). The Teaching page includes that block;
until the exercise has been run on the machine that builds the book, the block says so instead of
showing a number nobody measured.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from resurface.book.execute import run_figure
from resurface.paths import generated_dir
from resurface.study.figures import notebooks as figure_notebooks


@dataclass(frozen=True)
class Exercise:
    id: str
    figures: tuple[str, ...]
    overrides: dict = field(default_factory=dict)

    def command(self, profile: str = "course") -> str:
        params = " ".join(f"-p {k} " + (v if isinstance(v, str) else json.dumps(v) if isinstance(v, (int, float))
                                         else f"'{json.dumps(v)}'")
                          for k, v in self.overrides.items())
        return f"resurface figures --profile {profile} --only {','.join(self.figures)} {params}".strip()


EXERCISES = (
    Exercise("temperature", ("fig02",), {"temperatures": [0.5, 1.5]}),
    Exercise("transient", ("fig02",), {"epochs": 6}),
    Exercise("band", ("fig02",), {"num_subsets": 4}),
    Exercise("whose-data", ("fig05", "fig10")),
    Exercise("threshold", ("fig04",), {"similarity_threshold_rule": "fixed", "similarity_threshold": 0.3}),
    Exercise("scorer", ("fig06", "fig11")),
    Exercise("attack", ("fig08",), {"prefix_tokens": 8}),
    Exercise("longer", ("fig07", "fig08"), {"epochs": 4}),
    Exercise("sibling", ("fig12",), {"siblings": [
        {"name": "sib-human", "data": "replay", "tokens": 16000, "epochs": 1, "lr": 1.0e-4},
        {"name": "sib-cross", "data": "cross", "tokens": 4000, "epochs": 1, "lr": 1.0e-4}]}),
    Exercise("burial-deep", ("fig13",), {"bury_epochs": 12, "plantings": 1}),
    Exercise("burial-shallow", ("fig13",), {"bury_epochs": 1, "plantings": 1}),
    Exercise("dose-gentle", ("fig14",), {"dose_lrs": [3.0e-6, 3.0e-5]}),
)
BY_ID = {e.id: e for e in EXERCISES}


def answers_dir() -> Path:
    return generated_dir() / "exercises"


SUMMARY_STARTS = ("- **The paper reports", "- **The book's own claim")


def _summaries(page: Path) -> list[str]:
    """The verdict summary an executed page shows (the claim lines of
    :func:`resurface.evidence.findings.verdict_summary`, without the table under them), else its last
    Markdown output."""
    nb = json.loads(page.read_text(encoding="utf-8"))
    texts = []
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            t = o.get("data", {}).get("text/markdown")
            if t is not None:
                texts.append("".join(t) if isinstance(t, list) else t)
    claims = [t.split("\n\n", 1)[0] for t in texts if t.startswith(SUMMARY_STARTS)]
    return claims or [line for line in texts[-1:] if line]


def answer_block(ex: Exercise, profile: str, seconds: float, pages: dict[str, Path]) -> str:
    """The Markdown block the Teaching page shows under the exercise."""
    cores = os.cpu_count() or 1
    lines = [f"*Cost:* **{seconds / 60:.1f} min** in the {profile} profile, measured on a {cores}-core "
             f"machine on {time.strftime('%Y-%m-%d')} (`{ex.command(profile)}`; runs already in the store "
             "were reused).", "", "<details><summary>Answer: what the runs showed</summary>", ""]
    for fig, page in pages.items():
        for text in _summaries(page):
            lines += [f"**Figure {int(fig[3:])}.**", "", text, ""]
    lines += ["</details>"]
    return "\n".join(lines) + "\n"


PENDING = ("*Cost and answer:* not measured on the machine that built this book yet: run "
           "`make exercise EX={id}` (or `python -m resurface.book.exercises run {id}`), then `make book`, "
           "and this block shows the minutes it took and, folded, what the runs showed.\n")


def write_pending(out: Path | None = None) -> list[Path]:
    """A block for every exercise that has no computed answer yet (the Teaching page includes all)."""
    out = Path(out or answers_dir())
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for ex in EXERCISES:
        path = out / f"{ex.id}.md"
        if not path.exists():
            path.write_text(PENDING.format(id=ex.id), encoding="utf-8")
            written.append(path)
    return written


def run(ex_id: str, profile: str = "course") -> Path:
    """Run the exercise's notebooks with its overrides and write its answer block; return the block.

    The cost is each page's execution time: measured now, or, for a page the page cache reuses
    (notebook, parameters, library and packages unchanged), the time recorded when it was executed,
    so running an exercise again does not turn its cost into the seconds a reused page takes."""
    ex = BY_ID[ex_id]
    nbs = figure_notebooks()
    out = answers_dir() / ex.id
    seconds = 0.0
    pages = {}
    for fig in ex.figures:  # the pages and their figure files go to out/, never over the book's
        with mock.patch.dict(os.environ, {"RESURFACE_GENERATED": str(out)}):
            row = run_figure(fig, nbs[fig], profile, dict(ex.overrides), out_dir=out)
        if row["status"] != "ok":
            raise SystemExit(f"{ex.id}: {fig} {row['status']}")
        reused = row.get("reused") and row.get("executed_seconds") is not None
        seconds += float(row["executed_seconds"] if reused else row["seconds"])
        pages[fig] = out / nbs[fig].name
    path = answers_dir() / f"{ex.id}.md"
    path.write_text(answer_block(ex, profile, seconds, pages), encoding="utf-8")
    print(f"[exercise] {ex.id}: answer -> {path}")
    return path


def run_all(profile: str = "course") -> list[Path]:
    """Every exercise in turn (``make exercises``; the publishing workflow runs it, so the published
    Teaching page has every cost and answer). Pages already current are reused, so a rerun after a
    change re-executes only the exercises it touches. An exercise that fails is reported and the others
    still run; the exit status says whether any failed."""
    done, failed = [], []
    for ex in EXERCISES:
        print(f"[exercise] {ex.id}: {ex.command(profile)}", flush=True)
        try:
            done.append(run(ex.id, profile))
        except SystemExit as exc:
            failed.append(f"{ex.id} ({exc})")
    if failed:
        raise SystemExit("exercises that failed: " + "; ".join(failed))
    return done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m resurface.book.exercises", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="the exercises and their commands")
    r = sub.add_parser("run", help="run one exercise and write its answer block")
    r.add_argument("id", choices=sorted(BY_ID))
    r.add_argument("--profile", default="course")
    a = sub.add_parser("run-all", help="run every exercise (pages already current are reused)")
    a.add_argument("--profile", default="course")
    args = ap.parse_args(argv)
    if args.cmd == "list":
        for ex in EXERCISES:
            print(f"{ex.id:12s} {ex.command()}")
        return 0
    if args.cmd == "run-all":
        run_all(args.profile)
        return 0
    run(args.id, args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
