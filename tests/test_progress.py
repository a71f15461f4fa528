"""Live build progress: events from a kernel reach the runner's status lines, with an estimate."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from resurface import progress


def test_report_is_silent_without_a_watcher(monkeypatch, tmp_path):
    monkeypatch.delenv(progress.ENV, raising=False)
    progress.report("nothing listens")  # no file, no error
    assert list(tmp_path.iterdir()) == []


def test_time_left_uses_the_previous_build_and_says_nothing_without_it():
    prev = {"fig02": 100.0, "fig03": 50.0, "fig01": 10.0}
    assert progress.time_left(["fig02", "fig03", "fig01"], 0, 30.0, prev) == 70.0 + 50.0 + 10.0
    assert progress.time_left(["fig02", "fig03", "fig01"], 1, 80.0, prev) == 0.0 + 10.0  # overran: 0 left for it
    assert progress.time_left(["fig02", "fig04"], 0, 0.0, prev) is None
    assert progress.clock(75) == "01:15" and progress.clock(3723) == "1:02:03"


def test_previous_seconds_reads_only_this_profiles_successful_figures(tmp_path):
    f = tmp_path / "build_report.json"
    f.write_text(json.dumps([{"figure": "fig02", "profile": "course", "status": "ok", "seconds": 12.5},
                             {"figure": "fig03", "profile": "course", "status": "failed: X", "seconds": 3},
                             {"figure": "fig04", "profile": "smoke", "status": "ok", "seconds": 1}]))
    assert progress.previous_seconds(f, "course") == {"fig02": 12.5}
    assert progress.previous_seconds(tmp_path / "missing.json", "course") == {}


def test_events_from_another_process_become_status_lines(tmp_path):
    out = io.StringIO()
    w = progress.Watcher(tmp_path / "p.jsonl", ["fig02", "fig01"], {"fig02": 600.0, "fig01": 60.0},
                         stream=out, poll_s=0.05)
    with w:
        w.start_figure(0)
        code = ("from resurface import progress; progress.report('train: computing ab12cd34');"
                "progress.report('self@1 on smollm2-135m: training run 2 of 3')")
        subprocess.run([sys.executable, "-c", code], check=True)  # inherits the variable, as a kernel does
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[figures] 1/2 fig02 00:00 (book 00:00, about ") and "starting" in lines[0]
    assert lines[1].endswith("· train: computing ab12cd34")
    assert lines[2].endswith("· self@1 on smollm2-135m: training run 2 of 3")
    assert "left)" in lines[2]
    assert progress.ENV not in __import__("os").environ


def test_resurface_figures_shows_which_figure_and_what_it_is_doing(monkeypatch, tmp_path, capsys):
    from resurface.book import runner

    monkeypatch.setattr(runner, "generated_dir", lambda: tmp_path)
    (tmp_path / "build_report.json").write_text(json.dumps(
        [{"figure": f, "profile": "smoke", "status": "ok", "seconds": 30.0} for f in ("fig02", "fig09")]))

    def fake_run(fig, nb, profile, overrides, rerun=False):  # what a kernel does: report, through the file
        subprocess.run([sys.executable, "-c", "from resurface import progress; "
                        "progress.report('condition 1 of 4: self@0.75')"], check=True)
        return {"figure": fig, "profile": profile, "status": "ok", "seconds": 1.0}

    monkeypatch.setattr(runner, "run_figure", fake_run)
    rows = runner.run_figures("smoke", "fig02,fig09")
    out = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[figures]")]
    assert [r["figure"] for r in rows] == ["fig02", "fig09"]
    assert any(line.startswith("[figures] 1/2 fig02") and "condition 1 of 4: self@0.75" in line for line in out)
    assert any(line.startswith("[figures] 2/2 fig09") and "about 00:" in line for line in out)
