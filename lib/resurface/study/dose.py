"""Figure 14 (beyond the paper), set up and run: both students trained on their own BOS samples and on
human-text replay at every learning rate of ``dose_lrs``, everything else as in Figures 2 and 3.

The paper runs one learning rate. The course chose its doses by a pilot (page "Which dose does the course
train?"), and a strong dose moved students whatever they read. This figure shows the dose as a variable:
Δ against the base for self and replay at each rate, for the main and the second student. Runs at a
student's own rate (``lr`` or its ``lr_by_model`` entry) at a temperature Figures 2 and 3 sample are
their runs, read from the store; the others are new.
"""

from __future__ import annotations

import pandas as pd

from resurface import progress
from resurface.artifacts import Store
from resurface.study.experiments import Condition, run_conditions, self_conditions

#: the parameters naming the students the figure trains
DOSE_ROLES = ("student", "second_student")


def dose_params(P: dict, student: str, lr: float) -> dict:
    """The parameters with ``student`` trained at ``lr`` (its ``lr_by_model`` entry), one temperature."""
    rates = {**(P.get("lr_by_model") or {}), str(student): float(lr)}
    return {**P, "lr_by_model": rates, "temperatures": [P["dose_temperature"]]}


def dose_conditions(P: dict, student: str) -> list[Condition]:
    """The student's own samples at ``dose_temperature`` and human-text replay (Figures 2 and 3's recipe)."""
    return self_conditions({**P, "temperatures": [P["dose_temperature"]]}, student, replay=True)


def arm(condition: str, lr: float) -> str:
    """The name of one arm of the figure: a condition at a learning rate (``"replay|3e-05"``)."""
    return f"{condition}|{float(lr):g}"


def run_study(P: dict, store: Store | None = None) -> pd.DataFrame:
    """Every student of :data:`DOSE_ROLES` x every rate of ``dose_lrs`` x (self, replay), ``num_subsets``
    runs each; tidy results with ``delta`` and the columns ``lr``, ``role`` and ``arm``."""
    frames = []
    rates = sorted(float(x) for x in P["dose_lrs"])
    for role in DOSE_ROLES:
        student = P[role]
        for k, lr in enumerate(rates):
            progress.report(f"Figure 14: {student} at lr {lr:g} ({k + 1} of {len(rates)})")
            q = dose_params(P, student, lr)
            df = run_conditions(q, dose_conditions(q, student), store)
            df["lr"], df["role"] = lr, role
            df["arm"] = [arm(c, lr) for c in df["condition"]]
            frames.append(df)
    return pd.concat(frames, ignore_index=True)
