"""The smoke book built the way the publishing workflow builds it (.github/workflows/book.yml): a fresh
clone, the build job's environment with the GitHub contexts filled in (a dummy repository, the clone's
commit), and the workflow's own build step. One build serves the browser tests and the publishing tests
(conftest.ci_book)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
REPOSITORY, COMMIT = "example-org/resurface-demo", "0123456789abcdef0123456789abcdef01234567"


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def build_step(wf: dict) -> dict:
    return next(s for s in wf["jobs"]["build"]["steps"] if s.get("name") == "Build the book")


def github_env(workspace: Path, commit: str, profile: str) -> dict:
    """The build job's env with the GitHub contexts filled in (a dummy repository, the clone's commit)."""
    ctx = {"github.workspace": str(workspace), "github.repository": REPOSITORY, "github.sha": commit,
           "github.server_url": "https://github.com"}
    env = {}
    for k, v in workflow()["jobs"]["build"]["env"].items():
        env[k] = re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: ctx[m.group(1)], str(v))
    env["BOOK_PROFILE"] = profile
    return env


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def fresh_clone(dest: Path) -> tuple[Path, str]:
    """``git clone`` of this checkout's HEAD, then the working tree's uncommitted state laid over it
    (changed and new files that git does not ignore, deleted files removed), so a developer's
    ``make test`` checks what they are about to commit and CI (a clean clone) checks HEAD itself."""
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(dest)], check=True, timeout=300)
    for rel in _git("ls-files", "-z", "--modified", "--others", "--exclude-standard").split("\0"):
        if rel and (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    for rel in _git("ls-files", "-z", "--deleted").split("\0"):
        if rel:
            (dest / rel).unlink(missing_ok=True)
    return dest, _git("rev-parse", "HEAD", cwd=dest).strip()


def build(work: Path, store: Path, profile: str = "smoke") -> dict:
    """Run the workflow's build step in a fresh clone under ``work``; return the HTML folder, the clone
    and its commit. This checkout's .venv stands in for the one `make setup` would create."""
    clone, commit = fresh_clone(work / "clone")
    env = {**os.environ, **github_env(clone, commit, profile), "OMP_NUM_THREADS": "1", "RESURFACE_STORE": str(store)}
    for k in ("RESURFACE_ROOT", "RESURFACE_GENERATED"):
        env.pop(k, None)
    # the clone's own library, not this checkout's (the editable install's path entry comes after
    # PYTHONPATH; papermill kernels inherit it)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(clone / "lib"), env.get("PYTHONPATH")]))
    venv = ROOT / ".venv"
    cmd = build_step(workflow())["run"].replace("make ", f"make VENV={venv} -o {venv}/.installed ", 1)
    r = subprocess.run(["bash", "-eo", "pipefail", "-c", cmd], cwd=clone, env=env, capture_output=True,
                       text=True, timeout=3000)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-5000:])
    return {"html": clone / "_build" / "html", "clone": clone, "commit": commit, "toc": clone / "_toc.yml"}
