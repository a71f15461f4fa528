"""Human-text replay corpora: stdlib docstrings offline, the Common Corpus reader on local files."""

import json

import pytest

from resurface.corpus import replay
from resurface.corpus.files import read_corpus, read_meta
from resurface.corpus.decontam import audit
from resurface.errors import ParameterError
from resurface.corpus.replay import build_replay, read_common_corpus


@pytest.fixture(scope="module")
def stdlib_pair(tmp_path_factory):
    """The same stdlib-docs corpus built twice (two child processes), and once with another seed."""
    base = tmp_path_factory.mktemp("replay")
    kw = dict(max_docs=400, min_chars=200)
    a = build_replay("stdlib-docs", seed=0, out=base / "a", **kw)
    b = build_replay("stdlib-docs", seed=0, out=base / "b", **kw)
    c = build_replay("stdlib-docs", seed=1, out=base / "c", **kw)
    return a, b, c


def test_stdlib_docs_is_deterministic_and_large_enough(stdlib_pair):
    a, b, c = stdlib_pair
    text_a = (a / "corpus.jsonl").read_text()
    assert text_a == (b / "corpus.jsonl").read_text()
    assert text_a != (c / "corpus.jsonl").read_text()
    recs = read_corpus(a)
    assert len(recs) == 400  # several hundred documents are available offline
    assert len({r["text"] for r in recs}) == 400  # deduplicated
    assert all(len(r["text"]) >= 200 and r["num_tokens"] == int(len(r["text"]) / 4) for r in recs)
    assert {r["text"] for r in recs} != {r["text"] for r in read_corpus(c)}  # another draw


def test_stdlib_docs_skips_private_test_and_side_effect_modules(stdlib_pair):
    sources = [r["source"] for r in read_corpus(stdlib_pair[0])]
    assert all(not part.startswith("_") for s in sources for part in s.split("."))
    tops = {s.split(".")[0] for s in sources}
    assert not tops & {"antigravity", "this", "tkinter", "turtle", "idlelib", "test"}
    assert len(tops) > 20  # drawn from many modules
    meta = read_meta(stdlib_pair[0])
    assert meta["kind"] == "replay" and meta["num_tokens_source"].startswith("chars/4")
    assert meta["python"] and meta["num_records"] == 400


def test_stdlib_docs_with_a_tokenizer_counts_real_tokens(tmp_path, store):
    from resurface.models import load_tokenizer

    tok = load_tokenizer("tiny-llama")
    out = build_replay("stdlib-docs", max_docs=15, min_chars=300, seed=0, tokenizer=tok, store=store)
    recs = read_corpus(out)
    assert len(recs) == 15
    for r in recs:
        assert r["num_tokens"] == len(tok(r["text"], add_special_tokens=False)["input_ids"])
    assert read_meta(out)["num_tokens_source"].startswith("tokenizer ")
    assert build_replay("stdlib-docs", max_docs=15, min_chars=300, seed=0, tokenizer=tok, store=store) == out


def test_replay_goes_through_the_same_audit(stdlib_pair):
    recs = read_corpus(stdlib_pair[0])
    kept, removed, report = audit(recs, {"bench": [recs[3]["text"]]}, n=8)
    assert [r["id"] for r in removed] == [recs[3]["id"]] and report["kept"] == len(recs) - 1


ROWS = [
    {"identifier": "a1", "collection": "Gutenberg", "language": "English", "text": "  A long English text one.  "},
    {"identifier": "a2", "collection": "Gutenberg", "language": "French", "text": "Un long texte en francais."},
    {"identifier": "a3", "collection": "SEC", "language": "English", "text": "short"},
    {"identifier": "a4", "collection": "SEC", "language": "English", "text": "Another English document here."},
    {"identifier": "a5", "collection": "Wiki", "language": "English", "text": "A long English text one."},  # dup
    {"identifier": "a6", "collection": "Wiki", "language": "English", "text": "Third English document, long."},
    {"identifier": "a7", "collection": "Wiki", "language": "German", "text": "Ein langer deutscher Text."},
    {"identifier": "a8", "collection": "Arxiv", "language": "English", "text": "Fourth English document, long."},
]


def _write_local(tmp_path):
    jsonl = tmp_path / "cc.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = tmp_path / "cc.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), parquet)
    return jsonl, parquet


def test_common_corpus_reader_filters_and_keeps_stream_order(tmp_path):
    rows = [json.loads(l) for l in _write_local(tmp_path)[0].read_text().splitlines()]
    docs = read_common_corpus(rows, max_docs=10, min_chars=10, seed=0, shuffle_buffer=0)
    assert [d["source"] for d in docs] == ["Gutenberg:a1", "SEC:a4", "Wiki:a6", "Arxiv:a8"]
    assert docs[0]["text"] == "A long English text one."  # stripped; the duplicate a5 is dropped
    docs = read_common_corpus(rows, max_docs=2, min_chars=10, seed=0, shuffle_buffer=0)
    assert len(docs) == 2
    fr = read_common_corpus(rows, max_docs=10, min_chars=10, seed=0, language="french", shuffle_buffer=0)
    assert [d["source"] for d in fr] == ["Gutenberg:a2"]
    every = read_common_corpus(rows, max_docs=10, min_chars=0, seed=0, language=None, shuffle_buffer=0)
    assert len(every) == 7  # all but the duplicate


def test_common_corpus_reader_shuffle_buffer_is_seeded(tmp_path):
    rows = [{"language": "English", "text": f"document number {i:03d} of the stream"} for i in range(200)]
    a = read_common_corpus(rows, max_docs=50, min_chars=0, seed=1, shuffle_buffer=64)
    assert a == read_common_corpus(rows, max_docs=50, min_chars=0, seed=1, shuffle_buffer=64)
    assert a != read_common_corpus(rows, max_docs=50, min_chars=0, seed=2, shuffle_buffer=64)
    assert [d["text"] for d in a] != [r["text"] for r in rows[:50]]  # not stream order
    assert len({d["text"] for d in a}) == 50
    # a buffer of 64 only reaches 64 + 49 documents into the stream
    assert max(int(d["text"].split()[2]) for d in a) < 64 + 50


def test_common_corpus_reader_reads_local_files_through_datasets_streaming(tmp_path):
    from datasets import load_dataset

    jsonl, parquet = _write_local(tmp_path)
    for builder, path in (("json", jsonl), ("parquet", parquet)):
        stream = load_dataset(builder, data_files=str(path), split="train", streaming=True)
        docs = read_common_corpus(stream, max_docs=3, min_chars=10, seed=0, shuffle_buffer=0)
        assert [d["source"] for d in docs] == ["Gutenberg:a1", "SEC:a4", "Wiki:a6"]


def test_common_corpus_needs_allow_hub_and_never_touches_the_network_without_it(tmp_path, monkeypatch):
    def no_network(*a, **k):
        raise AssertionError("the Hub was contacted")

    monkeypatch.setattr("resurface.hub.check_reachable", no_network)
    with pytest.raises(ParameterError) as err:
        build_replay("common-corpus", max_docs=10, min_chars=100, seed=0, out=tmp_path)
    assert err.value.name == "allow_hub"
    assert "PleIAs/common_corpus" in str(err.value) and "stdlib-docs" in str(err.value)


def test_common_corpus_with_allow_hub_offline_fails_fast_and_clearly(tmp_path, monkeypatch):
    from resurface.errors import HubUnavailableError

    def unreachable(repo_id, repo_type="model", revision=None, timeout=10.0):
        assert repo_id == "PleIAs/common_corpus" and repo_type == "dataset"
        raise HubUnavailableError(f"cannot reach the Hugging Face Hub for dataset '{repo_id}'")

    monkeypatch.setattr("resurface.hub.check_reachable", unreachable)
    with pytest.raises(HubUnavailableError, match="common_corpus"):
        build_replay("common-corpus", max_docs=10, min_chars=100, seed=0, allow_hub=True, out=tmp_path)


def test_bad_parameters():
    with pytest.raises(ParameterError) as err:
        build_replay("wikipedia", max_docs=10, min_chars=10, seed=0)
    assert err.value.name == "name"
    with pytest.raises(ParameterError) as err:
        build_replay("stdlib-docs", max_docs=0, min_chars=10, seed=0)
    assert err.value.name == "max_docs"
    with pytest.raises(ParameterError) as err:
        read_common_corpus([], max_docs=5, min_chars=-1, seed=0)
    assert err.value.name == "min_chars"
    assert replay.SKIP_MODULES >= {"antigravity", "this", "tkinter", "turtle", "idlelib"}


def test_common_corpus_reader_names_a_renamed_language_column_up_front():
    rows = iter([{"lang": "English", "text": "a long English text " * 5}] * 3)
    with pytest.raises(ParameterError, match="'language'") as e:
        read_common_corpus(rows, max_docs=2, min_chars=0, seed=0, shuffle_buffer=0)
    assert e.value.name == "replay_language_column" and "replay_language=null" in str(e.value)
    # the column given by name is read
    rows = [{"lang": "English", "text": f"a long English text {i}"} for i in range(3)]
    docs = read_common_corpus(rows, max_docs=2, min_chars=0, seed=0, shuffle_buffer=0, language_column="lang")
    assert [d["language"] for d in docs] == ["English", "English"]


def test_common_corpus_reader_stops_after_n_rows_without_a_match():
    import itertools

    read = []

    def endless():  # an unbounded stream of rows whose values never match ("en" vs "English")
        for i in itertools.count():
            read.append(i)
            yield {"language": "en", "text": f"document {i}"}

    with pytest.raises(ParameterError, match="1000 rows in a row") as e:
        read_common_corpus(endless(), max_docs=2, min_chars=0, seed=0, shuffle_buffer=0, max_unmatched_rows=1000)
    assert e.value.name == "replay_language" and "'en' (1000)" in str(e.value)
    assert len(read) == 1000  # stopped, not streamed on
