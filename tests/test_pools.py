"""The Pile pool read from ``.jsonl.zst`` (the format of monology/pile-uncopyrighted), offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resurface.corpus import pools

zstandard = pytest.importorskip("zstandard")

LONG = "word " * 40
ROWS = [
    {"text": "Message-ID: <1.JavaMail> " + LONG, "meta": {"pile_set_name": "Enron Emails"}},
    {"text": "too short", "meta": {"pile_set_name": "Enron Emails"}},
    {"text": "The river delta " + LONG, "meta": {"pile_set_name": "Pile-CC"}},
    {"text": "An arxiv paper " + LONG, "meta": {"pile_set_name": "ArXiv"}},
    {"text": "import os\n" + "x = 1\n" * 30, "meta": {"pile_set_name": "Github"}},
    {"text": "Anarchism is " + LONG, "meta": {"pile_set_name": "Wikipedia (en)"}},
]


def write_zst(path: Path, rows: list[dict]) -> Path:
    """A .jsonl.zst file written with zstandard, as the Pile mirror stores its shards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    path.write_bytes(zstandard.ZstdCompressor(level=3).compress(data))
    return path


def test_iter_pile_file_reads_jsonl_zst(tmp_path):
    f = write_zst(tmp_path / "00.jsonl.zst", ROWS)
    assert list(pools.iter_pile_file(f)) == ROWS


def test_build_pool_from_a_zst_file_and_a_folder_of_shards(tmp_path):
    from resurface.models import load_tokenizer

    tok = load_tokenizer("tiny-llama")
    f = write_zst(tmp_path / "one" / "00.jsonl.zst", ROWS)
    out = pools.build_pool(str(f), domains=list(pools.PILE_DOMAINS), per_domain=1, min_tokens=20, tokenizer=tok,
                           out=tmp_path / "pool", progress=False)
    recs = pools.read_pool(out)
    assert [r["domain"] for r in recs] == ["Enron Emails", "Pile-CC", "Github", "Wikipedia (en)"]
    assert "too short" not in {r["text"] for r in recs}
    # a snapshot folder (train/00.jsonl.zst, train/01.jsonl.zst), read in file order
    write_zst(tmp_path / "snap" / "train" / "00.jsonl.zst", ROWS[:3])
    write_zst(tmp_path / "snap" / "train" / "01.jsonl.zst", ROWS[3:])
    assert [r["text"] for r in pools.pile_rows(str(tmp_path / "snap"), [], seed=0)] == [r["text"] for r in ROWS]
    out2 = pools.build_pool(str(tmp_path / "snap"), domains=list(pools.PILE_DOMAINS), per_domain=1, min_tokens=20,
                            tokenizer=tok, out=tmp_path / "pool2", progress=False)
    assert [r["text"] for r in pools.read_pool(out2)] == [r["text"] for r in recs]


def test_datasets_streams_the_zst_file_as_on_the_hub(tmp_path):
    """The Hub path (datasets' json builder through fsspec) decompresses .zst with the same package."""
    from datasets import load_dataset

    f = write_zst(tmp_path / "00.jsonl.zst", ROWS)
    stream = load_dataset("json", data_files=str(f), split="train", streaming=True)
    got = [pools.record_domain(r) for r in stream]
    assert got == [r["meta"]["pile_set_name"] for r in ROWS]


def test_without_zstandard_the_error_names_the_install(tmp_path, monkeypatch):
    import builtins

    f = write_zst(tmp_path / "00.jsonl.zst", ROWS)
    real = builtins.__import__

    def no_zstd(name, *a, **k):
        if name == "zstandard":
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_zstd)
    with pytest.raises(Exception, match="pip install zstandard"):
        list(pools.iter_pile_file(f))


def test_zst_pile_file_reports_bad_lines_as_the_jsonl_reader_does(tmp_path):
    """One reader for both formats: a bad line in a .jsonl.zst is named with its line number, and a
    text holding U+2028 stays one row (the .zst path once split lines with a text reader)."""
    import zstandard

    from resurface.corpus.files import CorpusError
    from resurface.corpus.pools import iter_pile_file

    good = '{"text": "a\u2028b", "meta": {"pile_set_name": "Github"}}\n'
    path = tmp_path / "00.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress((good + good).encode()))
    rows = list(iter_pile_file(path))
    assert len(rows) == 2 and rows[0]["text"] == "a\u2028b"
    path.write_bytes(zstandard.ZstdCompressor().compress((good + "{not json\n").encode()))
    with pytest.raises(CorpusError, match=r"00\.jsonl\.zst:2: invalid JSON"):
        list(iter_pile_file(path))
