"""Shared test setup: offline Hub, an isolated artifact store per test."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402


@pytest.fixture
def store(tmp_path):
    """A fresh artifact store in a temporary folder."""
    from resurface.artifacts import Store

    return Store(tmp_path / "store")
