"""The course-study page shows the pilot's measurements, from the one file the pilot writes."""

from __future__ import annotations

import json

from resurface.book import pilotreport
from resurface.evidence.sizing import mde


def _report() -> dict:
    designs = [{"task": "rs_mc", "metric": "logp_gold_norm,none", "design_subsets": s, "design_items": i,
                "se": 0.01 / s / i ** 0.5, "mde": 0.028 / s / i ** 0.5} for s in (1, 3) for i in (32, 96)]
    return {"student": "smollm2-135m", "items": 96, "suite": "course-continuous", "subsets": 3,
            "subset_tokens": 8192, "started": "a", "finished": "b", "eval_seconds": 60.0,
            "eval_items_per_s": 6.4, "sample_seconds": 120.0, "run_seconds_mean": 110.0,
            "dose_response": [{"tokens": 4096, "lr": 1e-4, "seconds": 90.0,
                               "tasks": [{"task": "rs_mc", "delta": 0.01, "lo": 0.002, "hi": 0.018}]}],
            "variance_components": [{"task": "rs_mc", "sigma2_subset": 1e-5, "sigma2_item": 2e-3,
                                     "sigma2_residual": 1e-4}],
            "self_vs_replay": [{"task": "rs_mc", "self_minus_replay": 0.02, "lo": 0.01, "hi": 0.03,
                                "self_delta": 0.01, "self_lo": 0.0, "self_hi": 0.02}],
            "designs": designs}


def test_tables_show_what_was_measured(tmp_path):
    src = tmp_path / "pilot.json"
    src.write_text(json.dumps(_report()))
    text = pilotreport.write_tables(tmp_path / "out.md", src).read_text()
    assert "| 4096 | 0.0001 | +0.0100 [+0.0020, +0.0180] |" in text
    assert "3 subsets each of self and replay, 8192 tokens each" in text
    assert "| 3 | 0.0016 | 0.0010 |" in text  # the MDE row of 3 subsets: 0.028 / 3 / sqrt(32), / sqrt(96)
    assert "+0.0200 [+0.0100, +0.0300]" in text


def test_the_seed_spread_is_shown_only_when_measured(tmp_path):
    src = tmp_path / "pilot.json"
    src.write_text(json.dumps(_report()))
    assert "Seeds against subsets" not in pilotreport.write_tables(tmp_path / "a.md", src).read_text()
    spread = {"condition": "self@1", "subsets": 3, "seeds": [42, 43, 44], "items": 12, "tokens_per_subset": 1024,
              "lr": 3e-4, "tasks": [{"suite": "course-continuous", "task": "rs_mc", "sigma2_seed": 0.0004,
                                     "sigma2_subset": 0.0009, "f": 3.25, "p": 0.11}]}
    src.write_text(json.dumps({**_report(), "seed_spread": spread}))
    text = pilotreport.write_tables(tmp_path / "b.md", src).read_text()
    assert "3 subsets x 3 seeds, 12 items per task" in text
    assert "| `course-continuous` | `rs_mc` | 0.0200 | 0.0300 | 3.25 | 0.110 |" in text


def test_a_missing_pilot_is_said_plainly(tmp_path):
    text = pilotreport.write_tables(tmp_path / "out.md", tmp_path / "none.json").read_text()
    assert "has not been run" in text


def test_the_course_design_is_projected_from_the_components():
    design = {"num_subsets": 3, "eval_limit": 32, "tokens_per_subset": 2048, "epochs": 1, "lr": 3e-4}
    text = pilotreport.design_table(_report(), design)
    se = (1e-5 / 3 + 2e-3 / 32 + 1e-4 / 96) ** 0.5
    assert f"| `rs_mc` | {se:.4f} |" in text
    se2 = (1e-5 / 3 + 2e-3 / 64 + 1e-4 / 192) ** 0.5  # the column with twice the items
    assert "MDE at 64 items" in text and f"{mde(se2, df=4):.4f}" in text
    assert "t with 4 df" in text
    # the measured +0.02 is below the projected MDE (about 3.7 se = 0.03), so it is not called resolvable
    assert "no: smaller than the MDE" in text
    big = _report()
    big["self_vs_replay"][0]["self_minus_replay"] = 0.5
    assert "| yes |" in pilotreport.design_table(big, design)
