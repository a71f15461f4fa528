"""Artifact keys follow the weights, not their path (resurface.identity; issue 20).

(a) every stage that takes a model recomputes after the weights of a local folder are rewritten with
same-size, same-shape tensors, and reuses its artifact for a copy of the folder elsewhere; (b) a store
holding the planted-model chain of Figs 7/8 is moved and copied and every artifact is found again;
(c) the per-file digest cache sees a same-size rewrite whose modification time was restored.
"""

import json
import os
import shutil
from pathlib import Path

import pytest

from resurface import identity
from resurface.artifacts import META, Store, canonical_json
from resurface.corpus.files import write_corpus
from resurface.models import local_path

pytestmark = pytest.mark.usefixtures("one_thread")

TEXTS = ["The river rose after three days of rain, and the bridge was closed to every cart.",
         "def area(w, h):\n    return w * h\n\nprint(area(3, 4))\n",
         "Mira sent the letter on Monday; the reply came back a week later with a map inside."]


def _copy_model(alias: str, dest: Path) -> Path:
    shutil.copytree(local_path(alias), dest, ignore=shutil.ignore_patterns("DONE", "*.lock"))
    return dest


def _rewrite_weights(folder: Path, seed: int = 1) -> None:
    """New values in every float tensor of model.safetensors: same names, shapes, dtypes, file size."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    f = folder / "model.safetensors"
    before = f.stat().st_size
    with safe_open(str(f), "pt") as h:
        meta = h.metadata()
    gen = torch.Generator().manual_seed(seed)
    tensors = {k: v + 0.05 * torch.randn(v.shape, generator=gen).to(v.dtype) if v.is_floating_point() else v
               for k, v in load_file(str(f)).items()}
    save_file(tensors, str(f), metadata=meta)
    assert f.stat().st_size == before


def _no_paths(store: Store, *paths: Path) -> None:
    """No artifact key (config and inputs, as hashed by the store) names any of ``paths``."""
    for meta in store.root.glob(f"*/*/{META}"):
        info = json.loads(meta.read_text())
        keyed = canonical_json({"config": info["config"], "inputs": info["inputs"]})
        for p in paths:
            assert str(p) not in keyed, f"{meta.parent}: {p} in its key"


@pytest.fixture
def corpus(tmp_path):
    return write_corpus(tmp_path / "corpus", [{"text": t, "num_tokens": 0} for t in TEXTS], {"model": "test"})


# ------------------------------------------------------------------------ (a) every stage
def _sample(folder, store, ctx):
    from resurface.corpus.sampling import sample

    return sample(str(folder), temperature=1.0, num_samples=2, max_new_tokens=4, batch_size=2, device="cpu",
                  store=store, progress=False)


def _nll(folder, store, ctx):
    from resurface.measures.proxies import nll, read_nll

    out = nll(ctx["corpus"], str(folder), max_tokens=16, device="cpu", store=store)
    ctx.setdefault("nll", []).append(read_nll(out)["mean_nll"].tolist())
    return out


def _train(folder, store, ctx):
    from resurface.train.training import train_run

    def hook(model, tokenizer, epoch):
        return [{"suite": "probe", "task": "x", "metric": "acc", "value": 0.5, "stderr": 0.0}]

    return train_run(str(folder), ctx["corpus"], epochs=1, lr=1e-3, block_size=8, batch_size=2,
                     effective_batch=2, eval_hook=hook, device="cpu", store=store, progress=False)


def _evaluate(folder, store, ctx):
    from resurface.evaluate.evaluation import evaluate

    return evaluate(str(folder), "smoke", limit=1, device="cpu", store=store)


def _extract(folder, store, ctx):
    from resurface.measures.attacks import extract
    from resurface.corpus.pools import build_pool

    pool = build_pool("planted", domains=["email"], per_domain=1, min_tokens=8, tokenizer="tiny-llama",
                      store=store, progress=False)
    return extract(str(folder), pool, prefix_tokens=4, suffix_tokens=4, batch_size=2, device="cpu",
                   store=store, progress=False)


def _plant(folder, store, ctx):
    from resurface.train.planting import plant
    from resurface.corpus.pools import build_pool

    pool = build_pool("planted", domains=["email"], per_domain=1, min_tokens=8, tokenizer="tiny-llama",
                      store=store, progress=False)
    return plant(str(folder), pool, epochs=1, lr=1e-3, block_size=8, batch_size=2, device="cpu", store=store,
                 progress=False)


def _similarity(folder, store, ctx):
    from resurface.measures.proxies import item_embeddings

    return item_embeddings("smoke", str(folder), max_tokens=16, device="cpu", store=store, progress=False)


STAGES = {"sample": ("tiny-llama", _sample), "nll": ("tiny-llama", _nll), "train": ("tiny-llama", _train),
          "evaluate": ("tiny-llama", _evaluate), "extract": ("tiny-llama", _extract), "plant": ("tiny-llama", _plant),
          "item-embeddings": ("minilm", _similarity)}


@pytest.mark.parametrize("stage", list(STAGES))
def test_rewritten_weights_are_recomputed_and_a_copied_folder_is_not(stage, tmp_path, store, corpus):
    alias, run = STAGES[stage]
    folder = _copy_model(alias, tmp_path / "model")
    ctx = {"corpus": corpus}
    first = run(folder, store, ctx)
    elsewhere = shutil.copytree(folder, tmp_path / "elsewhere" / "model")
    assert run(elsewhere, store, ctx) == first  # the content, not the path, is in the key
    _rewrite_weights(folder)
    second = run(folder, store, ctx)
    assert second != first and Path(second).exists()
    assert run(folder, store, ctx) == second
    if stage == "nll":  # the scorer kept in memory was reloaded, not reused
        assert ctx["nll"][0] != ctx["nll"][2]
    _no_paths(store, tmp_path, identity._digest_cache().parent)


def test_identity_of_aliases_is_unchanged_and_a_folder_has_no_path(tmp_path):
    p = local_path("tiny-llama")
    assert identity.model_identity("tiny-llama", p) == {"kind": "alias:tiny", "folder": p.name}
    folder = _copy_model("tiny-llama", tmp_path / "m")
    ident = identity.model_identity(str(folder))
    assert ident["kind"] == "folder" and "model.safetensors" in ident["files"] and "config.json" in ident["files"]
    assert str(tmp_path) not in canonical_json(ident)
    assert identity.key_name(str(folder)) == identity.LOCAL_FOLDER and identity.key_name("tiny-llama") == "tiny-llama"
    (folder / "notes.txt").write_text("does not change outputs")
    assert identity.model_identity(str(folder)) == ident
    (folder / "generation_config.json").write_text('{"do_sample": true}')
    assert identity.model_identity(str(folder)) != ident


# ------------------------------------------------------------------------ (b) a moved store
def test_moved_and_copied_store_finds_the_whole_planted_model_chain(tmp_path, capsys):
    from resurface.study import planted_memory, profiles

    P = {**profiles.load("smoke", "fig07"), "num_subsets": 1, "eval_limit": 1, "device": "cpu"}
    built = tmp_path / "built"
    study = planted_memory.run_study(P, Store(built))
    err = capsys.readouterr().err
    assert "plant/" in err and "computing" in err
    listing = sorted((r["stage"], r["key"], r["status"]) for r in Store(built).ls())
    assert {s for s, _, _ in listing} >= {"pool", "plant", "sample", "decontaminate", "exclude-pool", "subsets",
                                          "extract", "train", "base-eval"}
    identity_of_base = identity.model_identity(study.base)
    assert identity_of_base["kind"] == "artifact" and identity_of_base["artifact"].startswith("plant/")
    _no_paths(Store(built), tmp_path, identity._digest_cache().parent)

    moved = tmp_path / "moved"
    os.rename(built, moved)
    copied = tmp_path / "copied"
    shutil.copytree(moved, copied)
    for root in (moved, copied):
        again = planted_memory.run_study(P, Store(root))
        err = capsys.readouterr().err
        store_lines = [ln for ln in err.splitlines() if ln.startswith("[store]")]
        assert store_lines and all(ln.endswith(": cached") for ln in store_lines), store_lines
        assert sorted((r["stage"], r["key"], r["status"]) for r in Store(root).ls()) == listing
        assert Path(again.base).is_relative_to(root)
        where = ["student", "run_path"]  # the folders (paths, not keys) are where the store now is
        assert again.results.drop(columns=where, errors="ignore").equals(
            study.results.drop(columns=where, errors="ignore"))
        assert all(Path(p).is_relative_to(root) for p in again.results["run_path"])


# ------------------------------------------------------------------------ (c) the digest cache
@pytest.fixture
def digest_cache(tmp_path, monkeypatch):
    d = tmp_path / "digests"
    monkeypatch.setattr(identity, "_digest_cache", lambda: d)
    return d


def _no_hashing(monkeypatch):
    import resurface.artifacts

    def refuse(path, chunk=0):
        raise AssertionError(f"{path} was hashed again")

    monkeypatch.setattr(resurface.artifacts, "sha256_file", refuse)


def test_second_lookup_costs_a_stat(tmp_path, digest_cache, monkeypatch):
    f = tmp_path / "model.safetensors"
    f.write_bytes(b"a" * 4096)
    first = identity.file_digest(f)
    assert len(list(digest_cache.rglob("*"))) == 2  # one fan-out folder, one entry; no temp file left
    _no_hashing(monkeypatch)
    assert identity.file_digest(f) == first


def test_in_place_same_size_rewrite_with_restored_mtime_is_seen(tmp_path, digest_cache):
    """(dev, inode, size, mtime_ns) stay equal after an in-place rewrite whose mtime is put back with
    os.utime; st_ctime_ns (which utime cannot set) is what changes, so it is in the cache key."""
    f = tmp_path / "model.safetensors"
    f.write_bytes(b"a" * 4096)
    first = identity.file_digest(f)
    st = f.stat()
    with open(f, "r+b") as h:  # same inode, same size
        h.write(b"b" * 16)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    st2 = f.stat()
    assert (st2.st_dev, st2.st_ino, st2.st_size, st2.st_mtime_ns) == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    assert identity.file_digest(f) != first


def test_replaced_file_with_restored_mtime_is_seen(tmp_path, digest_cache):
    f = tmp_path / "model.safetensors"
    f.write_bytes(b"a" * 4096)
    first = identity.file_digest(f)
    st = f.stat()
    tmp = tmp_path / "new.tmp"
    tmp.write_bytes(b"c" * 4096)
    os.replace(tmp, f)  # a new inode
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert f.stat().st_size == st.st_size and f.stat().st_mtime_ns == st.st_mtime_ns
    assert identity.file_digest(f) != first


def test_display_name_is_short_for_store_folders(tmp_path):
    from resurface.identity import display_name

    model = tmp_path / "store" / "plant" / "deb13f90abb9af4c" / "model"
    model.mkdir(parents=True)
    assert display_name(str(model)) == "plant/deb13f90"
    assert display_name(str(tmp_path)) == tmp_path.name
    assert display_name("smollm2-135m") == "smollm2-135m"


def test_plant_layouts_are_separate_artifacts_and_a_wrong_one_is_named(tmp_path):
    from resurface.errors import ParameterError
    from resurface.train.planting import plant
    from resurface.corpus.pools import build_pool

    store = Store(tmp_path / "store")
    pool = build_pool("planted", domains=["email"], per_domain=2, min_tokens=8, tokenizer="tiny-llama",
                      store=store, progress=False)
    kw = dict(epochs=1, lr=1e-3, block_size=16, batch_size=2, device="cpu", store=store, progress=False)
    with pytest.raises(ParameterError) as exc:
        plant("tiny-llama", pool, layout="stacked", **kw)
    assert exc.value.name == "plant_layout" and "rows" in str(exc.value)
    rows, packed = plant("tiny-llama", pool, layout="rows", **kw), plant("tiny-llama", pool, **kw)
    assert rows != packed and rows.is_dir() and packed.is_dir()
    info = json.loads((rows.parent / "plant.json").read_text())
    assert info["steps"] == 1  # two texts, one row each, one step of two rows


def test_plant_anchor_rows_start_with_the_prompt_key_the_artifact_and_need_rows(tmp_path):
    from resurface.corpus.files import write_corpus
    from resurface.errors import ParameterError
    from resurface.train.planting import plant
    from resurface.corpus.pools import build_pool

    store = Store(tmp_path / "store")
    pool = build_pool("planted", domains=["email"], per_domain=2, min_tokens=8, tokenizer="tiny-llama",
                      store=store, progress=False)
    anchors = write_corpus(tmp_path / "anchors", [{"text": "an ordinary sample"}, {"text": "and another one"},
                                                  {"text": "a third"}], {"source": "test"})
    kw = dict(epochs=2, lr=1e-3, block_size=16, batch_size=2, device="cpu", store=store, progress=False)
    with pytest.raises(ParameterError) as exc:
        plant("tiny-llama", pool, anchors=anchors, anchor_tokens=6, **kw)  # packed layout
    assert exc.value.name == "plant_anchor_tokens" and "rows" in str(exc.value)
    with pytest.raises(ParameterError) as exc:
        plant("tiny-llama", pool, layout="rows", anchors=anchors, anchor_tokens=1, **kw)
    assert exc.value.name == "plant_anchor_tokens"
    bare = plant("tiny-llama", pool, layout="rows", **kw)
    anchored = plant("tiny-llama", pool, layout="rows", anchors=anchors, anchor_tokens=6, **kw)
    assert anchored != bare
    info = json.loads((anchored.parent / "plant.json").read_text())
    assert info["rows"] == 2 * (2 + 3)  # two passes of two pool rows and three anchor rows
    assert info["steps"] == 5


def test_plant_mixes_general_text_rows_per_pass_and_keys_them(tmp_path):
    from resurface.corpus.files import write_corpus
    from resurface.errors import ParameterError
    from resurface.train.planting import general_rows, plant
    from resurface.corpus.pools import build_pool

    docs = [f"document {i} of general text" for i in range(5)]
    rows = general_rows(docs, 2, 3, seed=1)
    assert len(rows) == 6 and set(rows[:5]) == set(docs)  # every document once before any repeats
    assert rows != general_rows(docs, 2, 3, seed=2) or len(docs) < 3
    store = Store(tmp_path / "store")
    pool = build_pool("planted", domains=["email"], per_domain=2, min_tokens=8, tokenizer="tiny-llama",
                      store=store, progress=False)
    general = write_corpus(tmp_path / "general", [{"text": t} for t in docs], {"source": "test"})
    kw = dict(epochs=2, lr=1e-3, block_size=16, batch_size=2, device="cpu", store=store, progress=False)
    with pytest.raises(ParameterError) as exc:
        plant("tiny-llama", pool, general=general, general_docs=2, **kw)  # packed layout
    assert exc.value.name == "plant_mix_docs" and "rows" in str(exc.value)
    with pytest.raises(ParameterError) as exc:
        plant("tiny-llama", pool, layout="rows", general=general, general_docs=0, **kw)
    assert exc.value.name == "plant_mix_docs"
    bare = plant("tiny-llama", pool, layout="rows", **kw)
    mixed = plant("tiny-llama", pool, layout="rows", general=general, general_docs=3, general_tokens=8, **kw)
    assert mixed != bare
    info = json.loads((mixed.parent / "plant.json").read_text())
    assert info["rows"] == 2 * (2 + 3)  # two passes of two pool rows and three general-text rows
