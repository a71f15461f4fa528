"""The course regime's rule (resurface.study.regime): fixed before the pilot, on seeds the book never uses."""

import math

from resurface.study import profiles, regime
from resurface.study.regime import GridPoint, TaskResult


def point(student="gemma3-270m", lr=3e-5, tokens=1024, epochs=1, replay=(-0.01, 0.01), base=-1.0,
          mde=0.05, nll_hi=0.05, seconds=30.0, tasks=("a", "b"), english_hi=-0.01, own_base=3.0) -> GridPoint:
    return GridPoint(student, lr, tokens, epochs,
                     tuple(TaskResult(t, base, replay[0], replay[1], mde) for t in tasks), nll_hi, seconds,
                     english_shift_hi=english_hi, own_base_nll=own_base)


def book_seeds() -> set[int]:
    """Every seed a book run can take: each profile's and figure's ``seed``, ``eval_seed`` and the
    offsets the stages add to them (burial epochs, plantings, subsets: under 1,000)."""
    seeds = set()
    for prof in profiles.PROFILES:
        for fig in [None] + [f"fig{n:02d}" for n in range(1, 14)]:
            try:
                P = profiles.load(prof, fig)
            except Exception:  # a figure a profile lacks
                continue
            for k, v in P.items():
                if "seed" in k and isinstance(v, int):
                    seeds.update(range(v, v + 1000))
    return seeds


def test_the_pilot_never_draws_the_books_seeds():
    seeds = book_seeds()
    assert 42 in seeds  # the reader found the book's seed
    assert not set(regime.PILOT_SEEDS) & seeds
    assert len(set(regime.PILOT_SEEDS)) == len(regime.PILOT_SEEDS)


def test_a_point_qualifies_only_when_replay_stays_training_moves_and_it_fits():
    ref = 30.0
    assert regime.failures(point(), ref) == []
    assert any("replay on a" in w for w in regime.failures(point(replay=(-0.2, -0.06)), ref))
    # the margin is relative to the base's score: 5% of |base|
    assert regime.failures(point(replay=(-0.049, 0.049), base=-1.0), ref) == []
    assert regime.failures(point(replay=(-0.049, 0.049), base=-0.5), ref) != []
    # training must move the student where it can: replay's NLL of held-out English falls
    assert any("English" in w for w in regime.failures(point(english_hi=0.001), ref))
    # self-training may raise the own-sample NLL (it cannot lower it in expectation), by at most 5% of the base's
    assert regime.failures(point(nll_hi=0.149, own_base=3.0), ref) == []
    assert any("own-sample" in w for w in regime.failures(point(nll_hi=0.151, own_base=3.0), ref))
    assert any("own-sample" in w for w in regime.failures(point(own_base=float("nan")), ref))  # not measured
    assert any("costs" in w for w in regime.failures(point(seconds=61.0), ref))
    assert regime.failures(point(tasks=()), ref) == ["no task measured", *regime.failures(point(tasks=()), ref)[1:]]


def test_the_smallest_median_mde_wins_and_self_results_play_no_part():
    pts = [point(lr=3e-4, replay=(-0.9, -0.5), mde=0.01),  # the sharpest, but replay wrecks the student
           point(lr=1e-4, mde=0.04, seconds=40.0),
           point(lr=3e-5, mde=0.03, seconds=50.0),
           point(lr=1e-5, mde=0.03, seconds=20.0),  # ties on MDE: the cheaper wins
           point(student="smollm2-135m", lr=3e-4, replay=(-0.3, -0.1))]
    out = regime.choose(pts, {"gemma3-270m": 30.0, "smollm2-135m": 30.0})
    assert out["gemma3-270m"].chosen.lr == 1e-5
    assert out["smollm2-135m"].chosen is None and out["smollm2-135m"].reasons[(3e-4, 1024, 1)]
    assert regime.main_student(out) == "gemma3-270m"
    out = regime.choose([point(replay=(-0.9, -0.5))], {"gemma3-270m": 30.0})
    assert out["gemma3-270m"].chosen is None and regime.main_student(out) == "smollm2-135m"
    assert math.isinf(point(tasks=()).median_mde)


def test_the_rule_text_states_every_threshold():
    t = regime.RULE_TEXT
    assert f"{regime.REPLAY_MARGIN_REL:.0%}" in t and f"{regime.BUDGET_RATIO:g}×" in t
    assert "Self-versus-base results play no part" in t


def test_a_planting_qualifies_only_healthy_extractable_and_affordable_and_the_most_extractable_wins():
    from resurface.measures.health import HEALTH_MARGIN_REL
    from resurface.study.regime import PlantPoint

    assert regime.PLANT_HEALTH_MARGIN_REL == HEALTH_MARGIN_REL  # the pages' margin is the rule's
    ref = 100.0
    today = PlantPoint(1e-3, 12, 0, extracted=0.8, health_relative=0.7, seconds=ref)
    assert any("NLL" in w for w in regime.plant_failures(today, ref))
    assert regime.plant_failures(PlantPoint(1e-3, 12, 48, 0.6, 0.10, 200.0), ref) == []
    assert any("extractable" in w for w in regime.plant_failures(PlantPoint(3e-4, 12, 48, 0.49, 0.02, 150.0), ref))
    assert any("costs" in w for w in regime.plant_failures(PlantPoint(3e-4, 12, 96, 0.9, 0.02, 301.0), ref))
    assert any("NLL" in w for w in regime.plant_failures(PlantPoint(3e-4, 12, 96, 0.9, math.nan, 100.0), ref))
    pts = [today, PlantPoint(1e-3, 12, 48, 0.6, 0.08, 200.0), PlantPoint(3e-4, 12, 48, 0.7, 0.05, 250.0),
           PlantPoint(3e-4, 12, 0, 0.7, 0.05, 120.0)]
    assert regime.choose_planting(pts, ref) == pts[3]  # ties on extraction: the cheaper
    assert regime.choose_planting([today], ref) is None
    t = regime.PLANT_RULE_TEXT
    assert f"+{regime.PLANT_HEALTH_MARGIN_REL:.0%}" in t and f"{regime.PLANT_EXTRACT_MIN:.0%}" in t


def test_a_planting_of_k_qualifies_only_healthy_above_the_base_and_affordable():
    from resurface.study.regime import SkillPoint

    ref = 100.0
    assert regime.skill_failures(SkillPoint(3e-4, 5, 48, 0.2, 0.05, 0.08, 150.0), ref) == []
    assert any("gap" in w for w in regime.skill_failures(SkillPoint(3e-4, 5, 48, 0.2, -0.01, 0.08, 150.0), ref))
    assert any("NLL" in w for w in regime.skill_failures(SkillPoint(1e-3, 5, 0, 0.9, 0.6, 1.6, 100.0), ref))
    assert any("costs" in w for w in regime.skill_failures(SkillPoint(3e-4, 5, 96, 0.2, 0.1, 0.0, 301.0), ref))
    pts = [SkillPoint(1e-3, 5, 0, 0.9, 0.6, 1.6, 100.0), SkillPoint(1e-3, 5, 48, 0.3, 0.2, 0.09, 200.0),
           SkillPoint(3e-4, 5, 48, 0.2, 0.1, 0.02, 180.0)]
    assert regime.choose_skill_planting(pts, ref) == pts[1]  # the largest gap among the healthy
    assert regime.choose_skill_planting(pts[:1], ref) is None
    assert f"+{regime.PLANT_HEALTH_MARGIN_REL:.0%}" in regime.SKILL_RULE_TEXT


def test_a_burial_qualifies_only_sustained_latent_and_healthy():
    """The fewest epochs after which K stays buried (a dip that comes back does not count), with K not
    erased and general English within the margin; then the lower rate."""
    fast = regime.bury_points(1e-3, [0.6, 0.35, 0.5, 0.3, 0.2], [0.02, 0.04, 0.06, 0.12, 0.15])
    slow = regime.bury_points(3e-4, [0.8, 0.6, 0.45, 0.38, 0.3], [0.0, 0.01, 0.01, 0.02, 0.03])
    assert [p.fraction_left_later for p in fast] == [0.6, 0.5, 0.5, 0.3, 0.2]
    assert any("later epoch" in w for w in regime.bury_failures(fast[1])), "the dip at epoch 2 comes back"
    assert any("NLL" in w for w in regime.bury_failures(fast[3]))
    assert regime.choose_burial(fast + slow) == slow[3]  # fast qualifies nowhere healthy; slow at epoch 4
    erased = regime.bury_points(1e-3, [0.3, -0.1], [0.0, 0.0])
    assert any("erased" in w for w in regime.bury_failures(erased[1]))
    tie = regime.bury_points(1e-4, [0.8, 0.6, 0.45, 0.3, 0.3], [0.0] * 5)
    assert regime.choose_burial(slow + tie) == tie[3]  # both at epoch 4: the lower rate
    assert regime.choose_burial(regime.bury_points(1e-3, [0.9, 0.8], [0.0, 0.0])) is None
    assert f"{regime.BURY_FRACTION:.0%}" in regime.BURY_RULE_TEXT


def test_the_course_buries_as_the_finished_burial_pilot_chose():
    """Figure 13's course burial follows the burial pilots (benchmarks/pilot_burial*.json, one per amount of
    replay text per epoch): the length and rate of the one whose text per epoch the course uses, fixed; with
    no qualifying burial in any finished pilot, today's stopping rule."""
    import json

    from resurface.paths import repo_root

    P = profiles.load("course", "fig13")
    reports = [json.loads(f.read_text()) for f in sorted((repo_root() / "benchmarks").glob("pilot_burial*.json"))]
    finished = [r for r in reports if not r.get("partial")]
    chosen = [r for r in finished if r["chosen"] is not None]
    if not chosen:
        assert P["bury_epochs"] is None
        return
    mine = [r for r in chosen if r["tokens_per_epoch"] == P["bury_tokens"]]
    assert len(mine) == 1, "the course buries with the text per epoch of a pilot that found a burial"
    report = mine[0]
    assert P["bury_epochs"] == report["chosen"]["epochs"]
    assert math.isclose(P["bury_lr"], report["chosen"]["lr"])
    assert report["seed"] in regime.PILOT_SEEDS and report["rule"] == regime.BURY_RULE_TEXT


def test_the_course_trains_each_student_at_the_dose_the_finished_pilot_chose():
    """One source of truth: the course parameters follow the pilot's choice (benchmarks/pilot_regime.json);
    a student the rule found no dose for keeps the grid's first point, the regime before the pilot."""
    import json

    from resurface.paths import repo_root

    report = json.loads((repo_root() / "benchmarks" / "pilot_regime.json").read_text())
    if report.get("partial"):
        return  # nothing chosen yet: the course keeps its regime (the page says the pilot is unfinished)
    P = profiles.load("course")
    first = report["points"][0]
    for student, choice in report["choices"].items():
        dose = choice["chosen"] or {"lr": first["lr"], "tokens": first["tokens"], "epochs": first["epochs"]}
        assert math.isclose(profiles.lr_for(P, student), dose["lr"]), student
        assert P["tokens_per_subset"] == dose["tokens"] and P["epochs"] == dose["epochs"], student
    assert P["student"] == report["main_student"]


def test_the_course_plants_as_the_finished_planting_pilot_chose():
    """The course's planting parameters follow benchmarks/pilot_planting.json (today's, the grid's first
    point, when nothing qualified)."""
    import json

    from resurface.paths import repo_root

    report = json.loads((repo_root() / "benchmarks" / "pilot_planting.json").read_text())
    if report.get("partial"):
        return
    P = profiles.load("course", "fig07")
    got = report["chosen"] or report["points"][0]
    assert math.isclose(P["plant_lr"], got["lr"]) and P["plant_mix_docs"] == got["mix_docs"]
    assert P["plant_epochs"] == report["passes"] and P["plant_mix_tokens"] == report["mix_tokens"]


def test_figure_13_plants_k_as_its_finished_planting_pilot_chose():
    """Figure 13's course planting of K follows benchmarks/pilot_planting_skill.json."""
    import json

    from resurface.paths import repo_root

    src = repo_root() / "benchmarks" / "pilot_planting_skill.json"
    report = json.loads(src.read_text())
    if report.get("partial"):
        return
    P = profiles.load("course", "fig13")
    got = report["chosen"] or report["points"][0]
    assert math.isclose(P["skill_plant_lr"], got["lr"]) and P["skill_plant_mix_docs"] == got["mix_docs"]
    assert P["skill_plant_epochs"] == report["passes"] and P["skill_plant_block_size"] == report["mix_tokens"]
