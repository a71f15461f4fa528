"""Extraction attack and log-prob shift (resurface.measures.attacks), pools (resurface.corpus.pools), and the held-out
rule and hook of the memorization study (resurface.measures.memorization; the study itself is
resurface.study.planted_memory), on tiny models."""

import json

import pandas as pd
import pytest
import torch
import yaml

from resurface.measures import attacks, memorization
from resurface.corpus import pools
from resurface.cli import main as cli_main
from resurface.errors import ParameterError
from resurface.models import load_model
from resurface.paths import params_dir

pytestmark = pytest.mark.usefixtures("one_thread")

PREFIX, SUFFIX = 8, 8
PLANTED = [
    "From: Vera Nakamura <vera@tallgrass.com> To: Greta. The floor plan for Project Saffron arrives on Monday.",
    "def shift_tile(count, offset=99):\n    level = count // 907\n    if level > offset * 8:\n        return level\n",
    "Umar Thorvaldsen (1715-1778) was a Kenyan sculptor from Oaxaca who studied acoustics and wrote 33 books.",
]
UNPLANTED = [
    "Greta Lindqvist (1802-1871) was a Danish botanist from Ghent who wrote nine books on salt marshes.",
    "def merge_packet(width, depth=12):\n    out = width + 41\n    return depth * 3 - out\n",
]


@pytest.fixture(scope="module")
def memorized():
    """tiny-llama overfit on the first PREFIX + SUFFIX tokens of the PLANTED texts (plain AdamW loop)."""
    model, tok = load_model("tiny-llama", device="cpu")
    ids = attacks.window_ids(PLANTED + UNPLANTED, tok, PREFIX, SUFFIX)
    x = ids[: len(PLANTED)]
    torch.manual_seed(0)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
    model.train()
    for _ in range(300):
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        if loss.item() < 0.03:
            break
    model.eval()
    return model, tok, ids


def test_extraction_reports_planted_sequences_and_not_unplanted_ones(memorized):
    model, _, ids = memorized
    s = attacks.score_windows(model, ids, PREFIX, batch_size=2)
    assert s["extracted"].tolist() == [True] * len(PLANTED) + [False] * len(UNPLANTED)
    assert (s["leading_matches"][: len(PLANTED)] == SUFFIX).all()
    assert (s["leading_matches"][len(PLANTED):] < SUFFIX).all()
    # memorized continuations are far more likely than unplanted ones
    assert s["logprob_sum"][: len(PLANTED)].min() > s["logprob_sum"][len(PLANTED):].max()


def test_batched_teacher_forced_count_equals_token_by_token_greedy_decoding(memorized):
    model, tok, ids = memorized
    # planted windows whose true suffix was changed at position k: greedy decoding follows the
    # memorized text, so it matches exactly the first k tokens and then fails
    perturbed = []
    for i, k in ((0, 3), (1, 5), (2, 0)):
        row = ids[i].clone()
        row[PREFIX + k] = (row[PREFIX + k] + 1) % len(tok)
        perturbed.append(row)
    cases = torch.cat([ids, torch.stack(perturbed)])
    fast = attacks.score_windows(model, cases, PREFIX, batch_size=3)
    slow = attacks.greedy_extract_slow(model, cases, PREFIX)
    assert fast["extracted"].tolist() == [ok for ok, _ in slow]
    assert int(fast["extracted"].sum()) == sum(ok for ok, _ in slow) == len(PLANTED)
    for row, lead, (_, gen) in zip(cases, fast["leading_matches"], slow):
        truth = row[PREFIX:].tolist()
        agree = next((j for j, (a, b) in enumerate(zip(gen, truth)) if a != b), SUFFIX)
        assert lead == agree
    assert fast["leading_matches"][-3:].tolist() == [3, 5, 0]
    # and transformers' own greedy generation agrees
    out = model.generate(cases[:, :PREFIX], max_new_tokens=SUFFIX, min_new_tokens=SUFFIX, do_sample=False,
                         pad_token_id=tok.pad_token_id)
    assert fast["extracted"].tolist() == (out[:, PREFIX:] == cases[:, PREFIX:]).all(dim=1).tolist()


def test_log_prob_shift_of_a_model_against_itself_is_zero(memorized):
    model, tok, _ = memorized
    recs = [{"id": str(i), "text": t, "domain": d, "group": pools.DOMAIN_GROUPS[d]}
            for i, (t, d) in enumerate(zip(PLANTED + UNPLANTED, ["email", "code", "prose", "prose", "code"]))]
    a = attacks.score_pool(model, tok, recs, PREFIX, SUFFIX, batch_size=4)
    b = attacks.score_pool(model, tok, recs, PREFIX, SUFFIX, batch_size=4)
    rows = pd.DataFrame(attacks.summarize(a, SUFFIX, base=b))
    shift = rows[rows["metric"].str.startswith("logprob_shift")]
    assert len(shift) == 2 * (2 + 3) and (shift["value"] == 0).all()  # groups + domains, sum and per token
    # against another model the shift is not zero, and per token it is the sum / SUFFIX
    fresh, _ = load_model("tiny-llama", device="cpu")
    c = attacks.score_pool(fresh, tok, recs, PREFIX, SUFFIX)
    rows = pd.DataFrame(attacks.summarize(c, SUFFIX, base=a)).set_index(["task", "metric"])["value"]
    assert rows[("text", "logprob_shift_sum")] < -10
    assert rows[("code", "logprob_shift_per_token")] == pytest.approx(rows[("code", "logprob_shift_sum")] / SUFFIX)
    counts = rows.xs("extracted", level="metric")
    assert counts["text"] == 0 and counts["domain:email"] == 0 and rows[("text", "extracted")] <= 3


def _pile_file(path):
    long = "word " * 40
    rows = [
        {"text": "Message-ID: <1.JavaMail> " + long, "meta": {"pile_set_name": "Enron Emails"}},
        {"text": "too short", "meta": {"pile_set_name": "Enron Emails"}},
        {"text": "The river delta " + long, "meta": {"pile_set_name": "Pile-CC"}},
        {"text": "An arxiv paper " + long, "meta": {"pile_set_name": "ArXiv"}},
        {"text": "import os\n" + "x = 1\n" * 30, "meta": {"pile_set_name": "Github"}},
        {"text": "Anarchism is " + long, "meta": {"pile_set_name": "Wikipedia (en)"}},
        {"text": "Second email " + long, "meta": {"pile_set_name": "Enron Emails"}},
        {"text": "def f():\n" + "    pass\n" * 30, "meta": {"pile_set_name": "Github"}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_pool_loader_reads_a_local_pile_file_and_groups_domains(tmp_path, memorized):
    _, tok, _ = memorized
    src = _pile_file(tmp_path / "pile.jsonl")
    raw = pools.read_pool(src, domains=["Github", "Enron Emails"])
    assert {r["domain"] for r in raw} == {"Github", "Enron Emails"} and len(raw) == 5
    assert {r["group"] for r in raw if r["domain"] == "Github"} == {"code"}
    out = pools.build_pool(str(src), domains=list(pools.PILE_DOMAINS), per_domain=1, min_tokens=20, tokenizer=tok,
                           out=tmp_path / "pool", progress=False)
    recs = pools.read_pool(out)
    assert [r["domain"] for r in recs] == ["Enron Emails", "Pile-CC", "Github", "Wikipedia (en)"]  # stream order
    assert {r["domain"]: r["group"] for r in recs} == {"Enron Emails": "text", "Pile-CC": "text",
                                                      "Wikipedia (en)": "text", "Github": "code"}
    assert "too short" not in {r["text"] for r in recs}  # short documents are skipped
    with pytest.raises(Exception, match="ran out"):
        pools.build_pool(str(src), domains=["Pile-CC"], per_domain=2, min_tokens=20, tokenizer=tok,
                         out=tmp_path / "pool2", progress=False)


def test_planted_pool_is_deterministic_distinct_and_grouped():
    a, b = pools.planted_records(5, 42), pools.planted_records(5, 42)
    assert a == b and a != pools.planted_records(5, 43)
    assert len({r["text"] for r in a}) == 15 and len({r["text"][:40] for r in a}) == 15
    assert {(r["domain"], r["group"]) for r in a} == {("email", "text"), ("prose", "text"), ("code", "code")}


def test_bad_inputs_raise_clear_errors(tmp_path, memorized):
    _, tok, _ = memorized
    with pytest.raises(ParameterError, match=r"longer than 1 of the 2 sequences") as e:
        attacks.window_ids(["a b c", "one two three four five six seven eight nine ten " * 8], tok, 32, 32)
    assert e.value.name == "suffix_tokens" and "prefix_tokens + suffix_tokens" in str(e.value)
    with pytest.raises(ParameterError, match="prefix_tokens"):
        attacks.window_ids(["hello"], tok, 0, 4)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "x " * 50, "meta": {"pile_set_name": "Books3"}}) + "\n")
    with pytest.raises(ParameterError, match="unknown domain 'Books3'"):
        pools.read_pool(bad)
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"text": "x " * 50, "domain": "email"}) + "\n")
    with pytest.raises(ParameterError, match="unknown domain 'emails'") as e:
        pools.read_pool(good, domains=["emails"])
    assert e.value.name == "domains"
    with pytest.raises(ParameterError, match="pool_domains"):
        pools.build_pool("planted", domains=["Github"], per_domain=1, min_tokens=4, tokenizer=tok, out=tmp_path / "p")
    with pytest.raises(ParameterError, match="needs Hub access"):
        list(pools.pile_rows("some-org/some-dataset", ["Github"], seed=0))
    with pytest.raises(ParameterError, match="prefix_tokens"):  # a planted pool too short for the window
        pools.build_pool("planted", domains=["prose"], per_domain=2, min_tokens=500, tokenizer=tok,
                         out=tmp_path / "q", progress=False)


def test_cli_extract_prints_its_output_folder_last(tmp_path, capsys):
    pool = tmp_path / "pool.jsonl"
    pool.write_text("\n".join(json.dumps({"text": t, "domain": d}) for t, d in
                              zip(PLANTED + UNPLANTED, ["email", "code", "prose", "prose", "code"])) + "\n")
    out = tmp_path / "attack"
    rc = cli_main(["extract", "--model", "tiny-llama", "--pool", str(pool), "--prefix-tokens", "4",
                   "--suffix-tokens", "4", "--out", str(out), "--device", "cpu"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert rc == 0 and lines[-1] == str(out)
    assert any(line.startswith("text") for line in lines) and any(line.startswith("domain:code") for line in lines)
    scores = attacks.read_scores(out)
    assert len(scores) == 5 and scores["extracted"].dtype == bool
    rc = cli_main(["extract", "--model", "tiny-llama", "--pool", str(pool), "--domain", "Books3", "--out",
                   str(tmp_path / "x")])
    assert rc == 2 and "unknown domain 'Books3'" in capsys.readouterr().err


def test_extract_stage_is_cached_and_keyed_on_the_window(tmp_path, store):
    pool = pools.build_pool("planted", domains=["prose", "code"], per_domain=2, min_tokens=16,
                            tokenizer="tiny-llama", tokenizer_id="tiny-llama", store=store, progress=False)
    a = attacks.extract("tiny-llama", pool, prefix_tokens=8, suffix_tokens=8, store=store, progress=False)
    assert attacks.extract("tiny-llama", pool, prefix_tokens=8, suffix_tokens=8, store=store, progress=False) == a
    b = attacks.extract("tiny-llama", pool, prefix_tokens=8, suffix_tokens=4, store=store, progress=False)
    assert a != b
    summary = pd.read_csv(a / "summary.csv")
    assert set(summary["task"]) == {"text", "code", "domain:prose", "domain:code"}


def test_pool_is_held_out_of_the_self_training_corpus(tmp_path, store):
    from resurface.corpus.files import read_corpus, write_corpus

    pool = pools.build_pool("planted", domains=["email", "code"], per_domain=3, min_tokens=16,
                            tokenizer="tiny-llama", tokenizer_id="tiny-llama", store=store, progress=False)
    recs = pools.read_pool(pool)
    samples = [{"text": "a harmless sample about the weather and the sea, nothing more", "num_tokens": 12},
               {"text": "Some preamble. " + recs[0]["text"], "num_tokens": 60},  # recites a pool sequence
               {"text": " ".join(recs[1]["text"].split()[:14]) + " and then other words", "num_tokens": 20}]
    corpus = write_corpus(tmp_path / "c", samples, {"kind": "test"})
    before = memorization.pool_overlap(corpus, pool, 8)
    assert before == {"samples": 3, "sharing_ngram": 2, "containing_sequence": 1}
    clean = memorization.exclude_pool(corpus, pool, 8, store=store, progress=False)
    assert [r["text"] for r in read_corpus(clean)] == [samples[0]["text"]]
    assert memorization.pool_overlap(clean, pool, 8) == {"samples": 1, "sharing_ngram": 0, "containing_sequence": 0}


def test_hook_name_changes_with_its_settings(store):
    from resurface.study import profiles

    P = profiles.resolve("smoke", "fig08", {"pool_size": 1})
    pool = memorization.pool_for(P, store)
    h1 = memorization.make_hook(P, P["memorization_model"], pool, store)
    h2 = memorization.make_hook({**P, "suffix_tokens": 4}, P["memorization_model"], pool, store)
    h3 = memorization.make_hook({**P, "eval_limit": 2}, P["memorization_model"], pool, store)
    names = {h.__qualname__ for h in (h1, h2, h3)}
    assert len(names) == 3 and all(n.startswith("memorization_hook[") for n in names)


def test_the_hook_keeps_its_pre_package_name_in_training_keys(store):
    """Runs stored before the library moved into stage packages keyed the hook as
    ``resurface.memorization.memorization_hook[...]``; the name must stay so those runs are found."""
    from resurface.study import profiles
    from resurface.train.training import _hook_name

    P = profiles.resolve("smoke", "fig08", {"pool_size": 1})
    hook = memorization.make_hook(P, P["memorization_model"], memorization.pool_for(P, store), store)
    assert hook.__module__ == "resurface.measures.memorization"
    assert _hook_name(hook) == f"resurface.memorization.{hook.__qualname__}"


@pytest.mark.parametrize("profile", ["smoke", "course", "paper"])
def test_fig07_and_fig08_ask_for_the_same_runs(profile):
    """Both notebooks read the same study from the store only if their parameters agree: they
    share one parameter file, and neither figure file overrides it."""
    from resurface.study import profiles

    a, b = profiles.load(profile, "fig07"), profiles.load(profile, "fig08")
    assert a == b and "memorization_model" in a
    for fig in ("fig07", "fig08"):
        own = yaml.safe_load((params_dir() / profile / f"{fig}.yaml").read_text())
        assert set(own) == {"profile"}
