"""The paper profile's stage choices, run on CPU with smoke models standing in (no GPU, no Hub)."""

from __future__ import annotations

import json

import pytest

from resurface.study import experiments, profiles

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_paper_profile_asks_for_vllm_sampling_and_checks_the_replay_column():
    P = profiles.resolve("paper", "fig02")
    assert P["sample_engine"] == "vllm"
    assert P["replay_language_column"] == "language" and P["replay_language"] == "English"
    with pytest.raises(Exception, match="sample_engine"):
        profiles.resolve("paper", "fig02", sample_engine="tgi")


def test_vllm_sampling_falls_back_to_the_transformers_loop_in_one_line(store, capsys, monkeypatch):
    """The paper profile's sample_engine on a machine without vllm (this one): the smoke student is
    sampled with the transformers loop; one line says so and that the artifact key differs."""
    monkeypatch.setattr(experiments, "_ENGINE_SAID", set())
    P = {**profiles.resolve("smoke", "fig02"), "sample_engine": "vllm"}
    from resurface.corpus.sampling import vllm_sampling_unavailable

    if vllm_sampling_unavailable() is None:
        pytest.skip("vllm and a GPU are present: the fallback is not taken here")
    corpus = experiments.sampled_corpus(P, P["student"], P["temperatures"][0], store)
    err = capsys.readouterr().err
    lines = [l for l in err.splitlines() if "sample_engine vllm" in l]
    assert len(lines) == 1 and "transformers loop (hf)" in lines[0] and "another artifact key" in lines[0]
    metas = [json.loads(p.read_text()) for p in store.root.glob("sample/*/meta.json")]
    assert metas and all(m.get("engine") == "hf" for m in metas)
    assert (corpus / "corpus.jsonl").exists()
    # said once per process, however many corpora are sampled
    experiments.sampled_corpus(P, P["student"], P["temperatures"][0], store)
    assert "sample_engine vllm" not in capsys.readouterr().err


def test_an_unknown_sample_engine_is_refused():
    from resurface.corpus.sampling import resolve_sample_engine
    from resurface.errors import ParameterError

    with pytest.raises(ParameterError, match="sample_engine"):
        resolve_sample_engine("tgi")
    assert resolve_sample_engine("hf") == "hf"
