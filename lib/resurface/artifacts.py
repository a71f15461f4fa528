"""A content-addressed artifact store: one folder per (stage, config, inputs), written atomically.

Layout under the store root (``RESURFACE_STORE``, default ``<repo>/.resurface-store``)::

    <stage>/<key>/            finished artifact: the stage's files, artifact.json, DONE (written last)
    <stage>/.partial-<key>/   work in progress; survives a kill so the stage can resume from it
    <stage>/<key>.lock        file lock: two processes asking for the same artifact compute it once
    .corrupt/                 artifacts that failed their checksum, kept for inspection

The key hashes the stage name, the stage's code version, every config field that changes the result,
and the keys of the input artifacts. artifact.json records the config, the inputs, the sha256 and size of
every file, the git commit, package versions and wall time; reads verify the checksums, and an
artifact that fails them is moved aside, reported and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from resurface import progress
from resurface.errors import ArtifactError
from resurface.paths import repo_root, store_dir

META = "artifact.json"
DONE = "DONE"
FULL_HASH_LIMIT = 64 * 2**20  # files above this are checked by size only on read


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace, so equal configs hash equally."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def make_key(stage: str, version: int, config: dict, inputs: list[str] | tuple[str, ...] = ()) -> str:
    """The artifact key: sha256 over stage, stage version, config and input keys (16 hex digits)."""
    payload = canonical_json({"stage": stage, "version": version, "config": config, "inputs": list(inputs)})
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def sha256_file(path: Path, chunk: int = 2**20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(chunk):
            h.update(b)
    return h.hexdigest()


def _git_commit() -> str:
    try:
        root = repo_root()
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return (commit or "unknown") + ("+dirty" if dirty else "")
    except Exception:
        return "unknown"


def environment_versions() -> dict[str, str]:
    """Versions of the packages that change results, for provenance."""
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for dist in ("resurface", "torch", "transformers", "lm-eval", "accelerate", "datasets",
                 "sentence-transformers"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


@dataclass
class Artifact:
    """A finished artifact folder and its metadata."""

    stage: str
    key: str
    path: Path
    meta: dict = field(default_factory=dict)

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def config(self) -> dict:
        return self.meta.get("config", {})


class Store:
    """The artifact store. ``get_or_compute`` is the one way stages produce their outputs."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else store_dir()
        self.root.mkdir(parents=True, exist_ok=True)

    # -- paths -----------------------------------------------------------------------------
    def final_dir(self, stage: str, key: str) -> Path:
        return self.root / stage / key

    def partial_dir(self, stage: str, key: str) -> Path:
        return self.root / stage / f".partial-{key}"

    def _lock(self, stage: str, key: str):
        from filelock import FileLock

        (self.root / stage).mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / stage / f"{key}.lock"))

    # -- reading ---------------------------------------------------------------------------
    def load(self, stage: str, key: str, verify: bool = True) -> Artifact | None:
        """The finished artifact, or None when absent or unfinished (no DONE marker).

        With ``verify``, file sizes and checksums are compared with artifact.json; a mismatch raises
        ArtifactError.
        """
        d = self.final_dir(stage, key)
        if not (d / DONE).exists():
            return None
        try:
            meta = json.loads((d / META).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"artifact {stage}/{key}: unreadable {META}: {exc}") from None
        if verify:
            self._verify(d, meta, f"{stage}/{key}")
        return Artifact(stage, key, d, meta)

    def _verify(self, d: Path, meta: dict, label: str) -> None:
        for rel, info in meta.get("files", {}).items():
            p = d / rel
            if not p.exists():
                raise ArtifactError(f"artifact {label}: file {rel} is missing")
            size = p.stat().st_size
            if size != info["bytes"]:
                raise ArtifactError(f"artifact {label}: file {rel} has {size} bytes, "
                                    f"artifact.json says {info['bytes']} (truncated or altered)")
            if size <= FULL_HASH_LIMIT and sha256_file(p) != info["sha256"]:
                raise ArtifactError(f"artifact {label}: file {rel} fails its sha256 check (altered)")

    def find(self, stage: str, version: int, config: dict, inputs=()) -> Artifact | None:
        return self.load(stage, make_key(stage, version, config, inputs))

    # -- writing ---------------------------------------------------------------------------
    def get_or_compute(self, stage: str, version: int, config: dict,
                       compute: Callable[[Path], dict | None], inputs=(), verbose: bool = True) -> Artifact:
        """Return the artifact for (stage, version, config, inputs), computing it if needed.

        ``compute(workdir)`` writes the stage's files into ``workdir`` and may return extra metadata.
        ``workdir`` persists across a kill, so a stage can keep checkpoints there and resume; it is
        renamed into place only after ``compute`` returns, and DONE is written last.
        """
        inputs = list(inputs)
        key = make_key(stage, version, config, inputs)
        art = self._load_or_quarantine(stage, key)
        if art is not None:
            if verbose:
                print(f"[store] {stage}/{key}: cached", file=sys.stderr, flush=True)
            return art
        with self._lock(stage, key):
            art = self._load_or_quarantine(stage, key)  # another process may have finished it
            if art is not None:
                return art
            final = self.final_dir(stage, key)
            if final.exists():  # a rename happened but DONE was never written: redo
                shutil.rmtree(final)
            work = self.partial_dir(stage, key)
            resumed = work.exists()
            work.mkdir(parents=True, exist_ok=True)
            if verbose:
                print(f"[store] {stage}/{key}: {'resuming' if resumed else 'computing'} in {work}", file=sys.stderr, flush=True)
                progress.report(f"{stage}: {'resuming' if resumed else 'computing'} {key[:8]}")
            t0 = time.time()
            extra = compute(work) or {}
            meta = {
                "stage": stage, "version": version, "key": key, "config": config, "inputs": inputs,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "wall_seconds": round(time.time() - t0, 2),
                "resumed": resumed, "git_commit": _git_commit(), "versions": environment_versions(),
                "host": platform.node(), **extra,
                "files": {str(p.relative_to(work)): {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
                          for p in sorted(work.rglob("*")) if p.is_file() and p.name not in (META, DONE)
                          and not p.name.startswith(".")},
            }
            (work / META).write_text(json.dumps(meta, indent=2, default=str))
            os.replace(work, final)
            (final / DONE).write_text(meta["created"])
            if verbose:
                print(f"[store] {stage}/{key}: done in {meta['wall_seconds']} s", file=sys.stderr, flush=True)
            return Artifact(stage, key, final, meta)

    def _load_or_quarantine(self, stage: str, key: str) -> Artifact | None:
        try:
            return self.load(stage, key)
        except ArtifactError as exc:
            # unique per process: several processes can find the same corrupt artifact at once
            dest = self.root / ".corrupt" / f"{stage}-{key}-{time.time_ns()}-{os.getpid()}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(self.final_dir(stage, key), dest)
            except FileNotFoundError:  # another process moved it aside first
                print(f"[store] WARNING: {exc}; already moved aside by another process", file=sys.stderr, flush=True)
                return None
            print(f"[store] WARNING: {exc}; moved to {dest} and recomputing", file=sys.stderr, flush=True)
            return None

    # -- maintenance -----------------------------------------------------------------------
    def _in_use(self, stage: str, key: str) -> bool:
        """True when another process holds the artifact's lock (it is being computed now)."""
        from filelock import Timeout

        lock = self._lock(stage, key)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return True
        lock.release()
        return False

    def ls(self) -> list[dict]:
        """One row per finished or partial artifact: stage, key, status, size, age, short config."""
        rows = []
        for stage_dir in sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for d in sorted(p for p in stage_dir.iterdir() if p.is_dir()):
                partial = d.name.startswith(".partial-")
                key = d.name.removeprefix(".partial-")
                status = "partial" if partial else ("done" if (d / DONE).exists() else "incomplete")
                size = sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
                cfg = {}
                if (d / META).exists():
                    cfg = json.loads((d / META).read_text()).get("config", {})
                rows.append({"stage": stage_dir.name, "key": key, "status": status, "bytes": size,
                             "modified": time.strftime("%Y-%m-%d %H:%M", time.localtime(d.stat().st_mtime)),
                             "config": canonical_json(cfg)[:120]})
        return rows

    def gc(self, partial: bool = True, stages: list[str] | None = None, dry_run: bool = False) -> list[Path]:
        """Remove unfinished folders, quarantined artifacts, and (if ``stages``) whole stages."""
        doomed: list[Path] = []
        if (self.root / ".corrupt").exists():
            doomed.append(self.root / ".corrupt")
        for stage_dir in (p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if stages and stage_dir.name in stages:
                doomed.append(stage_dir)
                continue
            for d in stage_dir.iterdir():
                if d.is_dir() and ((partial and d.name.startswith(".partial-")) or
                                   (not d.name.startswith(".") and not (d / DONE).exists())):
                    if not self._in_use(stage_dir.name, d.name.removeprefix(".partial-")):
                        doomed.append(d)
        if not dry_run:
            for d in doomed:
                shutil.rmtree(d, ignore_errors=True)
        return doomed


def run_stage(stage: str, version: int, config: dict, compute: Callable[[Path], dict | None], *,
              inputs=(), store: Store | None = None, out: str | Path | None = None,
              verbose: bool = True) -> Path:
    """Run a stage into ``out`` when given (a plain folder, no caching), else through the store."""
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        compute(out)
        return out
    store = store if store is not None else Store()
    return store.get_or_compute(stage, version, config, compute, inputs=inputs, verbose=verbose).path


def build_once(out: Path, build: Callable[[Path], None]) -> Path:
    """Create the cache folder ``out`` once: ``build(tmp)`` fills a temporary folder that is renamed
    into place, with a DONE marker last; concurrent callers wait on a file lock and reuse it."""
    from filelock import FileLock

    if (out / DONE).exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out) + ".lock"):
        if (out / DONE).exists():
            return out
        tmp = out.with_name(out.name + f".tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        build(tmp)
        shutil.rmtree(out, ignore_errors=True)
        os.replace(tmp, out)
        (out / DONE).touch()
    return out
