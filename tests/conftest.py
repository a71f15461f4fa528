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


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for modules that run tiny models: they are dominated by per-op overhead,
    and on a shared 2-core machine thread barriers made them 2-45x slower (measured here)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
