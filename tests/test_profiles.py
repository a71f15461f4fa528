"""Profiles: one source of truth, the same names and types in every profile, early validation."""

import pytest

from resurface.study import profiles
from resurface.errors import ParameterError


def test_profiles_declare_the_same_parameters_with_the_same_types():
    smoke = profiles.load("smoke")
    for name in ("course", "paper"):
        other = profiles.load(name)
        assert set(other) == set(smoke), f"{name} and smoke declare different parameters"
        profiles.validate(other, smoke)  # same types


def test_paper_profile_carries_the_papers_settings():
    p = profiles.load("paper")
    assert p["temperatures"] == [0.75, 1.0, 1.25]
    assert (p["num_samples"], p["min_new_tokens"], p["max_new_tokens"]) == (20000, 50, 1024)
    assert (p["num_subsets"], p["tokens_per_subset"]) == (3, 5_000_000)
    assert (p["epochs"], p["lr"], p["warmup_ratio"]) == (40, 1e-6, 0.1)
    assert (p["block_size"], p["effective_batch"], p["ngram"]) == (2048, 64, 8)
    assert p["student"] == "qwen2.5-0.5b" and p["second_student"] == "llama-3.2-1b"


@pytest.mark.parametrize("name,value,needle", [
    ("temperatures", [1.0, 0.0], "temperatures"),
    ("epochs", -1, "epochs"),
    ("tokens_per_subset", 0, "tokens_per_subset"),
    ("lr", "fast", "lr"),
    ("num_samples", 2.5, "num_samples"),
    ("typo_param", 1, "typo_param"),
    ("profile", "laptop", "profile"),
])
def test_bad_values_name_the_parameter(name, value, needle):
    with pytest.raises(ParameterError) as e:
        profiles.resolve("smoke", overrides={name: value})
    assert needle in str(e.value)


def test_min_tokens_above_max_tokens_is_refused():
    with pytest.raises(ParameterError) as e:
        profiles.resolve("smoke", min_new_tokens=100, max_new_tokens=10)
    assert "min_new_tokens" in str(e.value)


def test_int_is_accepted_for_float_and_promoted():
    v = profiles.resolve("smoke", lr=1, temperatures=[1, 2])
    assert v["lr"] == 1.0 and isinstance(v["lr"], float)
    assert v["temperatures"] == [1.0, 2.0]


def test_unknown_profile():
    with pytest.raises(ParameterError) as e:
        profiles.load("gpu")
    assert "smoke, course, paper" in str(e.value)
