"""General held-out NLL of a trained or planted model next to its base's (resurface.measures.health)."""

import pytest

from resurface.corpus.files import read_corpus, write_corpus
from resurface.errors import ParameterError
from resurface.evidence import findings
from resurface.measures import health
from resurface.study import profiles
from resurface.tiny import ensure_tiny


@pytest.fixture(scope="module")
def P():
    return profiles.load("smoke")


def test_heldout_texts_avoid_the_replay_pool_and_are_seeded(P, store, tmp_path):
    first = health.heldout_english(P, None, store, n=6)
    texts = [r["text"] for r in read_corpus(first)]
    assert len(texts) == len(set(texts)) == 6
    replay = write_corpus(tmp_path / "replay", [{"text": texts[0], "num_tokens": 0}], {"model": "replay"})
    again = health.heldout_english(P, replay, store, n=6)
    assert texts[0] not in {r["text"] for r in read_corpus(again)}
    assert health.heldout_english(P, None, store, n=6) == first  # cached, same seed, same texts
    with pytest.raises(ParameterError, match="'n'"):
        health.heldout_english(P, None, store, n=1)


def test_general_nll_puts_each_model_next_to_its_base(P, store):
    heldout = health.heldout_english(P, None, store, n=4)
    other = str(ensure_tiny("tiny-llama", seed=1))
    t = health.general_nll(P, {"itself": "tiny-llama", "another": other}, "tiny-llama", heldout, store)
    assert list(t["model"]) == ["base", "itself", "another"]
    same = t.iloc[1]
    assert same["delta"] == pytest.approx(0.0, abs=1e-6) and same["within_margin"]
    diff = t.iloc[2]
    assert diff["delta"] != 0.0  # another model: another score (random tiny models differ only a little)
    assert diff["lo"] <= diff["delta"] <= diff["hi"]
    assert diff["within_margin"] == (diff["relative"] <= health.HEALTH_MARGIN_REL)
    note = findings.describe_health(t)
    assert "nats per token" in note and "+10%" in note and "another" in note


def test_the_health_note_names_every_model_outside_the_margin_in_plain_english():
    import pandas as pd

    rows = [{"model": m, "nll_per_token": v, "relative": r, "within_margin": r <= 0.1}
            for m, v, r in (("base", 3.2, 0.0), ("planted with K", 8.4, 1.63), ("after burial", 3.9, 0.23))]
    note = findings.describe_health(pd.DataFrame(rows))
    assert "planted with K 8.40 (+163%); after burial 3.90 (+23%)" in note
    assert note.endswith("planted with K and after burial are outside it.")


def test_a_pool_of_every_docstring_still_leaves_held_out_english(P, store):
    """The course's replay pool (1,500 documents) takes every docstring a replay may use; the held-out
    share is never among them, so the planted models can still be scored (32 texts, as the figures do)."""
    from resurface.corpus.replay import build_replay, is_held_out

    replay = build_replay("stdlib-docs", max_docs=100_000, min_chars=200, seed=1, store=store)
    pool = {r["text"] for r in read_corpus(replay)}
    assert pool and not any(is_held_out(t) for t in pool)
    heldout = health.heldout_english(P, replay, store, n=health.HEALTH_TEXTS)
    texts = [r["text"] for r in read_corpus(heldout)]
    assert len(texts) == health.HEALTH_TEXTS and not set(texts) & pool
    assert all(is_held_out(t) and len(t) >= 400 for t in texts)
