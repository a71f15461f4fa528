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


@pytest.fixture(scope="session")
def shared_smoke_store(tmp_path_factory):
    """One artifact store for every smoke-profile notebook run of the session (figure notebooks and
    the browser test's book build): runs that several figures share are computed once, as in the
    book."""
    return tmp_path_factory.mktemp("smoke-store")


@pytest.fixture
def smoke_kernel_env(monkeypatch, shared_smoke_store):
    """Environment for papermill kernels in tests: the shared smoke store and one torch thread
    (tiny models; see ``one_thread``)."""
    monkeypatch.setenv("RESURFACE_STORE", str(shared_smoke_store))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return shared_smoke_store
