"""The generated course item pools (resurface.evaluate.itemgen) and the continuous per-item metrics."""

import json
import math

import pytest

from resurface.evaluate import coursetasks as ct
from resurface.evaluate import itemgen, items_mc
from resurface.corpus.decontam import audit, fingerprints, hits

ITEM_TASKS = ("rs_math", "rs_mc", "rs_completion", "rs_code")


def _text(task: str, r: dict) -> str:
    if task == "rs_math":
        return " ".join([r["question"], r["answer"]])
    if task == "rs_mc":
        return " ".join([r["question"], *r["choices"]])
    if task == "rs_completion":
        return " ".join([r["activity"], r["ctx"], *r["endings"]])
    return " ".join([r["prompt"], r["canonical_solution"]])


# ------------------------------------------------------------------------------ pools
@pytest.mark.parametrize("task", ITEM_TASKS)
def test_pools_are_large_and_valid(task):
    assert len(ct.load_items(task)) >= 400
    if task != "rs_code":
        assert len(ct.load_items(task, "train")) >= 20
    assert ct.validate_items(task) == []
    assert len(ct.load_items(f"{task}_smoke")) == ct.SMOKE_ITEMS


def test_regenerating_gives_identical_files():
    files = itemgen.render_all()
    assert set(files) == {p.name for p in ct.DATA.glob("*.jsonl")}
    for name, text in files.items():
        assert (ct.DATA / name).read_text(encoding="utf-8") == text, name
    assert itemgen.render_all() == files  # and twice in one process


@pytest.mark.parametrize("task", ("rs_math", "rs_mc", "rs_completion"))
def test_few_shot_pools_are_disjoint_from_test_items(task):
    test, train = ct.load_items(task), ct.load_items(task, "train")
    test_texts = [_text(task, r) for r in test]
    train_texts = [_text(task, r) for r in train]
    assert not set(test_texts) & set(train_texts)
    key = {"rs_math": "question", "rs_mc": "question", "rs_completion": "ctx"}[task]
    assert not {r[key] for r in test} & {r[key] for r in train}
    # the project's 8-gram audit (decontam) finds no few-shot item that overlaps a test item
    fps = fingerprints({task: test_texts}, 8)
    assert [t for t in train_texts if hits(t, fps, 8)] == []
    assert len({r["id"] for r in test + train}) == len(test) + len(train)


def test_course_decontamination_covers_every_item():
    from resurface.evaluate.suites import benchmark_texts

    texts = benchmark_texts("course")
    for task in ITEM_TASKS:
        rows = ct.load_items(task) + ct.load_items(task, "train")
        assert len(texts[task]) == len(rows) + (1 if task == "rs_math" else 0)  # + the fixed worked example
    # a corpus record quoting the last test item of each task is removed by the audit
    records = [{"id": t, "text": "Some preamble. " + _text(t, ct.load_items(t)[-1]) + " More text."}
               for t in ITEM_TASKS] + [{"id": "clean", "text": "An unrelated sentence about gardens and rain."}]
    kept, removed, report = audit(records, texts, 8)
    assert [r["id"] for r in kept] == ["clean"], report
    assert sorted(r["id"] for r in removed) == sorted(ITEM_TASKS)


@pytest.mark.parametrize("task,key,gold", [("rs_mc", "choices", "answer"), ("rs_completion", "endings", "label")])
def test_choices_are_well_formed(task, key, gold):
    rows = ct.load_items(task) + ct.load_items(task, "train")
    for r in rows:
        assert len(r[key]) == 4 and len(set(r[key])) == 4, r
        assert isinstance(r[gold], int) and 0 <= r[gold] < 4
        assert all(c == c.strip() and c for c in r[key])
    counts = [sum(r[gold] == i for r in rows) for i in range(4)]
    assert min(counts) >= len(rows) // 6, counts  # no answer position dominates


def test_mc_distractors_come_from_the_gold_category():
    for r in ct.load_items("rs_mc"):
        gold = r["choices"][r["answer"]]
        if r["family"] in ("capital",):
            assert all(c in {cap for _, cap in items_mc._CAPITALS} for c in r["choices"])
        if r["family"] == "element":
            assert all(c in {n for _, n in items_mc._ELEMENTS} for c in r["choices"])
        if r["family"] in ("arith", "unit", "compare", "even"):
            assert all(c.isdigit() for c in r["choices"]), r
        if r["family"] == "arith":
            a, op, b = r["question"][len("What is "):-1].split()
            assert int(gold) == {"plus": int(a) + int(b), "minus": int(a) - int(b), "times": int(a) * int(b)}[op]


def test_code_reference_solutions_pass_and_stubs_fail():
    """Every code item's hidden tests pass on its reference solution and fail on a stub, run in the
    project's sandbox (one sandboxed program, each item in a fresh namespace)."""
    from resurface.evaluate.codeexec import check_completion, run_program

    rows = ct.load_items("rs_code")
    progs = [(r["prompt"] + r["canonical_solution"] + "\n" + r["test"] + f"\ncheck({r['entry_point']})\n",
              r["prompt"] + "\n    return None\n" + "\n" + r["test"] + f"\ncheck({r['entry_point']})\n")
             for r in rows]
    driver = (f"import json\nprogs = json.loads({json.dumps(json.dumps(progs))})\nbad, weak = [], []\n"
              "for i, (good, stub) in enumerate(progs):\n"
              "    try:\n        exec(good, {})\n    except Exception as e:\n        bad.append((i, repr(e)))\n"
              "    try:\n        exec(stub, {})\n        weak.append(i)\n    except Exception:\n        pass\n"
              "assert not bad, bad[:5]\nassert not weak, weak[:5]\nprint('OK', len(progs))\n")
    res = run_program(driver, timeout=60.0)
    assert res.passed, (res.status, res.stderr[-2000:] if hasattr(res, "stderr") else res)
    r = rows[0]  # and the per-item path the task's scorer uses
    assert check_completion(r["prompt"], r["canonical_solution"], r["test"], r["entry_point"]).passed
    assert not check_completion(r["prompt"], "\n    return None\n", r["test"], r["entry_point"]).passed


def test_code_prompts_are_humaneval_like():
    for r in ct.load_items("rs_code"):
        assert r["prompt"].startswith(f"def {r['entry_point']}(") and r["prompt"].endswith('"""')
        assert ">>>" in r["prompt"] and r["test"].startswith("def check(candidate):")
    assert len({r["entry_point"] for r in ct.load_items("rs_code")}) == len(ct.load_items("rs_code"))


# ------------------------------------------------------------------------------ metric definitions
def test_choice_metrics_definition():
    from resurface.evaluate.tasks.metrics import choice_metrics

    lls, choices = [-4.0, -9.0, -2.0, -8.0], ["abcd", "abcdefgh", "a", "abcdefgh"]
    m = choice_metrics(lls, choices, 1)
    s = [ll / len(c) for ll, c in zip(lls, choices)]  # [-1, -1.125, -2, -1]
    assert m["logp_gold_norm"] == pytest.approx(s[1] - math.log(sum(math.exp(x) for x in s)))
    assert m["acc"] == 0.0 and m["acc_norm"] == 0.0
    assert choice_metrics(lls, choices, 2)["acc"] == 1.0
    assert choice_metrics(lls, choices, 0)["acc_norm"] == 1.0  # ties: the first index, as lm-eval
    probs = [math.exp(choice_metrics(lls, choices, g)["logp_gold_norm"]) for g in range(4)]
    assert sum(probs) == pytest.approx(1.0)  # a distribution over the choices


def test_neg_bpb_definition():
    from resurface.evaluate.tasks.metrics import neg_bits_per_byte, process_code_bpb, process_math_bpb

    assert neg_bits_per_byte(-math.log(2) * 10, "0123456789") == pytest.approx(-1.0)
    assert neg_bits_per_byte(-math.log(2), "é") == pytest.approx(-0.5)  # UTF-8 bytes, not characters
    doc = {"answer": "x = 1\n#### 1", "canonical_solution": "\n    return 1\n"}
    assert process_math_bpb(doc, [(-3.0, False)])["neg_bpb"] == pytest.approx(-3.0 / math.log(2) / 13)
    assert process_code_bpb(doc, [(-3.0, True)])["neg_bpb"] == pytest.approx(-3.0 / math.log(2) / 14)


# ------------------------------------------------------------------------------ real model
def _teacher_forced(model, tok, context: str, continuation: str) -> float:
    """Sum of log p(continuation tokens | context) with lm-eval's split: encode context+continuation,
    the continuation tokens are those after len(encode(context)) (trailing context spaces moved over)."""
    import torch

    n = len(context) - len(context.rstrip())
    if n:
        context, continuation = context[:-n], context[-n:] + continuation
    whole = tok(context + continuation, add_special_tokens=False).input_ids
    ctx = tok(context, add_special_tokens=False).input_ids
    ids = torch.tensor([whole])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0].double(), dim=-1)
    return float(sum(logp[i - 1, whole[i]] for i in range(len(ctx), len(whole))))


@pytest.mark.slow
def test_continuous_metrics_equal_a_direct_teacher_forced_computation(tmp_path):
    """lm-eval's logp_gold_norm / neg_bpb (per item, through resurface.evaluate.evaluation) equal the same
    quantities computed here with plain transformers on SmolLM2-135M, 4 items per task."""
    import torch

    from resurface.evaluate.evaluation import evaluate_model
    from resurface.models import load_model
    from resurface.evaluate.suites import Suite, get_suite

    torch.set_num_threads(1)
    model, tok = load_model("smollm2-135m", device="cpu")
    course = get_suite("course")
    specs = tuple(course.spec(t) for t in ("rs_mc", "rs_completion", "rs_math_bpb", "rs_code_bpb"))
    items: list[dict] = []
    df = evaluate_model(model, tok, Suite("check", specs, False, "", True), limit=4, items=items)
    got = {(r["task"], r["item"], r["metric"]): r["value"] for r in items}
    assert len(got) == 4 * (3 + 3 + 1 + 1)
    for spec in specs:  # per-item rows average to lm-eval's task results
        for key in spec.metrics:
            vals = [v for (t, _, m), v in got.items() if t == spec.task and m == key]
            assert df[(df.task == spec.task) & (df.metric == key)].value.item() == pytest.approx(sum(vals) / 4)

    for i, r in enumerate(ct.load_items("rs_mc")[:4]):
        lls = [_teacher_forced(model, tok, f"Question: {r['question']}\nAnswer:", " " + c) for c in r["choices"]]
        s = [ll / len(c.encode()) for ll, c in zip(lls, r["choices"])]
        want = s[r["answer"]] - math.log(sum(math.exp(x) for x in s))
        assert got[("rs_mc", i, "logp_gold_norm,none")] == pytest.approx(want, abs=2e-3)
    for i, r in enumerate(ct.load_items("rs_completion")[:4]):
        lls = [_teacher_forced(model, tok, f"{r['activity']}: {r['ctx']}", " " + e) for e in r["endings"]]
        s = [ll / len(e.encode()) for ll, e in zip(lls, r["endings"])]
        want = s[r["label"]] - math.log(sum(math.exp(x) for x in s))
        assert got[("rs_completion", i, "logp_gold_norm,none")] == pytest.approx(want, abs=2e-3)
    for i, r in enumerate(ct.load_items("rs_math")[:4]):
        gold = " " + r["answer"]
        ll = _teacher_forced(model, tok, ct.MATH_DEMO + f"Question: {r['question']}\nAnswer:", gold)
        want = ll / (math.log(2) * len(gold.encode()))
        assert got[("rs_math_bpb", i, "neg_bpb,none")] == pytest.approx(want, abs=2e-3)
    for i, r in enumerate(ct.load_items("rs_code")[:4]):
        gold = r["canonical_solution"]
        want = _teacher_forced(model, tok, r["prompt"], gold) / (math.log(2) * len(gold.encode()))
        assert got[("rs_code_bpb", i, "neg_bpb,none")] == pytest.approx(want, abs=2e-3)
