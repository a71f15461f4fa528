"""Figure 12 (resurface.evidence.relational): the relational measures on tiny local data with known values,
the verdict logic on simulated corpora, the siblings parameter's validation, the plan (reusing the
runs of Figures 2 and 5), and the paper profile's loaders on local stand-ins (never a download)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from resurface.study import profiles
from resurface.evidence import claims, relational, verdicts
from resurface.errors import ParameterError


# ------------------------------------------------------------------------------ measures, known values
def _nll(index, mean_nll, num_tokens, truncated=None):
    n = len(index)
    return pd.DataFrame({"index": index, "id": index, "mean_nll": mean_nll, "num_tokens": num_tokens,
                         "truncated": truncated if truncated is not None else [False] * n})


def test_ce_gap_is_the_per_byte_difference_of_total_nll():
    texts = ["abcd", "abcdefgh", "xy"]  # 4, 8, 2 bytes
    st = _nll([0, 1, 2], [2.0, 1.0, 3.0], [2, 4, 1])  # totals 4, 4, 3
    src = _nll([0, 1, 2], [1.0, 0.5, 1.0], [3, 4, 2])  # totals 3, 2, 2 (another tokenizer: other counts)
    g = relational.ce_gap(st, src, texts)
    per = np.array([(4 - 3) / 4, (4 - 2) / 8, (3 - 2) / 2])
    assert g["ce_gap"] == pytest.approx(per.mean())
    assert g["ce_gap_lo"] < g["ce_gap"] < g["ce_gap_hi"] and g["n_samples"] == 3 and g["n_truncated"] == 0
    # a truncated sample (under either scorer) and a sample scored by one side only are left out
    src_t = _nll([0, 1], [1.0, 0.5], [3, 4], [False, True])
    g2 = relational.ce_gap(st, src_t, texts)
    assert g2["n_samples"] == 1 and g2["n_truncated"] == 1 and g2["ce_gap"] == pytest.approx(0.25)


def test_ce_gap_of_the_students_own_corpus_is_zero():
    st = _nll([0, 1, 2], [2.0, 1.0, 3.0], [2, 4, 1])
    g = relational.ce_gap(st, st, ["abcd", "abcdefgh", "xy"])
    assert g["ce_gap"] == 0 and g["ce_gap_lo"] == 0 and g["ce_gap_hi"] == 0


def test_self_excess_is_the_difference_of_means_with_a_welch_interval():
    own = pd.DataFrame({"mean_nll": [2.0, 2.2, 1.8, 2.0]})
    other = pd.DataFrame({"mean_nll": [3.0, 3.4, 2.6, 3.0]})
    e = relational.self_excess(other, own)
    assert e["self_excess"] == pytest.approx(1.0) and e["self_excess_lo"] < 1.0 < e["self_excess_hi"]
    assert relational.self_excess(own, own) == {"self_excess": 0.0, "self_excess_lo": 0.0, "self_excess_hi": 0.0}


@pytest.mark.slow
def test_measures_on_a_tiny_model_self_zero_and_sibling_sampled_gap(tmp_path, store, one_thread):
    """On a tiny model: a corpus it sampled has CE gap exactly 0 under itself, and the sampler's own
    record of the source NLL agrees with the NLL stage up to the EOS and re-tokenisation; a corpus
    scored under a *different* model gives a finite gap."""
    from resurface.corpus.files import read_corpus
    from resurface.measures.proxies import nll, read_nll
    from resurface.corpus.sampling import sample

    corpus = sample("tiny-llama", temperature=1.0, num_samples=6, max_new_tokens=12, min_new_tokens=4, seed=1,
                    batch_size=6, device="cpu", store=store, progress=False)
    texts = [r["text"] for r in read_corpus(corpus)]
    st = read_nll(nll(corpus, "tiny-llama", max_tokens=64, device="cpu", store=store, progress=False))
    assert relational.ce_gap(st, st, texts)["ce_gap"] == 0
    recorded = np.mean([r["mean_nll"] for r in read_corpus(corpus)])
    assert st["mean_nll"].mean() == pytest.approx(recorded, rel=0.25)  # same model, another token convention
    other = read_nll(nll(corpus, "tiny-gemma3", max_tokens=64, device="cpu", store=store, progress=False))
    g = relational.ce_gap(other, st, texts)
    assert np.isfinite(g["ce_gap"]) and g["n_samples"] == len(st)


# ------------------------------------------------------------------------------ verdict logic
def _table(n, rel, intr, util, task="t", metric="m,none"):
    return pd.DataFrame({"condition": [f"c{i}" for i in range(n)], "task": task, "metric": metric, "label": "T",
                         "ce_gap": rel, "self_excess": rel, "nll_mean": intr, "max_cos_mean": intr,
                         "final_delta": util})


def test_a_perfectly_monotone_relational_measure_beats_a_noise_proxy():
    rng = np.random.default_rng(0)
    n = 30
    util = rng.normal(size=n)
    t = _table(n, -util, rng.normal(size=n), util)  # the gap falls exactly as utility rises
    vt = relational.verdict_table(t, B=1000)
    assert len(vt) == 4 and (vt["verdict"] == verdicts.AGREES).all()
    assert (vt["estimate"] > 0.5).all() and (vt["lo"] > 0).all()


def test_pure_noise_is_inconclusive_with_a_detectable_effect_named():
    rng = np.random.default_rng(1)
    n = 8
    t = _table(n, rng.normal(size=n), rng.normal(size=n), rng.normal(size=n))
    vt = relational.verdict_table(t, B=1000)
    assert (vt["verdict"] == verdicts.INCONCLUSIVE).all()
    # over 8 corpora the MDE of a |ρ| difference exceeds 1, the range of the statistic: not shown
    assert (~np.isfinite(vt["mde"])).all() and not vt["note"].str.contains("could still hide").any()
    assert (vt["reachable"] == verdicts.BOTH).all()


def test_undefined_relational_values_are_left_out_of_the_comparison():
    rng = np.random.default_rng(2)
    util = rng.normal(size=9)
    rel = -util.copy()
    rel[0] = np.nan  # the replay corpus
    est = relational.compare_rho(rel, rng.normal(size=9), util, B=500)
    assert est.n_items == 8
    corr = relational.correlations(_table(9, rel, rng.normal(size=9), util), B=200)
    by = corr.set_index("measure")
    assert by.loc["ce_gap", "n"] == 8 and by.loc["nll_mean", "n"] == 9
    assert by.loc["ce_gap", "rho"] == pytest.approx(-1.0)


def test_too_few_corpora_are_not_testable():
    est = relational.compare_rho([1, 2], [1, 2], [1, 2])
    assert not np.isfinite(est.estimate) and "3" in est.note
    row = relational.comparison_rows(_table(2, [1.0, 2.0], [1.0, 2.0], [1.0, 2.0]))[0]
    assert row.verdict == verdicts.NOT_TESTABLE


def test_the_claim_is_registered_and_the_prose_says_inconclusive():
    from resurface.evidence import findings

    assert claims.CLAIMS[relational.CLAIM].figure == "Fig 12"
    rng = np.random.default_rng(3)
    # the two measures' ranks are unrelated (ρ = 0), so some order of Δ could settle the comparison
    # (compare_rho: measures that rank the corpora alike are not testable); Δ is noise
    t = _table(8, np.array([0.0, 3, 5, 6, 7, 4, 2, 1]), np.arange(8.0), rng.normal(size=8))
    t["student"], t["kind"] = "s", "cross"
    corr = relational.correlations(t, B=200)
    text = findings.describe_relational(t, corr, relational.verdict_table(t, B=200))
    assert ("could hide" in text or "would be missed" in text) and "4 rows" in text
    assert "the paper" not in text.split("Tested as")[1].split(".")[0]  # the book's claim's counts say so


# ------------------------------------------------------------------------------ parameters
@pytest.mark.parametrize("value,needle", [
    ("sib-human", "expected list"),
    ([{"name": "sib-a", "data": "replay", "tokens": 10, "epochs": 1}], "missing key 'lr'"),
    ([{"name": "sib-a", "data": "replay", "tokens": 10, "epochs": 1, "lr": 1e-4, "tokenz": 3}], "unknown key 'tokenz'"),
    ([{"name": "human", "data": "replay", "tokens": 10, "epochs": 1, "lr": 1e-4}], "start with 'sib-'"),
    ([{"name": "sib-a", "data": "web", "tokens": 10, "epochs": 1, "lr": 1e-4}], "unknown data 'web'"),
    ([{"name": "sib-a", "data": "replay", "tokens": 0, "epochs": 1, "lr": 1e-4}], "tokens must be > 0"),
    ([{"name": "sib-a", "data": "replay", "tokens": "many", "epochs": 1, "lr": 1e-4}], "tokens must be an integer"),
    ([{"name": "sib-a", "data": "replay", "tokens": 5, "epochs": 1, "lr": 1e-4}] * 2, "used twice"),
])
def test_bad_sibling_recipes_are_refused_naming_the_parameter_and_the_fix(value, needle):
    with pytest.raises(ParameterError) as e:
        profiles.resolve("course", "fig12", siblings=value)
    assert e.value.name == "siblings" and needle in str(e.value) and "accepted" in str(e.value)


def test_other_fig12_parameters_are_checked():
    with pytest.raises(ParameterError, match="cross_temperatures"):
        profiles.resolve("course", "fig12", cross_temperatures=[0.0])
    with pytest.raises(ParameterError, match="sibling_temperature"):
        profiles.resolve("course", "fig12", sibling_temperature=-1)
    assert profiles.resolve("course", "fig12", siblings=[])["siblings"] == []


@pytest.mark.parametrize("profile", profiles.PROFILES)
def test_the_plan_reuses_figures_2_and_5_and_reads_the_common_parameters(profile):
    from resurface.study.experiments import figure_conditions

    P = profiles.resolve(profile, "fig12")
    corpora = relational.plan(P, build_siblings=False)
    names = [c.condition.name for c in corpora]
    assert len(names) == len(set(names))
    q2, c2 = figure_conditions(P, "fig02")
    q5, c5 = figure_conditions(P, "fig05")
    by = {c.condition.name: c for c in corpora}
    for c in c2:  # Figure 2's conditions, with Figure 2's parameters: the same artifact keys
        assert by[c.name].condition == c and by[c.name].params == q2
    for c in c5:
        assert c.name in by
    common = profiles.load(profile)
    for c in corpora:
        for k in ("num_subsets", "tokens_per_subset", "epochs", "lr", "eval_suite", "eval_limit"):
            assert c.params[k] == common[k], (c.condition.name, k)
    sibs = [c for c in corpora if c.kind == "sibling"]
    assert len(sibs) == len(P["siblings"]) and all(c.condition.student == P["student"] for c in sibs)
    if profile == "course":
        new = [c for c in corpora if c.condition.name not in {x.name for x in c2 + c5}]
        assert len(corpora) >= 8 and len(new) <= 4
    if profile == "paper":
        assert {c.kind for c in corpora} >= {"self", "replay", "lineage", "recipe", "cross", "sibling"}


def test_paper_profile_loaders_on_local_stand_ins(monkeypatch, tmp_path, store, one_thread):
    """The paper profile's fig12 plan and sibling builder run on tiny local models (the paper's Hub
    models swapped for smoke stand-ins): no download, the sibling is a fine-tuned student folder."""
    from resurface.study import experiments, siblings

    P = profiles.resolve("paper", "fig12")
    smoke = profiles.load("smoke")
    P.update({k: smoke[k] for k in smoke if k not in ("profile",)})
    P["siblings"] = [{"name": "sib-cross", "data": "cross", "tokens": 32, "epochs": 1, "lr": 1e-3}]
    P["sibling_temperature"] = 1.25
    monkeypatch.setattr(profiles, "allow_hub", lambda P: False)  # never the Hub in tests
    real = experiments.figure_params

    def params(P_, fig):
        q = real({**P_, "profile": "smoke"}, fig)
        return {**q, "sources": {"cross": "tiny-gemma3"}} if fig == "fig05" else q

    monkeypatch.setattr(experiments, "figure_params", params)
    folder = siblings.sibling_model(P, P["siblings"][0], store)
    assert (folder / "config.json").exists()
    from resurface.identity import model_identity

    assert "artifact" in str(model_identity(str(folder), folder))
