"""Token-budget subsets: budget, replacement, seeding, the estimate, the stage and its CLI."""

import json
import random

import pytest

from resurface.corpus.files import CorpusError, read_corpus, read_meta, write_corpus
from resurface.errors import ParameterError
from resurface.corpus.subsets import draw_subsets, estimate_tokens, make_subsets, subset_dirs


def _records(n=20):
    # text lengths 40..(40+4n) chars -> 10..(10+n) estimated tokens
    return [{"id": i, "text": "x" * (40 + 4 * i), "num_tokens": 3} for i in range(n)]


def test_chars4_estimate_is_the_reference_integer_division():
    assert estimate_tokens({"text": "abcdefg"}) == 1  # int(7 / 4)
    assert estimate_tokens({"text": "a" * 400}) == 100
    assert estimate_tokens({"text": "abc", "num_tokens": 9}, "num_tokens") == 9
    with pytest.raises(ParameterError):
        estimate_tokens({"text": "abc"}, "words")


def test_each_subset_reaches_its_budget_and_overshoots_by_less_than_one_record():
    recs = _records()
    subsets = draw_subsets(recs, 3, 500, seed=42)
    assert len(subsets) == 3
    for s in subsets:
        total = sum(estimate_tokens(r) for r in s)
        assert total >= 500
        assert total - estimate_tokens(s[-1]) < 500  # stopped as soon as the budget was reached


def test_draws_are_with_replacement_and_subsets_differ():
    recs = _records(5)
    subsets = draw_subsets(recs, 2, 400, seed=0)
    for s in subsets:
        ids = [r["id"] for r in s]
        assert len(ids) > len(set(ids))  # 5 records cannot reach 400 tokens without repeats
    assert [r["id"] for r in subsets[0]] != [r["id"] for r in subsets[1]]


def test_same_seed_same_subsets_and_reference_order():
    recs = _records()
    a = draw_subsets(recs, 3, 300, seed=7)
    assert a == draw_subsets(recs, 3, 300, seed=7)
    assert a != draw_subsets(recs, 3, 300, seed=8)
    # one generator for all subsets, drawn one after another (the reference's random.choice loop)
    rng = random.Random(7)
    idx = list(range(len(recs)))
    for s in a:
        assert [r["id"] for r in s] == [rng.choice(idx) for _ in s]


def test_num_tokens_estimate_uses_the_field():
    recs = _records()
    s = draw_subsets(recs, 1, 30, seed=1, estimate="num_tokens")[0]
    assert len(s) == 10  # 3 tokens each -> 10 draws to reach 30


def test_empty_or_weightless_corpus_and_bad_parameters_raise():
    with pytest.raises(ParameterError, match="empty"):
        draw_subsets([], 1, 10, seed=0)
    with pytest.raises(ParameterError, match="0 tokens"):
        draw_subsets([{"text": "ab"}], 1, 10, seed=0)
    for kw, name in [(dict(num_subsets=0), "num_subsets"), (dict(tokens_per_subset=-5), "tokens_per_subset"),
                     (dict(estimate="words"), "estimate")]:
        args = dict(num_subsets=1, tokens_per_subset=10, seed=0)
        args.update(kw)
        with pytest.raises(ParameterError) as err:
            draw_subsets(_records(), **args)
        assert err.value.name == name


def test_make_subsets_writes_corpus_folders_and_summary(tmp_path, store):
    src = write_corpus(tmp_path / "c", _records(), {"kind": "sampled", "temperature": 1.25})
    out = make_subsets(src, 3, 200, seed=42, store=store)
    dirs = subset_dirs(out)
    assert [d.name for d in dirs] == ["subset_00", "subset_01", "subset_02"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["source_records"] == 20 and len(summary["subsets"]) == 3
    for d, info in zip(dirs, summary["subsets"]):
        recs = read_corpus(d)
        assert info["records"] == len(recs)
        assert info["unique_records"] == len({r["id"] for r in recs})
        assert info["estimated_tokens"] == sum(estimate_tokens(r) for r in recs) >= 200
        meta = read_meta(d)
        assert meta["temperature"] == 1.25 and meta["subset"]["index"] == dirs.index(d)
    assert make_subsets(src, 3, 200, seed=42, store=store) == out  # cached
    assert make_subsets(src, 3, 200, seed=43, store=store) != out


def test_make_subsets_on_an_empty_corpus_names_it(tmp_path, store):
    src = write_corpus(tmp_path / "empty", [], {})
    with pytest.raises(CorpusError, match=str(src)):
        make_subsets(src, 1, 10, store=store)
    with pytest.raises(CorpusError, match="not a subsets folder"):
        subset_dirs(tmp_path)


def test_cli_subsets(tmp_path, capsys):
    from resurface.cli import main

    src = write_corpus(tmp_path / "c", _records(), {})
    rc = main(["subsets", "--corpus", str(src), "--num-subsets", "2", "--tokens-per-subset", "100",
               "--seed", "3", "--out", str(tmp_path / "subs")])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == str(tmp_path / "subs") and lines[0].startswith("subset_00:")
    assert len(subset_dirs(tmp_path / "subs")) == 2


# ------------------------------------------------------------------------------ disjoint subsets (issue 29)
def test_disjoint_subsets_share_no_record_and_each_reaches_its_budget():
    recs = _records(40)  # 10..49 estimated tokens each, 1,180 in all
    subsets = draw_subsets(recs, 3, 300, seed=5, draw="disjoint")
    ids = [[r["id"] for r in s] for s in subsets]
    flat = [i for s in ids for i in s]
    assert len(flat) == len(set(flat))  # no record twice, in one subset or across subsets
    for s in subsets:
        total = sum(estimate_tokens(r) for r in s)
        assert total >= 300 and total - estimate_tokens(s[-1]) < 300
    assert subsets == draw_subsets(recs, 3, 300, seed=5, draw="disjoint")
    assert subsets != draw_subsets(recs, 3, 300, seed=6, draw="disjoint")


def test_with_replacement_subsets_of_a_small_corpus_overlap():
    """Why the course draws disjoint subsets: three budgets from a corpus of about three budgets,
    drawn with replacement, share records between runs (the runs are then not independent)."""
    recs = _records(40)
    a, b, _ = draw_subsets(recs, 3, 390, seed=5)
    assert {r["id"] for r in a} & {r["id"] for r in b}


def test_disjoint_subsets_of_too_small_a_corpus_name_num_samples_and_the_fix():
    recs = _records(10)  # 145 estimated tokens
    with pytest.raises(ParameterError) as err:
        draw_subsets(recs, 3, 100, seed=1, draw="disjoint")
    msg = str(err.value)
    assert "num_samples" in msg and "145 estimated tokens" in msg and "with-replacement" in msg


def test_make_subsets_keys_the_draw_and_keeps_the_reference_key(tmp_path, store):
    src = write_corpus(tmp_path / "c", _records(40), {"kind": "sampled"})
    ref = make_subsets(src, 2, 200, seed=42, store=store)
    assert make_subsets(src, 2, 200, seed=42, store=store, draw="with-replacement") == ref
    dis = make_subsets(src, 2, 200, seed=42, store=store, draw="disjoint")
    assert dis != ref and json.loads((dis / "summary.json").read_text())["draw"] == "disjoint"
    ids = [{r["id"] for r in read_corpus(d)} for d in subset_dirs(dis)]
    assert not ids[0] & ids[1]
    with pytest.raises(ParameterError, match="subset_draw"):
        make_subsets(src, 2, 200, seed=42, store=store, draw="sometimes")
