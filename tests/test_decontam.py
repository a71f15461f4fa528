"""The 8-gram audit: normalisation, the >=1 shared n-gram rule, reports, the stage and its CLI."""

import json

import pytest

from resurface.corpus.files import read_corpus, read_meta, write_corpus
from resurface.corpus.decontam import audit, corpus_key, decontaminate, fingerprints, hits
from resurface.ngrams import ngrams, normalize
from resurface.errors import ParameterError

BENCH = {
    "gsm_like": ["Natalia sold clips to 48 of her friends in April, and then she sold half as many "
                 "clips in May. How many clips did Natalia sell altogether?"],
    "arc_like": ["Which property of a mineral can be determined just by looking at it? luster mass "
                 "weight hardness"],
}


def test_normalize_lowercases_deletes_punctuation_and_splits():
    assert normalize("Hello,   WORLD!\n\tIt's  a-b c_d 3.5") == ["hello", "world", "its", "ab", "c_d", "35"]
    assert normalize("  ") == []


def test_ngrams_and_fingerprints():
    assert list(ngrams(["a", "b", "c"], 2)) == ["a b", "b c"]
    assert list(ngrams(["a", "b"], 3)) == []
    fps = fingerprints({"x": ["One two three four", "two three four five"]}, 3)
    assert fps == {"x": {"one two three", "two three four", "three four five"}}


def test_planted_8gram_differing_in_case_and_punctuation_is_removed_7gram_kept():
    records = [
        # 8 consecutive words of gsm_like, with other case and punctuation
        {"id": 0, "text": "Intro text. NATALIA sold clips -- to 48 of her, friends! and more"},
        # 8 words of arc_like inside other text
        {"id": 1, "text": "we ask: which PROPERTY of a mineral can be determined? yes"},
        # only 7 consecutive words of gsm_like, then a different word
        {"id": 2, "text": "natalia sold clips to 48 of her enemies in april"},
        # unrelated
        {"id": 3, "text": "the quick brown fox jumps over the lazy dog again and again"},
        # shorter than 8 words: can never match
        {"id": 4, "text": "natalia sold clips"},
        # hits both benchmarks
        {"id": 5, "text": "in May, how many clips did natalia sell altogether? which property of a mineral "
                          "can be determined just"},
    ]
    kept, removed, report = audit(records, BENCH, n=8)
    assert [r["id"] for r in kept] == [2, 3, 4]
    assert [r["id"] for r in removed] == [0, 1, 5]
    assert {r["id"]: r["benchmarks"] for r in removed} == {
        0: ["gsm_like"], 1: ["arc_like"], 5: ["arc_like", "gsm_like"]}
    assert report["total_in"] == 6 and report["kept"] == 3 and report["removed"] == 3
    assert report["removed_per_benchmark"] == {"gsm_like": 2, "arc_like": 2}
    assert report["ngram"] == 8 and report["benchmark_items"] == {"gsm_like": 1, "arc_like": 1}
    # with n=7 the 7-gram overlap counts
    kept7, removed7, _ = audit(records, BENCH, n=7)
    assert 2 in [r["id"] for r in removed7]


def test_hits_and_bad_n():
    fps = fingerprints(BENCH, 8)
    assert hits("Natalia sold clips to 48 of her friends", fps, 8) == ["gsm_like"]
    with pytest.raises(ParameterError) as err:
        audit([], BENCH, n=0)
    assert err.value.name == "ngram"


@pytest.fixture
def fake_suites(monkeypatch):
    """A stand-in for resurface.evaluate.suites.benchmark_texts with one planted suite (isolates this test
    from its data)."""
    from resurface.evaluate import suites

    calls = []

    def benchmark_texts(suite, allow_hub=False):
        calls.append((suite, allow_hub))
        if suite != "planted":
            raise ParameterError("suite", f"unknown suite {suite!r}", "planted")
        return BENCH

    monkeypatch.setattr(suites, "benchmark_texts", benchmark_texts)
    return calls


def _corpus(tmp_path, name="src"):
    records = [{"id": i, "text": t, "num_tokens": 10, "mean_nll": 2.0} for i, t in enumerate([
        "The answer: Natalia sold clips to 48 of her friends in April.",
        "A perfectly ordinary sentence that shares nothing at all with any benchmark item.",
        "Which property of a mineral can be determined just by looking at it, he asked.",
    ])]
    return write_corpus(tmp_path / name, records, {"kind": "sampled", "model": "m", "temperature": 1.0})


def test_decontaminate_writes_clean_corpus_meta_and_removed(tmp_path, store, fake_suites):
    src = _corpus(tmp_path)
    out = decontaminate(src, "planted", store=store, progress=False)
    assert [r["id"] for r in read_corpus(out)] == [1]
    meta = read_meta(out)
    assert meta["model"] == "m" and meta["suite"] == "planted" and meta["ngram"] == 8
    assert meta["decontamination"]["removed"] == 2 and meta["num_records"] == 1
    removed = [json.loads(l) for l in (out / "removed.jsonl").read_text().splitlines()]
    assert sorted((r["id"], tuple(r["benchmarks"])) for r in removed) == [(0, ("gsm_like",)), (2, ("arc_like",))]
    # cached on a second call; another n is another artifact
    assert decontaminate(src, "planted", store=store, progress=False) == out
    assert decontaminate(src, "planted", ngram=13, store=store, progress=False) != out
    # the input key of a plain folder is the content hash; of an artifact, its store key
    art = json.loads((out / "artifact.json").read_text())
    assert art["inputs"] == [corpus_key(src)] and corpus_key(src).startswith("sha256:")
    assert corpus_key(out) == f"decontaminate/{art['key']}"


def test_decontaminate_validates_before_work(tmp_path, fake_suites):
    with pytest.raises(ParameterError) as err:
        decontaminate(tmp_path, "planted", ngram=0)
    assert err.value.name == "ngram"
    from resurface.corpus.files import CorpusError

    with pytest.raises(CorpusError, match="no such corpus folder"):
        decontaminate(tmp_path / "missing", "planted")
    assert fake_suites == []  # nothing was loaded


def test_decontaminate_against_the_smoke_suite(tmp_path, store):
    """Integration with the shipped offline suite: a planted item text is removed."""
    from resurface.evaluate.suites import benchmark_texts

    texts = benchmark_texts("smoke")
    task, item = next((t, x) for t, xs in sorted(texts.items()) for x in xs if len(normalize(x)) >= 8)
    planted = " ".join(normalize(item)[:8]).upper() + " !!"
    src = write_corpus(tmp_path / "c", [{"id": 0, "text": "zzz qqq"}, {"id": 1, "text": planted}], {})
    out = decontaminate(src, "smoke", store=store, progress=False)
    assert [r["id"] for r in read_corpus(out)] == [0]
    assert read_meta(out)["decontamination"]["removed_per_benchmark"][task] >= 1


def test_cli_decontaminate(tmp_path, capsys, fake_suites):
    from resurface.cli import main

    src = _corpus(tmp_path)
    rc = main(["decontaminate", "--corpus", str(src), "--suite", "planted", "--out", str(tmp_path / "clean")])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == str(tmp_path / "clean")
    assert "2 removed" in lines[0]
    assert len(read_corpus(tmp_path / "clean")) == 1
