"""Live progress of a book build: which figure, which stage and run, elapsed time and time left.

A figure notebook runs in a papermill kernel whose output the runner does not show, so the kernel
reports through a small JSON-lines file instead: :func:`report` appends a line when
``$RESURFACE_PROGRESS_FILE`` is set (by the runner) and does nothing otherwise (a notebook run by hand,
a test). :class:`Watcher` runs in the runner's process, follows that file and prints one status line
per event, e.g. ::

    [figures] 3/11 fig05 00:41 (book 06:12, about 14:30 left) · train run 4 of 12: cross@0.75, subset 1

The time left comes from the previous build report of the same profile (seconds per figure): the
figures not yet started, plus what the current one took last time minus what it has taken so far.
Without a previous report the estimate is left out rather than guessed.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

ENV = "RESURFACE_PROGRESS_FILE"


def report(message: str, **fields) -> None:
    """Append one progress event for the runner watching this build (no-op when nobody watches)."""
    path = os.environ.get(ENV)
    if not path:
        return
    line = json.dumps({"t": time.time(), "message": message, **fields}, default=str)
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    except OSError:
        pass  # progress is a courtesy: never fail a computation over it


def clock(seconds: float) -> str:
    """``75`` -> ``"01:15"``; an hour or more -> ``"1:02:03"``."""
    s = int(round(max(seconds, 0.0)))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


def previous_seconds(report_json: Path, profile: str) -> dict[str, float]:
    """Seconds per figure of the last build report of ``profile`` (successful figures only; a reused
    page counts what it took when it was executed)."""
    try:
        rows = json.loads(Path(report_json).read_text())
    except (OSError, ValueError):
        return {}
    return {r["figure"]: float(r.get("executed_seconds") or r["seconds"]) for r in rows
            if isinstance(r, dict) and r.get("profile") == profile and r.get("status") == "ok"
            and "figure" in r and "seconds" in r}


def time_left(figures: list[str], current: int, elapsed_current: float,
              previous: dict[str, float]) -> float | None:
    """Estimated seconds left: the figures after ``figures[current]`` plus what the current one
    still needs, from ``previous``; None when a figure has no previous time."""
    rest = figures[current + 1:]
    if figures[current] not in previous or any(f not in previous for f in rest):
        return None
    return max(previous[figures[current]] - elapsed_current, 0.0) + sum(previous[f] for f in rest)


class Watcher:
    """Follow a progress file for one figure at a time and print status lines to ``stream``."""

    def __init__(self, path: Path, figures: list[str], previous: dict[str, float] | None = None,
                 stream=None, poll_s: float = 1.0) -> None:
        self.path, self.figures = Path(path), list(figures)
        self.previous = previous or {}
        self.stream = stream or sys.stdout
        self.poll_s = poll_s
        self.book_t0 = time.time()
        self.fig_t0 = self.book_t0
        self.index = 0
        self._offset = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")

    def line(self, message: str, now: float | None = None) -> str:
        """The status line for ``message`` at time ``now``."""
        now = time.time() if now is None else now
        fig_elapsed = now - self.fig_t0
        left = time_left(self.figures, self.index, fig_elapsed, self.previous)
        eta = f", about {clock(left)} left" if left is not None else ""
        head = (f"[figures] {self.index + 1}/{len(self.figures)} {self.figures[self.index]} {clock(fig_elapsed)} "
                f"(book {clock(now - self.book_t0)}{eta})")
        return f"{head} · {message}" if message else head

    def start_figure(self, index: int) -> None:
        self.poll()  # events of the previous figure are printed under its name
        self.index, self.fig_t0 = index, time.time()
        self._print(self.line("starting"))

    def poll(self) -> None:
        """Print a line for every event appended since the last poll."""
        with self._lock:
            self._poll()

    def _poll(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as f:
                f.seek(self._offset)
                chunk = f.read()
        except OSError:
            return
        complete = chunk[: chunk.rfind("\n") + 1]  # a line being written is read next time
        self._offset += len(complete.encode("utf-8"))
        for raw in complete.splitlines():
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            self._print(self.line(str(event.get("message", "")), event.get("t")))

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.poll()

    def __enter__(self) -> "Watcher":
        os.environ[ENV] = str(self.path)  # the kernels papermill starts inherit it
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.poll()
        os.environ.pop(ENV, None)
