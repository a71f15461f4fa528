"""Shared test setup: offline Hub, an isolated artifact store per test, pytest-xdist workers."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tests compute in fp32 whatever the CPU (a machine with bf16 matrix units would otherwise choose bf16 for
# `dtype: auto`), so their outcomes do not depend on the machine; tests of the bf16 path force it on.
os.environ.setdefault("RESURFACE_CPU_BF16", "0")


def _worker_threads() -> int | None:
    """Torch threads for one pytest-xdist worker: the cores divided among the workers (at least one),
    so that `make test`'s workers do not oversubscribe the cores; None outside xdist."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 0)
    if not os.environ.get("PYTEST_XDIST_WORKER") or workers < 1:
        return None
    return max(1, (os.cpu_count() or 1) // workers)


if _worker_threads() is not None:  # before torch is imported; children (CLI runs, kernels) inherit it
    os.environ.setdefault("OMP_NUM_THREADS", str(_worker_threads()))

import pytest  # noqa: E402

# pytest-xdist (`make test` runs `-n N`): tests that share an expensive module- or session-scoped
# fixture run on one worker, so the fixture is built once; every other test is balanced on its own.
# Test file -> its scope. (xdist's own `--dist loadgroup` cannot do this with pytest 9: its worker sets
# ``item._nodeid``, which pytest 9's ``Node.nodeid`` no longer reads, so xdist_group marks are ignored.)
# The figure notebooks and the browser test's book build share one smoke store across workers
# (shared_smoke_store), so they need no common worker: each notebook test is balanced on its own.
XDIST_SCOPES = {
    "test_browser.py": "book-build",  # ci_book: the smoke book, built once by the workflow's build step,
    "test_publish.py": "book-build",  # read by the browser tests and the publishing tests alike
    "test_attacks.py": "test_attacks.py",  # memorized: a tiny model overfit in 300 steps
    "test_replay.py": "test_replay.py",  # stdlib_pair: the stdlib corpus built three times
    "test_suites.py": "test_suites.py",  # full_task_manager: lm-eval's whole task index
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``--dist load`` (xdist's default for ``-n``): :data:`XDIST_SCOPES`, other tests one by one."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return XDIST_SCOPES.get(nodeid.split("::", 1)[0].rsplit("/", 1)[-1], nodeid)

    return SharedFixtureScheduling(config, log)


def pytest_configure(config):
    threads = _worker_threads()
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


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
    book. Under pytest-xdist the workers share it too (a folder in the session's temporary root, above
    each worker's own): a worker that asks for an artifact another worker is computing waits on the
    store's file lock and then reads it (``resurface.artifacts``), so notebooks can run on any worker."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        path = tmp_path_factory.getbasetemp().parent / "smoke-store"
        path.mkdir(exist_ok=True)
        return path
    return tmp_path_factory.mktemp("smoke-store")


@pytest.fixture
def smoke_kernel_env(monkeypatch, shared_smoke_store):
    """Environment for papermill kernels in tests: the shared smoke store and one torch thread
    (tiny models; see ``one_thread``)."""
    monkeypatch.setenv("RESURFACE_STORE", str(shared_smoke_store))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return shared_smoke_store


@pytest.fixture(scope="session")
def ci_book(tmp_path_factory, shared_smoke_store):
    """The smoke book, built once per session the way the publishing workflow builds it (a fresh clone,
    the workflow's build step and environment: tests/cibuild.py); its store is the session's smoke store."""
    import cibuild

    return cibuild.build(tmp_path_factory.mktemp("ci"), shared_smoke_store)
