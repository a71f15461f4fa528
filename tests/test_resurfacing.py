"""Figure 13: the planted skill K is a valid probe (chance without K, far above with it, no 8-gram shared
with the planting documents), the burial stopping rule is the one fixed in advance, and the stages are
store artifacts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from resurface.evaluate import items_skill
from resurface.measures import resurfacing
from resurface.study import buried_skill
from resurface.ngrams import ngrams, normalize


@pytest.fixture(scope="module")
def world():
    w = items_skill.make_world(16)
    return w, items_skill.planting_documents(w), items_skill.probe_items(w)


def _grams(texts, n=8):
    out = set()
    for t in texts:
        out |= set(ngrams(normalize(t), n))
    return out


# ------------------------------------------------------------------------------ probe validity
def test_probes_share_no_8gram_with_the_planting_documents(world):
    w, docs, probes = world
    probe_texts = [items_skill.probe_text(p) for s in items_skill.SPLITS for p in probes[s]]
    assert not _grams(probe_texts) & _grams([d["text"] for d in docs])
    assert items_skill.validate(w, docs, probes) == []
    # the question forms themselves never occur in a planting document
    forms = [f.split("{E}")[0].strip().lower() for fs in items_skill.PROBE_FORMS.values() for f in fs]
    assert not any(f and f in d["text"].lower() for f in forms for d in docs)


def test_the_audit_finds_a_planted_overlap(world):
    w, docs, probes = world
    leaky = [*docs, {"id": "x", "text": "Notes: " + items_skill.probe_text(probes["test"][0]), "domain": "skill",
                     "group": "text"}]
    assert any("8-gram" in p for p in items_skill.validate(w, leaky, probes))


def test_world_is_deterministic_balanced_and_invented(world):
    w, docs, probes = world
    assert items_skill.make_world(16) == w
    for attr, values in items_skill.ATTRIBUTES.items():
        counts = [sum(t.value(attr) == v for t in w) for v in values]
        assert max(counts) - min(counts) <= 1, attr
    assert len(docs) == 16 * len(items_skill.PLANTING_TEMPLATES)
    n = 16 * len(items_skill.ATTRIBUTES) * 3
    assert sum(len(probes[s]) for s in items_skill.SPLITS) == n
    facts = {s: {(p["entity"], p["attribute"]) for p in probes[s]} for s in items_skill.SPLITS}
    assert not facts["dev"] & facts["test"], "a fact's forms all go to one split"
    for s in items_skill.SPLITS:
        assert {p["attribute"] for p in probes[s]} == set(items_skill.ATTRIBUTES)
    assert all(p["choices"][p["answer"]] == getattr(next(t for t in w if t.name == p["entity"]), p["attribute"])
               for s in items_skill.SPLITS for p in probes[s])


def test_trace_counts_count_names_and_own_values(world):
    w, _, _ = world
    t = w[0]
    texts = [f"We sailed to {t.name}; the roofs were {t.colour}.", "Nothing to see here.",
             f"{t.name.upper()} again"]
    c = items_skill.trace_counts(texts, w)
    assert c["naming"] == 2 and c["fact_traces"] == 1 and math.isclose(c["naming_rate"], 2 / 3)
    assert c["wrong_value_rate"] == 0
    assert items_skill.trace_counts([f"{t.name}s"], w)["naming"] == 0, "whole words only"


class _Oracle:
    """An lm-eval LM that knows K by construction (the gold's log-likelihood 0, the others -8), or,
    with ``knows=False``, prefers no value (every choice -8 per byte)."""

    def __new__(cls, world, knows: bool):
        from lm_eval.api.model import LM

        class Oracle(LM):
            def loglikelihood(self, requests, disable_tqdm=False):
                out = []
                for r in requests:
                    ctx, cont = r.args
                    town = next(t for t in world if t.name in ctx)
                    value = cont.strip()
                    own = any(getattr(town, a) == value for a in items_skill.ATTRIBUTES)
                    out.append((0.0 if knows and own else -8.0 * len(cont.strip()), bool(knows and own)))
                return out

            def loglikelihood_rolling(self, requests, disable_tqdm=False):
                raise NotImplementedError

            def generate_until(self, requests, disable_tqdm=False):
                raise NotImplementedError

        return Oracle()


def test_the_lm_eval_probe_task_scores_chance_without_k_and_far_above_with_it(tmp_path, world):
    w, _, probes = world
    items_skill.write_probe_files(tmp_path, probes)
    scores = {}
    for knows in (False, True):
        items: list[dict] = []
        items_skill.score_probes_lm(_Oracle(w, knows), tmp_path, ("dev", "test"), items=items)
        vals = np.array([r["value"] for r in items if r["metric"] == items_skill.PRIMARY])
        assert len(vals) == sum(len(v) for v in probes.values())
        scores[knows] = vals.mean()
    assert math.isclose(scores[False], math.log(items_skill.CHANCE_SHARE), abs_tol=1e-6), "no K: exactly chance"
    assert scores[True] > math.log(0.9), "with K the gold takes nearly all the mass"


@pytest.mark.slow
def test_the_untrained_student_scores_near_chance(tmp_path, world, monkeypatch):
    """A model that has never seen K (the smoke student) gives the gold about a quarter of the mass."""
    from resurface.models import load_model

    monkeypatch.setenv("RESURFACE_STORE", str(tmp_path / "store"))
    w, _, probes = world
    items_skill.write_probe_files(tmp_path, probes)
    model, tok = load_model("tiny-llama", device="cpu", dtype="float32")
    items: list[dict] = []
    items_skill.score_probes(model, tok, tmp_path, ("test",), items=items)
    share = np.exp([r["value"] for r in items if r["metric"] == items_skill.PRIMARY]).mean()
    assert 0.15 < share < 0.35


# ------------------------------------------------------------------------------ the stopping rule
def test_stopping_rule_stops_at_the_first_epoch_below_the_fraction():
    rule = buried_skill.stopping_epoch
    assert rule([0.9, 0.5, 0.39, 0.1], planted_gap=1.0, fraction=0.4, max_epochs=6) == 3
    assert rule([0.9, 0.5, 0.45], planted_gap=1.0, fraction=0.4, max_epochs=3) == 3, "the cap"
    assert rule([0.3, 0.1], planted_gap=1.0, fraction=0.4, max_epochs=6) == 1
    assert rule([0.4], planted_gap=1.0, fraction=0.4, max_epochs=6) == 1, "none met: the last epoch run"
    assert not buried_skill.stop_now(0.4, 1.0, 0.4), "strictly below the fraction"
    assert rule([0.2, -0.1], planted_gap=-0.05, fraction=0.4, max_epochs=6) == 1, "nothing planted: stop at once"
    # the rule reads the dev gaps only: the same dev gaps give the same epoch whatever else happens
    assert rule(np.array([0.8, 0.2]), 1.0, 0.4, 6) == 2


def test_burial_blocks_are_fresh_each_epoch():
    from resurface.models import load_tokenizer

    tok = load_tokenizer("tiny-llama")
    texts = [f"document number {i} says something about topic {i * 7}." for i in range(200)]
    epochs = buried_skill.burial_blocks(texts, tok, 16, 64, 3, seed=1)
    assert len(epochs) == 3 and all(e.shape == (4, 16) for e in epochs)
    flat = [tuple(b.tolist()) for e in epochs for b in e]
    assert len(set(flat)) == len(flat), "no block repeats while the pool lasts"


def test_parameters_are_checked_before_any_work():
    from resurface.errors import ParameterError
    from resurface.study import profiles

    P = profiles.resolve("smoke", "fig13")
    resurfacing.check_params(P)
    for name, bad in (("bury_fraction", 1.5), ("bury_max_epochs", 0), ("bury_epochs", 0), ("skill_entities", 1),
                      ("skill_cross_source", "no-such-model")):
        with pytest.raises(ParameterError) as e:
            resurfacing.check_params({**P, name: bad})
        assert name in str(e.value)


def test_every_profile_declares_the_figure():
    from resurface.study import profiles

    keys = [set(profiles.load(p, "fig13")) for p in profiles.PROFILES]
    assert keys[0] == keys[1] == keys[2]
    for p in profiles.PROFILES:
        q = profiles.resolve(p, "fig13")
        assert 0 < q["bury_fraction"] < 1 and q["bury_max_epochs"] >= 1
    assert profiles.load("course", "fig13")["skill_cross_source"] == "gemma3-270m"


# ------------------------------------------------------------------------------ the claims are the book's
def test_figure_13_claims_are_the_books():
    from resurface.evidence import claims

    got = claims.claims_of("fig13")
    assert got and all(c.whose == "book" for c in got)
    assert {"k_self_resurfaces", "k_self_gt_replay", "k_trace_predicts"} <= {c.id for c in got}


# ------------------------------------------------------------------------------ the stages, in the store
@pytest.mark.slow
def test_world_and_probe_scores_are_store_artifacts(tmp_path, monkeypatch):
    from resurface.artifacts import Store
    from resurface.study import profiles

    monkeypatch.setenv("RESURFACE_STORE", str(tmp_path / "store"))
    P = profiles.resolve("smoke", "fig13")
    store = Store()
    w1 = resurfacing.skill_world(P, store)
    assert resurfacing.skill_world(P, store) == w1, "the second call reads the store"
    assert resurfacing.skill_world({**P, "skill_entities": 5}, store) != w1, "the key follows the config"
    assert (w1 / "probes_test.jsonl").exists() and (w1 / "corpus.jsonl").exists()
    p1 = resurfacing.probe_eval(P["student"], w1, P, store)
    assert resurfacing.probe_eval(P["student"], w1, P, store) == p1
    items = resurfacing.probe_items_of(p1)
    assert set(items["task"]) == {"rs_skill_dev", "rs_skill_test"}
    assert (items.loc[items["metric"] == items_skill.PRIMARY, "value"] <= 0).all()


@pytest.mark.slow
def test_a_fixed_burial_runs_every_epoch_and_scores_general_english(tmp_path, monkeypatch):
    """``bury_epochs`` buries for exactly that many epochs whatever the probes do, and records the held-out
    English NLL after each; the two kinds of burial never share a store key."""
    import json

    import pandas as pd

    from resurface.artifacts import Store
    from resurface.measures.health import heldout_english
    from resurface.study import profiles
    from resurface.study.experiments import replay_corpus

    monkeypatch.setenv("RESURFACE_STORE", str(tmp_path / "store"))
    P = profiles.resolve("smoke", "fig13", {"bury_epochs": 3, "bury_fraction": 0.99})
    store = Store()
    world = resurfacing.skill_world(P, store)
    planted = buried_skill.planted_model(P, world, store)
    replay = replay_corpus(P, P["student"], store)
    heldout = heldout_english(P, replay, store)
    folder = buried_skill.bury(P, planted, world, replay, heldout, store)
    curve = pd.read_csv(folder / "bury.csv")
    info = json.loads((folder / "bury.json").read_text())
    assert sorted(curve["epoch"].unique()) == [0, 1, 2, 3] and info["fixed"] and info["stopped_at"] == 3
    assert curve["heldout_nll"].notna().all() and (curve["heldout_nll"] > 0).all()
    ruled = buried_skill.bury({**P, "bury_epochs": None}, planted, world, replay, heldout, store)
    assert ruled != folder and not json.loads((ruled / "bury.json").read_text())["fixed"]
