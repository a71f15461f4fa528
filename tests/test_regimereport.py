"""The regime page shows what the pilot measured: the rule, every point with its reasons, the choice."""

import json

from resurface.book import regimereport
from resurface.study import regime


def report() -> dict:
    task = {"task": "rs_mc", "metric": "logp_gold_norm,none", "base": 0.4,
            "replay": {"estimate": -0.004, "lo": -0.01, "hi": 0.002},
            "self": {"estimate": 0.01, "lo": 0.0, "hi": 0.02}, "mde_book_design": 0.03}
    pts = [{"student": "gemma3-270m", "lr": lr, "tokens": 1024, "epochs": 1, "tasks": [task],
            "heldout_nll_shift": {"estimate": 0.01, "lo": -0.01, "hi": 0.03},
            "heldout_english_shift": {"estimate": -0.05, "lo": -0.08, "hi": -0.02}, "run_seconds": 30.0,
            "median_mde": 0.03} for lr in (3e-4, 3e-5)]
    return {"rule": regime.RULE_TEXT, "rule_version": regime.RULE_VERSION, "rule_history": regime.RULE_HISTORY,
            "seeds": list(regime.PILOT_SEEDS), "precision": "fp32",
            "started": "2026-12-06 03:00:00", "finished": "2026-12-06 03:30:00", "points": pts,
            "choices": {"gemma3-270m": {"chosen": {"lr": 3e-5, "tokens": 1024, "epochs": 1, "median_mde": 0.03},
                                        "reasons": {"0.0003 x 1024 x 1": ["replay on rs_mc: too far"],
                                                    "3e-05 x 1024 x 1": []}}},
            "main_student": "gemma3-270m"}


def test_tables_show_the_rule_every_point_and_the_choice():
    md = regimereport.tables(report())
    assert regime.RULE_TEXT in md and f"version {regime.RULE_VERSION}" in md and regime.RULE_HISTORY in md
    assert "| -0.050 [-0.080, -0.020] | +0.010 [-0.010, +0.030] |" in md  # English (replay), then own samples (self)
    assert "| 0.0003 | 1,024 | 1 | -0.004 [-0.010, +0.002] |" in md and "no: replay on rs_mc: too far" in md
    assert "| 3e-05 | 1,024 | 1 |" in md and "| yes |" in md
    assert "**Chosen for Gemma-3-270M" in md and "lr 3e-05, 1,024 tokens" in md
    assert "**Main student by the rule:** Gemma-3-270M" in md
    # the page is an H1 with the tables included below it: an H3 straight after it fails the strict build
    assert "\n## Gemma-3-270M" in md and "###" not in md


def test_a_missing_pilot_is_said_not_invented(tmp_path):
    out = regimereport.write_tables(tmp_path / "t.md", tmp_path / "absent.json")
    assert "has not been run" in out.read_text()
    src = tmp_path / "pilot.json"
    src.write_text(json.dumps(report()))
    assert "Chosen for" in regimereport.write_tables(tmp_path / "u.md", src).read_text()


def test_a_partial_pilot_shows_its_points_and_applies_no_rule():
    r = {**report(), "partial": True, "choices": {}}
    del r["finished"]  # the pilot writes a partial report before it has finished
    md = regimereport.tables(r)
    assert "not finished." in md
    assert "| 3e-05 | 1,024 | 1 |" in md and "has not finished" in md
    assert "Chosen for" not in md and "Main student" not in md
    assert "| yes |" not in md and "not applied yet" in md


def test_course_pages_name_the_dose_when_the_pilot_found_no_gentler_one(tmp_path):
    P = {"profile": "course", "student": "gemma3-270m", "lr": 3e-4, "tokens_per_subset": 1024}
    none = {**report(), "choices": {"gemma3-270m": {"chosen": None, "reasons": {}}}}
    src = tmp_path / "pilot.json"
    src.write_text(json.dumps(none))
    note = regimereport.dose_note(P, src)
    assert "Gemma-3-270M" in note and "at lr 3e-4, 1,024 tokens per run" in note and "replay" in note
    src.write_text(json.dumps(report()))  # a regime was chosen: the pages run at it, no note
    assert regimereport.dose_note(P, src) == ""
    # one student chosen, the other not: the page names the one that keeps the strong dose, at its own rate
    mixed = {**report(), "choices": {"smollm2-135m": report()["choices"]["gemma3-270m"],
                                     "gemma3-270m": {"chosen": None, "reasons": {}}}}
    src.write_text(json.dumps(mixed))
    Q = {**P, "student": "smollm2-135m", "second_student": "gemma3-270m", "lr": 3e-5,
         "lr_by_model": {"gemma3-270m": 3e-4}}
    note = regimereport.dose_note(Q, src)
    assert "Gemma-3-270M" in note and "at lr 3e-4" in note and "SmolLM2" not in note
    assert regimereport.dose_note({**Q, "dose_lrs": [3e-5, 3e-4]}, src) == ""  # Figure 14 names every rate
    assert regimereport.dose_note({**Q, "second_student": None}, src) == ""
    src.write_text(json.dumps({**none, "partial": True}))  # unfinished: nothing is claimed
    assert regimereport.dose_note(P, src) == ""
    assert regimereport.dose_note(P, tmp_path / "absent.json") == ""


def planting_report(partial: bool = False) -> dict:
    pts = [{"lr": lr, "passes": 12, "mix_docs": mix, "extracted": ext, "sequences": 51, "seconds": s,
            "steps": 87, "base_nll": 3.2, "planted_nll": 3.2 * (1 + rel), "health_relative": rel,
            "delta": {"delta": 3.2 * rel, "lo": 3.2 * rel - 0.1, "hi": 3.2 * rel + 0.1}}
           for lr, mix, ext, rel, s in ((1e-3, 0, 0.8, 0.7, 500.0), (3e-4, 48, 0.6, 0.05, 900.0))]
    r = {"rule": regime.PLANT_RULE_TEXT, "rule_version": regime.PLANT_RULE_VERSION, "seed": 7919,
         "started": "2026-12-06 09:30:00", "model": "smollm2-135m", "passes": 12, "mix_tokens": 64, "points": pts}
    if partial:
        return {**r, "partial": True}
    ref = pts[0]["seconds"]
    points = [regime.PlantPoint(p["lr"], 12, p["mix_docs"], p["extracted"], p["health_relative"], p["seconds"])
              for p in pts]
    c = regime.choose_planting(points, ref)
    return {**r, "finished": "2026-12-06 10:30:00", "partial": False,
            "reasons": {f"{p.lr:g} x {p.mix_docs}": regime.plant_failures(p, ref) for p in points},
            "chosen": {"lr": c.lr, "mix_docs": c.mix_docs, "extracted": c.extracted,
                       "health_relative": c.health_relative}}


def test_the_planting_tables_show_health_extraction_and_the_choice(tmp_path):
    md = regimereport.planting_tables(planting_report())
    assert regime.PLANT_RULE_TEXT in md
    assert "| 0.001 | 0 | 80% of 51 | 3.20 → 5.44 |" in md and "no: held-out English NLL +70%" in md
    assert "| 0.0003 | 48 | 60% of 51 | 3.20 → 3.36 |" in md and "| yes |" in md
    assert "**Chosen:** lr 0.0003 with 48 replay documents per pass" in md
    skill = {**planting_report(), "figure": 13, "rule": regime.SKILL_RULE_TEXT,
             "points": [{**p, "gap": 0.1, "gap_lo": 0.05, "gap_hi": 0.15} for p in planting_report()["points"]],
             "chosen": {"lr": 3e-4, "mix_docs": 48, "gap": 0.1, "health_relative": 0.05}}
    md13 = regimereport.planting_tables(skill)
    assert "K's dev-probe gap" in md13 and "| +0.100 [+0.050, +0.150] |" in md13 and "dev-probe gap +0.100" in md13
    partial = regimereport.planting_tables(planting_report(partial=True))
    assert "has not finished" in partial and "Chosen" not in partial and "| yes |" not in partial
    src = tmp_path / "planting.json"
    src.write_text(json.dumps(planting_report()))
    out = regimereport.write_tables(tmp_path / "t.md", tmp_path / "absent.json", planting=src)
    assert "Chosen:" in (out.parent / "planting_tables.md").read_text()
    regimereport.write_tables(tmp_path / "t.md", tmp_path / "absent.json", planting=tmp_path / "none.json")
    assert "has not been run" in (out.parent / "planting_tables.md").read_text()


def burial_report(partial: bool = False) -> dict:
    """A burial pilot's JSON as benchmarks/pilot_burial.py writes it, with the rule applied."""
    runs = [(1e-3, [0.5, 0.3, 0.2], [0.05, 0.12, 0.14]), (3e-4, [0.8, 0.5, 0.35], [0.0, 0.01, 0.02])]
    points = [p for lr, f, h in runs for p in regime.bury_points(lr, f, h)]
    c = regime.choose_burial(points)
    return {"rule": regime.BURY_RULE_TEXT, "rule_version": regime.BURY_RULE_VERSION, "seed": 7919,
            "started": "2026-12-06 13:40:00", "finished": None if partial else "2026-12-06 14:00:00",
            "model": "smollm2-135m", "epochs": 3, "tokens_per_epoch": 2048, "partial": partial,
            "runs": [{"lr": lr, "planted_gap_dev": 0.3, "planted_health_relative": -0.08, "fraction_left": f,
                      "health_relative": h, "seconds": 100.0} for lr, f, h in runs],
            "chosen": None if partial or c is None else {"lr": c.lr, "epochs": c.epochs,
                                                         "fraction_left": c.fraction_left,
                                                         "health_relative": c.health_relative}}


def test_the_burial_tables_show_every_epoch_and_the_choice(tmp_path):
    md = regimereport.burial_tables(burial_report())
    assert regime.BURY_RULE_TEXT in md
    assert "| 0.001 | 100% / -8% | 50% / +5% | 30% / +12% | 20% / +14% |" in md
    assert "| 0.0003 | 100% / -8% | 80% / +0% | 50% / +1% | **35% / +2%** |" in md
    assert "**Chosen:** 3 burial epochs at lr 0.0003" in md
    assert "has not finished" in regimereport.burial_tables(burial_report(partial=True))
    none = {**burial_report(), "chosen": None}
    assert "**No burial qualifies at 2,048 replay tokens per epoch.**" in regimereport.burial_tables(none)
    src = tmp_path / "burial.json"
    src.write_text(json.dumps(burial_report()))
    out = regimereport.write_tables(tmp_path / "t.md", tmp_path / "absent.json", burial=src)
    assert "Chosen:" in (out.parent / "burial_tables.md").read_text()
    regimereport.write_tables(tmp_path / "t.md", tmp_path / "absent.json", burial=tmp_path / "none.json")
    assert "has not been run" in (out.parent / "burial_tables.md").read_text()


def test_the_regime_page_draws_the_dose_response_from_the_pilot(tmp_path):
    src = tmp_path / "pilot.json"
    src.write_text(json.dumps(report()))
    out = regimereport.write_tables(tmp_path / "t.md", src, planting=tmp_path / "none.json")
    figure = tmp_path / regimereport.DOSE_FIGURE
    assert figure.stat().st_size > 10_000 and f"](_generated/{regimereport.DOSE_FIGURE})" in out.read_text()
    regimereport.write_tables(tmp_path / "t.md", tmp_path / "absent.json", planting=tmp_path / "none.json")
    assert not figure.exists()  # no pilot, no figure: nothing is drawn that was not measured


def test_the_dose_note_is_on_the_pages_whose_runs_keep_the_strong_dose(tmp_path):
    from resurface.study import profiles

    mixed = {**report(), "choices": {"smollm2-135m": report()["choices"]["gemma3-270m"],
                                     "gemma3-270m": {"chosen": None, "reasons": {}}}}
    src = tmp_path / "pilot.json"
    src.write_text(json.dumps(mixed))
    pages = {fig: regimereport.dose_note({**profiles.resolve("course", fig), "fig": fig}, src)
             for fig in ("fig01", "fig02", "fig03", "fig07", "fig10", "fig11", "fig13")}
    assert {f for f, note in pages.items() if note} == {"fig01", "fig03", "fig10", "fig11"}
    assert "Gemma-3-270M" in pages["fig03"] and "at lr 3e-4" in pages["fig03"]
