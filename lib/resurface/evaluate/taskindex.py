"""lm-eval's task index over the project's rendered task folder, built once per process.

Its own module so that :mod:`resurface.evaluate.suites` (which checks suites against the index) and
:mod:`resurface.evaluate.evaluation` (which runs them) do not import each other.
"""

from __future__ import annotations

from typing import Any

from resurface.evaluate.coursetasks import task_dir

_TASK_MANAGERS: dict[tuple[bool, str], Any] = {}


def get_task_manager(offline: bool = True):
    """lm-eval's TaskManager over the project's task folder, built once per process.

    ``offline=True`` indexes only the project's tasks (milliseconds); ``False`` also indexes
    lm-eval's ~14k built-in YAMLs (about 7 s), which the paper suites need.
    """
    from lm_eval.tasks import TaskManager

    folder = str(task_dir())
    key = (bool(offline), folder)
    if key not in _TASK_MANAGERS:
        _TASK_MANAGERS[key] = TaskManager(include_path=folder, include_defaults=not offline)
    return _TASK_MANAGERS[key]
