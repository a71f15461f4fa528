"""The artifact store: keys, atomic writes, DONE markers, checksums, resume folders."""

import json
import os

import pytest

from resurface.artifacts import make_key

BASE = {"model": "tiny-llama", "revision": "r1", "prompt": "<s>", "temperature": 1.0, "seed": 42,
        "num_samples": 8, "max_new_tokens": 16}


@pytest.mark.parametrize("field", sorted(BASE))
def test_every_config_field_changes_the_key(field):
    changed = dict(BASE)
    value = BASE[field]
    changed[field] = value + 1 if isinstance(value, (int, float)) else str(value) + "x"
    assert make_key("sample", 1, BASE) != make_key("sample", 1, changed)


def test_key_depends_on_stage_version_and_inputs_not_dict_order():
    k = make_key("sample", 1, BASE)
    assert k == make_key("sample", 1, dict(reversed(list(BASE.items()))))
    assert k != make_key("sample", 2, BASE)
    assert k != make_key("train", 1, BASE)
    assert k != make_key("sample", 1, BASE, inputs=["abc"])


def _writer(calls):
    def compute(work):
        calls.append(work)
        (work / "corpus.jsonl").write_text('{"text": "hello"}\n')
        return {"note": "x"}
    return compute


def test_get_or_compute_writes_once_and_records_metadata(store):
    calls = []
    a = store.get_or_compute("sample", 1, BASE, _writer(calls), verbose=False)
    b = store.get_or_compute("sample", 1, BASE, _writer(calls), verbose=False)
    assert len(calls) == 1 and a.path == b.path
    assert (a.path / "DONE").exists()
    meta = json.loads((a.path / "artifact.json").read_text())
    assert meta["config"] == BASE and meta["note"] == "x"
    assert meta["files"]["corpus.jsonl"]["bytes"] == len('{"text": "hello"}\n')
    assert "torch" in meta["versions"]


def test_artifact_without_done_is_never_read(store):
    a = store.get_or_compute("sample", 1, BASE, _writer([]), verbose=False)
    os.remove(a.path / "DONE")
    assert store.load("sample", a.key) is None
    calls = []
    store.get_or_compute("sample", 1, BASE, _writer(calls), verbose=False)
    assert len(calls) == 1


def test_failed_compute_leaves_partial_for_resume_and_no_artifact(store):
    def boom(work):
        (work / "shard0").write_text("done part")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        store.get_or_compute("sample", 1, BASE, boom, verbose=False)
    key = make_key("sample", 1, BASE)
    assert store.load("sample", key) is None
    seen = {}

    def resume(work):
        seen["partial"] = (work / "shard0").read_text()
        (work / "corpus.jsonl").write_text("{}\n")

    art = store.get_or_compute("sample", 1, BASE, resume, verbose=False)
    assert seen["partial"] == "done part"
    assert art.meta["resumed"] is True


@pytest.mark.parametrize("damage", ["truncate", "alter", "delete"])
def test_corrupt_artifact_is_detected_quarantined_and_recomputed(store, damage):
    a = store.get_or_compute("sample", 1, BASE, _writer([]), verbose=False)
    f = a.path / "corpus.jsonl"
    if damage == "truncate":
        f.write_text('{"text": "he')
    elif damage == "alter":
        f.write_text('{"text": "HELLO"}\n')
    else:
        f.unlink()
    calls = []
    b = store.get_or_compute("sample", 1, BASE, _writer(calls), verbose=False)
    assert len(calls) == 1
    assert (b.path / "corpus.jsonl").read_text() == '{"text": "hello"}\n'
    assert any((store.root / ".corrupt").iterdir())


def test_ls_and_gc(store):
    store.get_or_compute("sample", 1, BASE, _writer([]), verbose=False)
    with pytest.raises(RuntimeError):
        store.get_or_compute("train", 1, BASE, lambda w: (_ for _ in ()).throw(RuntimeError()), verbose=False)
    rows = store.ls()
    assert {(r["stage"], r["status"]) for r in rows} == {("sample", "done"), ("train", "partial")}
    removed = store.gc()
    assert len(removed) == 1 and not removed[0].exists()
    assert [r["stage"] for r in store.ls()] == ["sample"]
