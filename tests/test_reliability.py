"""Reliability under real faults: kill -9 and resume, concurrent processes, corrupt artifacts, bad
parameters, a missing Hub or GPU, a full disk, hostile model-written code and hostile data.

Every fault is provoked for real where that is possible: the kill tests run the ``resurface`` command
line in a subprocess and SIGKILL it in the middle of its work; the concurrency tests start real
processes together; the sandbox tests run programs that loop, hog memory, write outside their folder
and open sockets. Only the full disk is simulated (``shutil.disk_usage`` is monkeypatched).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resurface.artifacts import Store, make_key
from resurface.corpus.files import CorpusError, iter_jsonl, read_corpus, write_corpus
from resurface.corpus.decontam import fingerprints, hits
from resurface.ngrams import ngrams, normalize
from resurface.errors import ArtifactError, DiskSpaceError, ParameterError
from fakes import cli_env, kill_when

BIN = str(Path(sys.executable).with_name("resurface"))
POLL = 0.02  # seconds between checks of a condition


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _run(cmd: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{cmd[1]} failed ({r.returncode}):\n{r.stderr[-3000:]}"
    return r


def _folder(r: subprocess.CompletedProcess) -> Path:
    """Every stage command prints its artifact folder as the last line."""
    return Path(r.stdout.strip().splitlines()[-1])


def _csv_rows(path: Path, drop: tuple[str, ...] = ()) -> list[dict]:
    with open(path, newline="") as f:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(f)]


# ---------------------------------------------------------------------------------------------
# kill -9 and resume (the real CLI, tiny random models, CPU, fixed seeds)
# ---------------------------------------------------------------------------------------------
SAMPLE = [BIN, "sample", "--model", "tiny-llama", "--temperature", "1.0", "--num-samples", "60",
          "--max-new-tokens", "16", "--batch-size", "2", "--seed", "7", "--device", "cpu"]


def test_killed_sampling_resumes_from_its_shards_and_equals_an_uninterrupted_run(tmp_path):
    store = tmp_path / "killed"

    def shards() -> list[Path]:
        return sorted(store.glob("sample/.partial-*/shards/batch_*.jsonl"))

    kill_when(SAMPLE, cli_env(store), lambda: len(shards()) >= 1, tmp_path / "killed.log")
    finished = len(shards())
    assert 1 <= finished < 30 and not list(store.glob("sample/*/DONE"))

    resumed = _run(SAMPLE, cli_env(store))
    assert f"[sample] resuming: {finished} of 30 batches already sampled" in resumed.stderr
    reference = _run(SAMPLE, cli_env(tmp_path / "reference"))
    a, b = _folder(resumed), _folder(reference)
    assert a.name == b.name  # the same artifact key
    assert (a / "corpus.jsonl").read_bytes() == (b / "corpus.jsonl").read_bytes()
    timing = ("sampling_seconds_this_run",)
    meta_a, meta_b = (json.loads((f / "meta.json").read_text()) for f in (a, b))
    assert {k: v for k, v in meta_a.items() if k not in timing} == \
           {k: v for k, v in meta_b.items() if k not in timing}
    assert json.loads((a / "artifact.json").read_text())["resumed"] is True


def _train_corpus(folder: Path) -> Path:
    import random

    rng = random.Random(0)
    words = "the quick brown fox jumps over a lazy dog while seven wizards quietly hex zebras".split()
    return write_corpus(folder, [{"text": " ".join(rng.choice(words) for _ in range(40)), "num_tokens": 40}
                                 for _ in range(45)], {})


def test_training_killed_in_its_second_epoch_resumes_and_equals_an_uninterrupted_run(tmp_path):
    data = _train_corpus(tmp_path / "corpus")
    cmd = [BIN, "train", "--student", "tiny-llama", "--data", str(data), "--epochs", "3", "--lr", "1e-3",
           "--block-size", "32", "--batch-size", "4", "--effective-batch", "4", "--device", "cpu",
           "--save-checkpoints"]
    store = tmp_path / "killed"

    def saved_epoch() -> int:
        for name in ("state", "state.prev"):  # state.prev: between the two renames of a save
            for f in store.glob(f"train/.partial-*/{name}/progress.json"):
                try:
                    return json.loads(f.read_text())["epoch"]
                except (OSError, json.JSONDecodeError, KeyError):
                    pass
        return -1

    env = cli_env(store, RESURFACE_STATE_EVERY_S="0")  # epochs of a second: save the state after each
    kill_when(cmd, env, lambda: saved_epoch() >= 1, tmp_path / "killed.log")
    epoch = saved_epoch()
    assert 1 <= epoch < 3
    partial = next(store.glob("train/.partial-*"))
    finished_ckpt = {e: (partial / f"checkpoints/epoch_{e:02d}/model.safetensors").stat().st_mtime_ns
                     for e in range(1, epoch + 1)}

    resumed = _run(cmd, env)
    assert f"[train] resuming after epoch {epoch} " in resumed.stderr  # logs go to stderr, which the book drops
    a = _folder(resumed)
    for e, mtime in finished_ckpt.items():  # finished epochs were not trained (or saved) again
        assert (a / f"checkpoints/epoch_{e:02d}/model.safetensors").stat().st_mtime_ns == mtime
    assert json.loads((a / "train.json").read_text())["resumed_after_epoch"] == epoch

    b = _folder(_run(cmd, cli_env(tmp_path / "reference")))
    assert a.name == b.name
    assert _csv_rows(a / "losses.csv", drop=("seconds",)) == _csv_rows(b / "losses.csv", drop=("seconds",))
    assert len(_csv_rows(a / "losses.csv")) == json.loads((a / "train.json").read_text())["steps"] > 0
    assert (a / "results.csv").read_bytes() == (b / "results.csv").read_bytes()
    for rel in ["final_model/model.safetensors"] + [f"checkpoints/epoch_{e:02d}/model.safetensors"
                                                    for e in (1, 2, 3)]:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel  # bit-identical weights


def test_killed_evaluation_resumes_after_its_finished_tasks_and_equals_an_uninterrupted_run(tmp_path):
    from resurface.evaluate.suites import SUITES

    cmd = [BIN, "evaluate", "--model", "tiny-llama", "--suite", "smoke", "--limit", "2", "--device", "cpu"]
    store = tmp_path / "killed"
    tasks = SUITES["smoke"].task_names

    def finished() -> list[Path]:  # a task's rows file (its per-item file beside it is written first)
        return sorted(f for f in store.glob("evaluate/.partial-*/tasks/[0-9]*.json")
                      if not f.name.endswith(".items.json"))

    kill_when(cmd, cli_env(store), lambda: len(finished()) >= 1, tmp_path / "killed.log")
    done = [f.stem.split("-", 1)[1] for f in finished()]
    assert 1 <= len(done) < len(tasks) and not list(store.glob("evaluate/*/DONE"))

    resumed = _run(cmd, cli_env(store))
    assert f"[evaluate] resuming: {len(done)} of {len(tasks)} tasks already done" in resumed.stderr
    redone = [line.split()[2] for line in resumed.stderr.splitlines() if line.startswith("[evaluate] task ")]
    assert redone == [t for t in tasks if t not in done]  # finished tasks were not evaluated again
    a = _folder(resumed)
    assert not (a / "tasks").exists()  # the per-task files are not part of the artifact

    b = _folder(_run(cmd, cli_env(tmp_path / "reference")))
    assert a.name == b.name
    assert (a / "results.csv").read_bytes() == (b / "results.csv").read_bytes()
    assert {r["task"] for r in _csv_rows(a / "results.csv")} == set(tasks)


def test_finished_tasks_of_other_settings_in_an_out_folder_are_not_reused(tmp_path):
    import pandas as pd

    from resurface.evaluate.evaluation import evaluate

    out = tmp_path / "out"
    (out / "tasks").mkdir(parents=True)
    (out / "tasks" / "run.json").write_text('{"model": "another model"}')
    fake = [{"run": "x", "epoch": None, "suite": "smoke", "task": "rs_math_smoke", "label": "Math", "role": "math",
             "num_fewshot": 0, "metric": "exact_match,strict-match", "value": 123.0, "stderr": 0.0, "n": 1.0,
             "primary": False}]
    (out / "tasks" / "00-rs_math_smoke.json").write_text(json.dumps(fake))
    evaluate("tiny-llama", "smoke", limit=1, device="cpu", out=out)
    df = pd.read_csv(out / "results.csv")
    assert (df.value <= 1).all() and set(df.run) == {"tiny-llama"}


# ---------------------------------------------------------------------------------------------
# concurrency: two processes, one artifact
# ---------------------------------------------------------------------------------------------
BLOB_CHUNKS, CHUNK = 20, 2**18  # a 5 MiB artifact written slowly in 20 chunks (about 1 s)

_WORKER = r"""
import hashlib, os, sys, time
from pathlib import Path
from resurface.artifacts import Store

root, counter, go, name = sys.argv[1:5]
CHUNKS, CHUNK = {chunks}, {chunk}
Path(f"{go}.{name}").touch()            # ready
while not Path(go).exists():            # start together
    time.sleep(0.002)
entered = time.time()

def compute(work):
    with open(counter, "a") as f:
        f.write(f"{os.getpid()} {time.time()}\n")
    with open(work / "blob.bin", "wb") as f:
        for i in range(CHUNKS):
            f.write(bytes([i]) * CHUNK)
            f.flush()
            time.sleep(0.05)            # a slow stage: readers must never see the half-written file

art = Store(root).get_or_compute("blob", 1, {"n": CHUNKS}, compute, verbose=False)
print(entered, hashlib.sha256(art.file("blob.bin").read_bytes()).hexdigest())
""".replace("{chunks}", str(BLOB_CHUNKS)).replace("{chunk}", str(CHUNK))


def _expected_blob_sha() -> str:
    return hashlib.sha256(b"".join(bytes([i]) * CHUNK for i in range(BLOB_CHUNKS))).hexdigest()


def _start_together(tmp_path: Path, root: Path, n: int = 2) -> tuple[list[subprocess.Popen], Path]:
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    counter, go = tmp_path / "counter.txt", tmp_path / "go"
    env = cli_env(root)
    procs = [subprocess.Popen([sys.executable, str(script), str(root), str(counter), str(go), str(i)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(n)]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.{i}").exists() for i in range(n)):
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        assert time.monotonic() < deadline
        time.sleep(POLL)
    go.touch()
    return procs, counter


def _finish(procs: list[subprocess.Popen], root: Path, key: str) -> list[tuple[float, str, str]]:
    """Wait for the workers while reading the artifact as a third party; return (entered, sha, stdout)."""
    expected = _expected_blob_sha()
    store = Store(root)
    while any(p.poll() is None for p in procs):
        try:  # a reader that takes no lock: never gets a partial or damaged artifact
            art = store.load("blob", key)
        except ArtifactError:
            art = None  # damaged: detected, not returned
        if art is not None:
            assert hashlib.sha256(art.file("blob.bin").read_bytes()).hexdigest() == expected
        time.sleep(POLL)
    out = []
    for p in procs:
        stdout, stderr = p.communicate()
        assert p.returncode == 0, stderr[-3000:]
        entered, sha = stdout.strip().splitlines()[-1].split()
        out.append((float(entered), sha, stderr))  # the store reports on stderr
    return out


def test_two_processes_compute_a_shared_artifact_once_and_both_read_it_whole(tmp_path):
    root = tmp_path / "store"
    key = make_key("blob", 1, {"n": BLOB_CHUNKS})
    procs, counter = _start_together(tmp_path, root)
    results = _finish(procs, root, key)
    computed = counter.read_text().splitlines()
    assert len(computed) == 1  # computed once
    started = float(computed[0].split()[1])
    assert all(entered < started + BLOB_CHUNKS * 0.05 for entered, _, _ in results)  # they overlapped
    assert {sha for _, sha, _ in results} == {_expected_blob_sha()}  # both read it whole


def test_two_processes_finding_the_same_corrupt_artifact_report_it_and_recompute_once(tmp_path):
    root = tmp_path / "store"
    key = make_key("blob", 1, {"n": BLOB_CHUNKS})
    procs, counter = _start_together(tmp_path, root)
    _finish(procs, root, key)
    blob = root / "blob" / key / "blob.bin"
    with open(blob, "r+b") as f:  # flip one byte: same size, other content
        f.seek(12345)
        f.write(b"\xff")
    counter.unlink()
    for i in range(2):
        Path(f"{tmp_path / 'go'}.{i}").unlink()
    (tmp_path / "go").unlink()

    procs, counter = _start_together(tmp_path, root)
    results = _finish(procs, root, key)
    assert len(counter.read_text().splitlines()) == 1
    assert {sha for _, sha, _ in results} == {_expected_blob_sha()}
    reports = [out for _, _, out in results if "WARNING" in out]
    assert reports and all("blob.bin fails its sha256 check" in r for r in reports)
    assert len(list((root / ".corrupt").iterdir())) == 1  # the damaged copy is kept for inspection


# ---------------------------------------------------------------------------------------------
# integrity: truncated, altered, unreadable metadata
# ---------------------------------------------------------------------------------------------
CONTENT = '{"text": "hello"}\n'


def _write(calls: list):
    def compute(work: Path) -> None:
        calls.append(work)
        (work / "corpus.jsonl").write_text(CONTENT)
    return compute


@pytest.mark.parametrize("damage,report", [
    ("truncate", "file corpus.jsonl has 5 bytes, artifact.json says 18 (truncated or altered)"),
    ("alter", "file corpus.jsonl fails its sha256 check (altered)"),
    ("metadata", "unreadable artifact.json"),
])
def test_damaged_artifact_is_reported_by_name_quarantined_and_recomputed(store, capsys, damage, report):
    a = store.get_or_compute("sample", 1, {"x": 1}, _write([]), verbose=False)
    if damage == "truncate":
        (a.path / "corpus.jsonl").write_text(CONTENT[:5])
    elif damage == "alter":
        (a.path / "corpus.jsonl").write_text(CONTENT.replace("hello", "HELLO"))
    else:
        (a.path / "artifact.json").write_text('{"files": {"corpus.jsonl": ')
    capsys.readouterr()
    calls: list = []
    b = store.get_or_compute("sample", 1, {"x": 1}, _write(calls), verbose=False)
    out = capsys.readouterr().err  # store messages are logs: stderr
    assert f"[store] WARNING: artifact sample/{a.key}: {report}" in out and "recomputing" in out
    assert len(calls) == 1 and (b.path / "corpus.jsonl").read_text() == CONTENT
    kept = list((store.root / ".corrupt").iterdir())
    assert len(kept) == 1 and str(kept[0]) in out  # the report says where the damaged copy went


def test_quarantine_tolerates_another_process_moving_the_artifact_first(store, monkeypatch, capsys):
    a = store.get_or_compute("sample", 1, {"x": 1}, _write([]), verbose=False)
    (a.path / "corpus.jsonl").write_text(CONTENT[:5])
    real_replace = os.replace

    def other_process_first(src, dst):  # another process quarantines it between our check and move
        if Path(src) == a.path:
            shutil.rmtree(src)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", other_process_first)
    assert store._load_or_quarantine("sample", a.key) is None
    assert "already moved aside by another process" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# parameters: every CLI flag and notebook parameter is checked before any heavy work
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus"), [{"text": "hello world", "num_tokens": 2}], {})


S = ["sample", "--model", "tiny-llama", "--num-samples", "3", "--max-new-tokens", "4"]
T = ["train", "--student", "tiny-llama", "--data", "{corpus}", "--lr", "1e-3"]


CLI_CASES = [
    (S + ["--temperature", "0"], ["'temperature'", "invalid value 0.0", "accepted: a finite number > 0"]),
    (S + ["--temperature", "-1"], ["'temperature'", "accepted: a finite number > 0"]),
    (S + ["--temperature", "1", "--min-new-tokens", "9"], ["'min_new_tokens'", "larger than max_new_tokens 4"]),
    (S + ["--temperature", "1", "--num-samples", "-3"], ["'num_samples'", "accepted: an integer >= 1"]),
    (["sample", "--model", "tiny-lama", "--temperature", "1", "--num-samples", "3", "--max-new-tokens", "4"],
     ["'model'", "'tiny-lama'", "accepted: ", "tiny-llama"]),
    (S + ["--temperature", "1", "--dtype", "fp8"], ["'dtype'", "accepted: auto, float32"]),
    (T + ["--epochs", "-1"], ["'epochs'", "accepted: an integer >= 0"]),
    (T + ["--epochs", "x"], ["--epochs", "'x'", "accepted: an integer"]),
    (T + ["--epochs", "1", "--lr", "fast"], ["--lr", "accepted: a number"]),
    (["train", "--student", "tiny-lama", "--data", "{corpus}", "--epochs", "1", "--lr", "1e-3"],
     ["'student'", "'tiny-lama'", "tiny-llama"]),
    (T + ["--epochs", "1", "--eval-suite", "nosuch"], ["'suite'", "'nosuch'", "accepted: ", "smoke"]),
    (T + ["--epochs", "1", "--eval-limit", "-2"], ["'eval_limit'", "accepted: "]),
    (T + ["--epochs", "1", "--bogus", "3"], ["unknown argument(s) --bogus 3", "accepted: ", "--epochs"]),
    (["evaluate", "--model", "tiny-llama", "--suite", "nosuch"], ["'suite'", "accepted: ", "smoke"]),
    (["evaluate", "--model", "tiny-llama", "--suite", "smoke", "--limit", "-1"], ["'limit'", "accepted: "]),
    (["evaluate", "--model", "tiny-llama", "--suite", "smoke", "--engine", "onnx"], ["--engine", "'hf', 'vllm'"]),
    (["subsets", "--corpus", "{corpus}", "--num-subsets", "2", "--tokens-per-subset", "-10"],
     ["'tokens_per_subset'", "accepted: an integer >= 1"]),
    (["decontaminate", "--corpus", "{corpus}", "--suite", "nosuch"], ["'suite'", "accepted: ", "smoke"]),
    (["figures", "--profile", "smoke", "-p", "epochs", "-1"], ["'epochs'", "accepted: an integer >= 0"]),
    (["figures", "--profile", "smoke", "-p", "epoch", "2"], ["'epoch'", "accepted: ", "epochs"]),
    (["figures", "--profile", "smoke", "-p", "eval_suite", "nosuch"], ["'eval_suite'", "accepted: ", "smoke"]),
    (["figures", "--profile", "smoke", "-p", "student", "tiny-lama"], ["'student'", "accepted: ", "tiny-llama"]),
    (["figures", "--profile", "laptop"], ["--profile", "'smoke', 'course', 'paper'"]),
]


@pytest.mark.parametrize("args,needles", CLI_CASES, ids=[" ".join(a).replace("{corpus}", "C") for a, _ in CLI_CASES])
def test_bad_cli_parameters_fail_fast_with_one_line_naming_them(args, needles, tiny_corpus, tmp_path):
    cmd = [BIN] + [a.replace("{corpus}", str(tiny_corpus)) for a in args]
    t0 = time.monotonic()
    r = subprocess.run(cmd, env=cli_env(tmp_path / "store"), capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - t0
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr  # one line, no traceback, no usage block
    assert lines[0].startswith(f"resurface {args[0]}: error: ")
    for needle in needles:
        assert needle in lines[0]
    assert elapsed < 10
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").rglob("DONE"))


@pytest.mark.parametrize("params,name,needle", [
    ({"epoch": 3}, "epoch", "epochs"),  # a typo: the accepted names are listed
    ({"epochs": "3"}, "epochs", "an integer >= 0"),  # wrong type
    ({"temperatures": [1.0, -0.5]}, "temperatures", "numbers > 0"),
    ({"min_new_tokens": 20, "max_new_tokens": 10}, "min_new_tokens", "<= max_new_tokens"),
    ({"student": "tiny-lama"}, "student", "tiny-llama"),  # unknown model alias
    ({"eval_suite": "nosuch"}, "eval_suite", "smoke"),  # unknown suite
    ({"decontam_suite": "nosuch"}, "decontam_suite", "course"),
    ({"replay": "wikipedia"}, "replay", "stdlib-docs"),
    ({"save_checkpoints": "yes"}, "save_checkpoints", "bool"),
])
def test_bad_notebook_parameters_name_the_parameter_and_the_accepted_values(params, name, needle):
    from resurface.book.notebook import setup

    with pytest.raises(ParameterError) as e:
        setup({"profile": "smoke", **params}, "fig02")
    assert e.value.name == name
    assert str(e.value).startswith(f"parameter '{name}': ") and "(accepted: " in str(e.value)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_every_profile_passes_its_own_model_and_suite_checks():
    from resurface.study import profiles

    for profile in profiles.PROFILES:
        for fig in [None] + [f"fig{i:02d}" for i in range(1, 12)]:
            profiles.resolve(profile, fig)


# ---------------------------------------------------------------------------------------------
# environment: no Hub, no network, no GPU, no disk
# ---------------------------------------------------------------------------------------------
def _can_unshare_network() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-r", "-n", "true"], capture_output=True).returncode == 0


needs_netns = pytest.mark.skipif(not _can_unshare_network(), reason="cannot create a network namespace here")
PAPER_SAMPLE = [BIN, "sample", "--model", "qwen2.5-0.5b", "--allow-hub", "--temperature", "1",
                "--num-samples", "2", "--max-new-tokens", "4", "--device", "cpu"]


def test_paper_model_with_hub_access_off_fails_in_seconds_saying_what_is_missing(tmp_path):
    t0 = time.monotonic()
    r = subprocess.run(PAPER_SAMPLE, env=cli_env(tmp_path / "store", HF_HOME=str(tmp_path / "hf")),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and time.monotonic() - t0 < 15
    msg = r.stderr.strip()
    assert len(msg.splitlines()) == 1
    for needle in ("model 'Qwen/Qwen2.5-0.5B'", "not in the local Hugging Face cache", "HF_HUB_OFFLINE=1",
                   "course"):
        assert needle in msg


@needs_netns
def test_paper_model_without_any_network_fails_in_seconds_saying_what_is_missing(tmp_path):
    env = cli_env(tmp_path / "store", HF_HOME=str(tmp_path / "hf"))
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        env.pop(var)  # the Hub is allowed, but there is no network at all
    t0 = time.monotonic()
    r = subprocess.run(["unshare", "-r", "-n", *PAPER_SAMPLE], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and time.monotonic() - t0 < 30, r.stderr[-2000:]
    msg = r.stderr.strip().splitlines()[-1]
    assert "model 'Qwen/Qwen2.5-0.5B' is not in the local Hugging Face cache" in msg
    assert "the Hugging Face Hub cannot be reached" in msg and "Fix:" in msg and "'course' profile" in msg


@needs_netns
@pytest.mark.parametrize("model", [
    "tiny-llama",
    pytest.param("course", marks=pytest.mark.slow),  # the course profile's real student
])
def test_offline_profiles_run_with_the_network_unavailable(tmp_path, model):
    from resurface.study import profiles

    alias = profiles.load("course")["student"] if model == "course" else model
    env = cli_env(tmp_path / "store")
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        env.pop(var)  # nothing forbids the Hub: only the missing network would stop a download
    cmd = ["unshare", "-r", "-n", BIN, "sample", "--model", alias, "--temperature", "1", "--num-samples", "2",
           "--max-new-tokens", "4", "--device", "cpu"]
    r = _run(cmd, env)
    assert len(read_corpus(_folder(r))) >= 1


def test_cuda_requested_on_a_machine_without_one_is_a_clear_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    r = subprocess.run([BIN, "train", "--student", "tiny-llama", "--data", str(tmp_path), "--epochs", "1",
                        "--lr", "1e-3", "--device", "cuda"], env=cli_env(tmp_path / "store"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    msg = r.stderr.strip()
    assert len(msg.splitlines()) == 1 and "'cuda' was requested but torch sees no CUDA GPU" in msg
    assert "device='cpu'" in msg


@pytest.fixture
def full_disk(monkeypatch):
    """The disk has 1 MiB free (only the free-space query is faked; nothing else is)."""
    real = shutil.disk_usage

    def fake(path):
        usage = real(path)
        return usage._replace(free=2**20)

    monkeypatch.setattr(shutil, "disk_usage", fake)


def test_sampling_checks_free_disk_before_it_starts(store, full_disk, monkeypatch):
    from resurface import models
    from resurface.corpus.sampling import sample

    monkeypatch.setattr(models, "load_model", lambda *a, **k: pytest.fail("the model was loaded"))
    with pytest.raises(DiskSpaceError) as e:
        sample("tiny-llama", temperature=1.0, num_samples=20000, max_new_tokens=1024, store=store,
               progress=False, device="cpu")
    msg = str(e.value)
    assert str(store.root / "sample") in msg and "needs about 318.6 MiB" in msg and "only 1.0 MiB is free" in msg
    # a small run fits
    monkeypatch.undo()
    assert sample("tiny-llama", temperature=1.0, num_samples=2, max_new_tokens=4, store=store, progress=False,
                  device="cpu").exists()


def test_training_checks_free_disk_for_its_state_and_checkpoints_before_it_starts(store, full_disk, tmp_path):
    from resurface.train import training
    from resurface.diskspace import training_bytes
    from resurface.tiny import ensure_tiny

    data = _train_corpus(tmp_path / "corpus")
    with pytest.raises(DiskSpaceError) as e:
        training.train_run("tiny-llama", data, epochs=3, lr=1e-3, block_size=32, batch_size=4, effective_batch=4,
                           save_checkpoints=True, store=store, progress=False, device="cpu")
    assert str(store.root / "train") in str(e.value) and "training tiny-llama for 3 epoch(s)" in str(e.value)
    partial = next((store.root / "train").glob(".partial-*"))
    assert not any(partial.iterdir())  # stopped before writing anything
    weights = (ensure_tiny("tiny-llama") / "model.safetensors").stat().st_size
    assert training_bytes(ensure_tiny("tiny-llama"), 3, True) == 10 * weights
    assert training_bytes(ensure_tiny("tiny-llama"), 3, False) == 6 * weights


def test_free_space_already_used_by_a_resumed_run_counts_towards_the_need(tmp_path, full_disk):
    from resurface.diskspace import check_free_space

    work = tmp_path / "work"
    work.mkdir()
    (work / "shard").write_bytes(b"x" * 2**20)
    check_free_space(work, 2 * 2**20 - 10, "a stage")  # 1 MiB written + 1 MiB free is enough
    with pytest.raises(DiskSpaceError, match=r"a stage needs about 2\.0 MiB of free disk in .*work, but only 1\.0 MiB is free"):
        check_free_space(work, 3 * 2**20, "a stage")
    check_free_space(tmp_path / "not" / "yet" / "there", 2**19, "a stage")  # checks the existing parent


# ---------------------------------------------------------------------------------------------
# model-written code: each hostile program is contained and scored as a failure
# ---------------------------------------------------------------------------------------------
def test_hostile_completions_are_contained_and_scored_as_failures(tmp_path, monkeypatch):
    """Through the code metric the course and paper code tasks use (not only the sandbox itself)."""
    import resurface.evaluate.tasks.metrics as metrics
    from resurface.evaluate.codeexec import sandbox_mode

    if sandbox_mode() != "namespaces":
        pytest.skip("writes outside the folder and raw sockets are only blocked by the namespace sandbox")
    monkeypatch.setattr(metrics, "CODE_TIMEOUT_S", 2.0)
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    escape = tmp_path / "escaped.txt"
    doc = {"prompt": "def f():\n", "test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"}
    hostile = {
        "infinite loop": "    while True:\n        pass\n",
        "memory hog": "    x = bytearray(8 * 1024 ** 3)\n    return 1\n",
        "write outside": f"    open({str(escape)!r}, 'w').write('x')\n    return 1\n",
        "network": ("    import _socket\n    s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)\n"
                    f"    s.connect(('127.0.0.1', {port}))\n    return 1\n"),
    }
    try:
        t0 = time.monotonic()
        scores = {name: metrics.process_code(doc, [[body]])["pass@1"] for name, body in hostile.items()}
        elapsed = time.monotonic() - t0
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()  # nothing ever connected
    finally:
        server.close()
    assert scores == {name: 0.0 for name in hostile}
    assert not escape.exists()
    assert elapsed < 30
    assert metrics.process_code(doc, [["    return 1\n"]])["pass@1"] == 1.0  # the harness itself works


# ---------------------------------------------------------------------------------------------
# bad data: property-based tests of the 8-gram normaliser and the corpus readers
# ---------------------------------------------------------------------------------------------
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)
PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPS
@given(texts)
def test_normalize_is_idempotent_and_yields_clean_lowercase_words(text):
    import re

    words = normalize(text)
    assert normalize(" ".join(words)) == words
    for w in words:
        assert w and not any(c.isspace() for c in w) and not re.search(r"[^\w\s]", w)


@PROPS
@given(texts, texts, texts, st.integers(min_value=1, max_value=8))
def test_ngrams_of_a_text_contain_those_of_any_embedded_text(before, inner, after, n):
    outer = set(ngrams(normalize(f"{before} {inner} {after}"), n))
    assert set(ngrams(normalize(inner), n)) <= outer


@PROPS
@given(texts, st.lists(st.text(alphabet="abcdefgh XYZ,.-!'", min_size=1, max_size=40), min_size=8, max_size=12),
       texts)
def test_a_planted_benchmark_passage_is_always_found(before, item_words, after):
    item = " ".join(item_words)
    if len(normalize(item)) < 8:
        return  # fewer than 8 words after normalisation: no 8-gram to find
    fps = fingerprints({"bench": [item]}, 8)
    assert hits(f"{before} {item.upper()} {after}", fps, 8) == ["bench"]


def test_normalizer_handles_empty_and_huge_texts():
    assert normalize("") == [] and list(ngrams([], 8)) == [] and hits("", {"b": {"a b"}}, 2) == []
    huge = ("Wörd, " * 400_000) + "é" * 1_000_000  # 3.4 M characters, one 1 M-character word
    t0 = time.monotonic()
    words = normalize(huge)
    assert len(words) == 400_001 and words[0] == "wörd" and len(words[-1]) == 1_000_000
    assert len(set(ngrams(words, 8))) == 2
    assert time.monotonic() - t0 < 20


records = st.lists(st.fixed_dictionaries({"text": texts, "num_tokens": st.integers(0, 10**6)},
                                         optional={"mean_nll": st.floats(allow_nan=False)}), max_size=20)


@PROPS
@given(records)
def test_corpus_round_trips_arbitrary_unicode(tmp_path, recs):
    folder = write_corpus(tmp_path / "c", recs, {"kind": "test"})
    assert read_corpus(folder) == recs


def test_sampling_shards_round_trip_line_separators(tmp_path):
    """U+2028, U+2029 and U+0085 are line breaks for str.splitlines() but not for JSONL."""
    from resurface.corpus.sampling import _read_shard, _write_shard

    rows = [{"id": i, "text": t, "num_tokens": 1, "mean_nll": 1.0, "finished": "eos"}
            for i, t in enumerate(["a\u2028b", "c\u2029d", "e\x85f", "g\x1ch", "i\rj\nk"])]
    path = tmp_path / "batch_00000.jsonl"
    _write_shard(path, rows)
    assert _read_shard(path, len(rows)) == rows


def test_corpus_with_a_huge_line(tmp_path):
    recs = [{"text": "x" * 20_000_000, "num_tokens": 1}, {"text": "", "num_tokens": 0}]
    assert read_corpus(write_corpus(tmp_path / "c", recs, {})) == recs


BAD_LINES = {
    "invalid JSON": ('{"text": "unterminated', "invalid JSON"),
    "not an object": ('["text"]', "expected a JSON object, got list"),
    "missing field": ('{"txt": "typo"}', "missing field 'text'"),
    "text not a string": ('{"text": 42}', "field 'text' must be a string"),
}


@PROPS
@given(st.lists(texts, max_size=10), st.data(), st.sampled_from(sorted(BAD_LINES)))
def test_an_invalid_corpus_line_is_reported_with_file_and_line(tmp_path, good, data, kind):
    lines = [json.dumps({"text": t}, ensure_ascii=False) for t in good]
    k = data.draw(st.integers(0, len(lines)), label="bad line index")
    bad, reason = BAD_LINES[kind]
    lines.insert(k, bad)
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError) as e:
        list(iter_jsonl(path))
    assert str(e.value).startswith(f"{path}:{k + 1}: ") and reason in str(e.value)


def test_invalid_utf8_and_blank_lines_are_reported_with_the_right_line(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "bom is fine"}\n\n{"text": "ok"}\n{"text": "\xff\xfe"}\n')
    with pytest.raises(CorpusError, match=rf"^{path}:4: not valid UTF-8 \(byte 11 of the line\)$"):
        list(iter_jsonl(path))
    path.write_bytes(b'{"text": "a"}\r\n\r\n{"text": "b"}\r\n')  # Windows line ends
    assert [r["text"] for r in iter_jsonl(path)] == ["a", "b"]


def test_cli_names_the_bad_corpus_file_and_line(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "corpus.jsonl").write_text('{"text": "fine"}\n{"text": "broken\n')
    r = subprocess.run([BIN, "subsets", "--corpus", str(folder), "--num-subsets", "1", "--tokens-per-subset", "2",
                        "--out", str(tmp_path / "out")], env=cli_env(tmp_path / "store"), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip() == (f"resurface subsets: error: {folder / 'corpus.jsonl'}:2: invalid JSON "
                                "(Unterminated string starting at: column 10)")
