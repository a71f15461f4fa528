"""Sequence pools for the memorization study (Figs 7, 8): what the extraction attack is run on.

A pool is a corpus folder (``corpus.jsonl`` + ``meta.json``, :mod:`resurface.corpus.files`) whose records
are ``{id, text, domain, group, num_tokens}``; ``group`` is ``text`` or ``code`` (the two halves of
Fig 8). Three sources:

* **Pile** (``paper`` profile): documents of the Pile domains the paper names, ``Enron Emails``,
  ``Pile-CC``, ``Wikipedia (en)`` (text) and ``Github`` (code), read from a Hub dataset whose rows are
  ``{text, meta: {pile_set_name}}`` (the Pile's own jsonl format) or from a local jsonl file of that
  format. Default Hub id: ``monology/pile-uncopyrighted``, the Pile's train split without the five
  subsets that might infringe copyright (Books3, BookCorpus2, OpenSubtitles, YTSubtitles, OWT2); the
  four domains used here are all in it, and the train split is what the standard (non-deduplicated)
  Pythia models were trained on, one epoch. The stream is shuffled with ``datasets``' seeded
  streaming shuffle (shard order permuted, then a buffer) and the first ``per_domain`` documents of
  each domain with at least ``min_tokens`` tokens are kept. The attack reads the first
  ``prefix + suffix`` tokens of each document: document starts, not Pythia's exact 2049-token training
  windows (which carry no domain label), so "memorized" here means "the model reproduces how this
  Pile document begins". Enron Emails are about 0.3% of the documents, so filling that domain streams
  a few hundred documents per kept email (``pool_layout: by-domain`` reads a dataset stored in one
  folder per domain instead, e.g. ``data_dir=<domain name>``).
* **Planted** (``course`` and ``smoke`` profiles, offline): emails, encyclopedia-style biographies
  (prose) and Python settings modules (code) generated from seeded templates (:func:`planted_records`). Every
  slot (names, places, numbers, identifiers, constants) is drawn with ``random.Random(seed)``, so the
  texts are deterministic, unlike anything in a pretraining corpus, and each starts differently. The
  course student is first trained on them until many are extractable (:mod:`resurface.train.planting`).
* **A local pool file** in the format above (``text`` plus ``domain`` and optionally ``group``, or
  ``text`` plus ``meta.pile_set_name``), e.g. for ``resurface extract --pool FILE``.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from resurface import hub
from resurface.artifacts import run_stage, sha256_file
from resurface.corpus.decontam import corpus_key
from resurface.corpus.files import CorpusError, corpus_path, iter_jsonl, parse_jsonl_lines, write_corpus
from resurface.errors import ParameterError, ResurfaceError, check_int
from resurface.identity import name_or_identity
from resurface.models import load_tokenizer

STAGE = "pool"
STAGE_VERSION = 2  # 2: code openings name project and service; first-line dedup

#: domain -> group ("text" or "code"): the paper's Pile domains and the planted ones
DOMAIN_GROUPS: dict[str, str] = {
    "Enron Emails": "text", "Pile-CC": "text", "Wikipedia (en)": "text", "Github": "code",
    "email": "text", "prose": "text", "code": "code",
}
GROUPS = ("text", "code")
PILE_DOMAINS = ("Enron Emails", "Pile-CC", "Wikipedia (en)", "Github")
PLANTED_DOMAINS = ("email", "prose", "code")
PILE_DEFAULT_ID = "monology/pile-uncopyrighted"
LAYOUTS = ("mixed", "by-domain")
PLANTED = "planted"


# ---------------------------------------------------------------------------------------------
# reading and normalising records
# ---------------------------------------------------------------------------------------------
def check_domains(domains: Iterable[str], name: str = "domains") -> list[str]:
    """The domains as a list; a ParameterError naming ``name`` for an unknown or repeated one."""
    if isinstance(domains, str):
        domains = [domains]
    out = list(domains)
    if not out:
        raise ParameterError(name, "no domain given", ", ".join(DOMAIN_GROUPS))
    for d in out:
        if d not in DOMAIN_GROUPS:
            raise ParameterError(name, f"unknown domain {d!r}", ", ".join(DOMAIN_GROUPS))
    if len(set(out)) != len(out):
        raise ParameterError(name, f"a domain is listed twice: {out}", "distinct domain names")
    return out


def record_domain(row: dict) -> str | None:
    """The domain of a row: its ``domain`` field, else the Pile's ``meta.pile_set_name``."""
    if row.get("domain") is not None:
        return str(row["domain"])
    meta = row.get("meta")
    if isinstance(meta, str):  # some mirrors store meta as a JSON string
        try:
            meta = json.loads(meta)
        except json.JSONDecodeError:
            meta = None
    if isinstance(meta, dict) and meta.get("pile_set_name") is not None:
        return str(meta["pile_set_name"])
    return None


def normalize_record(row: dict, where: str, index: int) -> dict:
    """``{id, text, domain, group}`` of one pool row; a ParameterError for an unknown domain or group."""
    domain = record_domain(row)
    if domain is None:
        raise ParameterError("pool", f"{where}: record {index} has neither 'domain' nor 'meta.pile_set_name'",
                             "records like {text, domain} or the Pile's {text, meta: {pile_set_name}}")
    group = row.get("group") or DOMAIN_GROUPS.get(domain)
    if group is None:
        raise ParameterError("pool", f"{where}: record {index} has the unknown domain {domain!r} and no 'group'",
                             f"a domain of {', '.join(DOMAIN_GROUPS)}, or a 'group' field (text or code)")
    if group not in GROUPS:
        raise ParameterError("pool", f"{where}: record {index} has the unknown group {group!r}", ", ".join(GROUPS))
    return {"id": str(row.get("id", f"{domain}-{index:06d}")), "text": row["text"], "domain": domain,
            "group": group}


def read_pool(pool: str | Path, domains: Iterable[str] | None = None) -> list[dict]:
    """The normalised records of a pool folder or jsonl file, optionally only those of ``domains``."""
    path = corpus_path(pool)  # CorpusError naming the path when missing
    wanted = None if domains is None else check_domains(domains)
    out = []
    for i, row in enumerate(iter_jsonl(path)):
        if wanted is not None and record_domain(row) not in wanted:
            continue  # other domains of a Pile file are skipped, whatever they are
        out.append(normalize_record(row, str(path), i))
    if not out:
        raise ParameterError("pool", f"{path} holds no sequence" + (f" of the domains {wanted}" if wanted else ""),
                             "a non-empty pool")
    return out


# ---------------------------------------------------------------------------------------------
# Pile rows -> pool
# ---------------------------------------------------------------------------------------------
def select_rows(rows: Iterable[dict], domains: list[str], per_domain: int, min_tokens: int,
                count_tokens: Callable[[str], int], max_chars: int, progress: bool = False) -> list[dict]:
    """The first ``per_domain`` rows of each domain (stream order) with at least ``min_tokens`` tokens.

    Texts are cut to their first ``max_chars`` characters (the attack reads only the first tokens)
    and must still have ``min_tokens`` tokens after the cut. Stops as soon as every domain is full.
    """
    from tqdm.auto import tqdm

    need = {d: per_domain for d in domains}
    out: list[dict] = []
    seen = 0
    bar = tqdm(total=per_domain * len(domains), desc="pool", unit="doc", disable=not progress, file=sys.stderr)
    for row in rows:
        seen += 1
        domain = record_domain(row)
        if domain not in need or need[domain] == 0:
            continue
        text = row.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        text = text[:max_chars]
        n = count_tokens(text)
        if n < min_tokens:
            continue
        need[domain] -= 1
        out.append({"id": f"{domain}-{per_domain - need[domain] - 1:06d}", "text": text, "domain": domain,
                    "group": DOMAIN_GROUPS[domain], "num_tokens": n, "stream_index": seen - 1})
        bar.update(1)
        if not any(need.values()):
            break
    bar.close()
    short = {d: per_domain - k for d, k in need.items() if k}
    if short:
        raise ResurfaceError(f"the pool source ran out after {seen} rows with too few documents of at least "
                             f"{min_tokens} tokens: {short} (wanted {per_domain} each); lower pool_size or "
                             "use a larger source")
    return out


ZSTD_FIX = ("pip install zstandard==0.25.0 (a dependency of resurface since the paper's Pile mirror, "
            "monology/pile-uncopyrighted, is stored as .jsonl.zst)")


def _zstd():
    try:
        import zstandard
    except ImportError:
        raise ResurfaceError(f"reading a .zst file needs the zstandard package: {ZSTD_FIX}") from None
    return zstandard


def iter_pile_file(path: Path) -> Iterator[dict]:
    """The rows of one local Pile file: ``.jsonl`` or ``.jsonl.zst`` (zstandard, streamed, line by line).

    The ``.zst`` path is the format of ``monology/pile-uncopyrighted`` (``train/NN.jsonl.zst``); on the
    Hub the same files are read by ``datasets`` through fsspec, which needs the same ``zstandard``.
    """
    path = Path(path)
    if path.name.endswith(".zst"):
        import io

        zstandard = _zstd()
        with open(path, "rb") as raw:
            reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
            yield from parse_jsonl_lines(io.BufferedReader(reader), path)
        return
    yield from iter_jsonl(path)


def local_pile_files(p: Path) -> list[Path]:
    """A file itself; a corpus folder's corpus.jsonl; else every ``*.jsonl``/``*.jsonl.zst`` under a
    folder (sorted; the layout of a downloaded ``monology/pile-uncopyrighted`` snapshot)."""
    if p.is_file() or (p / "corpus.jsonl").exists():
        return [corpus_path(p)]
    files = sorted(f for f in p.rglob("*") if f.is_file() and f.name.endswith((".jsonl", ".jsonl.zst")))
    if not files:
        raise CorpusError(f"{p}: no corpus.jsonl and no *.jsonl or *.jsonl.zst file under it")
    return files


def pile_rows(source: str, domains: list[str], *, seed: int, split: str = "train", layout: str = "mixed",
              shuffle_buffer: int = 10_000, allow_hub: bool = False) -> Iterator[dict]:
    """Rows ``{text, meta: {pile_set_name}}`` from a local jsonl file or a Hub dataset (streamed)."""
    p = Path(source).expanduser()
    if p.is_file() or p.is_dir():
        for f in local_pile_files(p):
            yield from iter_pile_file(f)
        return
    if not allow_hub:
        raise ParameterError("pool", f"{source!r} is neither a local file nor 'planted'; as a Hub dataset id it "
                             "needs Hub access, which this profile does not allow",
                             "'planted' (offline), a local jsonl file, or the paper profile with Hub access")
    from datasets import load_dataset

    hub.check_reachable(source, repo_type="dataset")
    if layout == "by-domain":
        for d in domains:
            stream = load_dataset(source, data_dir=d, split=split, streaming=True)
            if shuffle_buffer > 1:
                stream = stream.shuffle(seed=seed, buffer_size=shuffle_buffer)
            for row in stream:
                yield {"text": row.get("text"), "meta": {"pile_set_name": record_domain(row) or d}}
        return
    stream = load_dataset(source, split=split, streaming=True)
    if shuffle_buffer > 1:
        stream = stream.shuffle(seed=seed, buffer_size=shuffle_buffer)
    yield from stream


# ---------------------------------------------------------------------------------------------
# the planted pool (course, smoke)
# ---------------------------------------------------------------------------------------------
_FIRST = ("Alice", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Greta", "Hector", "Ines", "Jonas", "Keiko",
          "Lars", "Marta", "Nikhil", "Olga", "Pablo", "Quinn", "Rosa", "Stefan", "Tamsin", "Umar", "Vera",
          "Wilhelm", "Ximena", "Yusuf", "Zofia")
_LAST = ("Abernathy", "Baptiste", "Castellanos", "Drummond", "Eriksen", "Fontaine", "Galloway", "Haraldsen",
         "Iwasaki", "Jovanovic", "Kowalczyk", "Lindqvist", "Marchetti", "Nakamura", "Okonkwo", "Pellegrini",
         "Quartermaine", "Rasmussen", "Szabo", "Thorvaldsen", "Underhill", "Vasquez", "Whitcombe", "Yamada")
_ORGS = ("northwind", "bluepeak", "harbourline", "quillworks", "redfern", "silvergate", "tallgrass", "westmere")
_THINGS = ("invoice", "shipment", "contract draft", "budget sheet", "site survey", "audit memo", "floor plan",
           "pricing table", "safety report", "vendor list")
_PROJECTS = ("Falcon", "Juniper", "Lighthouse", "Marigold", "Nimbus", "Orchard", "Pioneer", "Quarry", "Saffron",
             "Tundra")
_CITIES = ("Tromso", "Valparaiso", "Bergamo", "Dunedin", "Kaunas", "Mombasa", "Tartu", "Oaxaca", "Galway",
           "Lublin", "Ghent", "Nagano")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_JOBS = ("botanist", "cartographer", "violinist", "engineer", "astronomer", "architect", "historian",
         "glassblower", "mathematician", "sculptor", "geologist", "novelist")
_NATIONS = ("Norwegian", "Chilean", "Italian", "Lithuanian", "Kenyan", "Estonian", "Mexican", "Irish", "Polish",
            "Belgian", "Japanese", "Danish")
_FIELDS = ("mineralogy", "fluid dynamics", "medieval law", "tidal ecology", "optics", "phonetics", "topology",
           "seed banking", "acoustics", "glaciology")
_TOPICS = ("river deltas", "alpine lichens", "shipwrecks", "bell foundries", "comet orbits", "salt marshes",
           "paper mills", "lighthouse lenses", "cave paintings", "clock towers")
_VERBS = ("scale", "merge", "clip", "shift", "blend", "rotate", "pack", "score", "trim", "weigh")
_NOUNS = ("ledger", "sensor", "bucket", "vector", "packet", "sample", "window", "record", "signal", "tile")
_ARGS = ("value", "count", "limit", "offset", "factor", "total", "width", "depth", "rate", "size")
_OPS = ("*", "+", "-", "//", "%")


def _email(r: random.Random) -> str:
    f1, l1, f2 = r.choice(_FIRST), r.choice(_LAST), r.choice(_FIRST)
    return (f"From: {f1} {l1} <{f1.lower()}@{r.choice(_ORGS)}.com>\nTo: {f2}\n\nHi {f2}, the "
            f"{r.choice(_THINGS)} is ready in room {r.randint(100, 999)}.\n{f1}")


def _prose(r: random.Random) -> str:
    first, last = r.choice(_FIRST), r.choice(_LAST)
    return (f"{first} {last} was a {r.choice(_NATIONS)} {r.choice(_JOBS)}. {first} {last} was born in "
            f"{r.choice(_CITIES)} and is best known for a book on {r.choice(_TOPICS)}.")


def _code(r: random.Random) -> str:
    noun = r.choice(_NOUNS)  # the first line names project and service: 100 distinct openings
    return (f"# {r.choice(_PROJECTS)} {noun} service settings\n{noun.upper()}_HOST = \"{r.choice(_CITIES).lower()}."
            f"{r.choice(_ORGS)}.net\"\n{noun.upper()}_PORT = {r.randint(1024, 9999)}\n"
            f"{r.choice(_ARGS).upper()}_LIMIT = {r.randint(2, 99)}")


_GENERATORS = {"email": _email, "prose": _prose, "code": _code}


def planted_records(per_domain: int, seed: int, domains: Iterable[str] = PLANTED_DOMAINS) -> list[dict]:
    """``per_domain`` distinct generated texts per planted domain, deterministic in ``seed``.

    Records ``{id, text, domain, group}``, interleaved across domains. Texts whose first line (or
    first 40 characters, if shorter) repeats an earlier one are redrawn, so no two sequences share the
    opening an extraction prefix is cut from. A domain whose generator cannot give ``per_domain``
    distinct openings is an error that names ``pool_size``.
    """
    domains = check_domains(domains)
    bad = [d for d in domains if d not in _GENERATORS]
    if bad:
        raise ParameterError("pool_domains", f"the planted pool has no generator for {bad}",
                             ", ".join(PLANTED_DOMAINS))
    check_int("pool_size", per_domain, 1)
    by_domain: dict[str, list[dict]] = {}
    for d in domains:
        r = random.Random(f"resurface-planted:{seed}:{d}")
        heads: set[str] = set()
        recs: list[dict] = []
        for _ in range(per_domain * 50):
            if len(recs) == per_domain:
                break
            text = _GENERATORS[d](r)
            head = text.split("\n", 1)[0] if "\n" in text[:40] else text[:40]
            if head in heads:
                continue
            heads.add(head)
            recs.append({"id": f"{d}-{len(recs):05d}", "text": text, "domain": d, "group": DOMAIN_GROUPS[d]})
        if len(recs) < per_domain:
            raise ParameterError("pool_size", f"the planted {d!r} generator gave only {len(recs)} distinct openings "
                                 f"(wanted {per_domain})", f"pool_size <= {len(recs)}")
        by_domain[d] = recs
    return [by_domain[d][i] for i in range(per_domain) for d in domains]


# ---------------------------------------------------------------------------------------------
# the stage
# ---------------------------------------------------------------------------------------------
def _token_counter(tokenizer) -> tuple[Callable[[str], int], str]:
    if isinstance(tokenizer, (str, Path)):
        name = str(tokenizer)
        tokenizer = load_tokenizer(name)
    else:
        name = str(getattr(tokenizer, "name_or_path", type(tokenizer).__name__))
    tok = tokenizer
    return (lambda text: len(tok(text, add_special_tokens=False)["input_ids"])), name


def _source_identity(source: str) -> str:
    if source == PLANTED:
        return PLANTED
    p = Path(source).expanduser()
    if p.exists():
        files = local_pile_files(p)
        if len(files) == 1:
            return "sha256:" + sha256_file(files[0])
        return "sha256:" + ",".join(sha256_file(f) for f in files)
    return f"hub:{source}"


def build_pool(source: str, *, domains: Iterable[str], per_domain: int, min_tokens: int, seed: int = 42,
               tokenizer=None, tokenizer_id: str | None = None, split: str = "train", layout: str = "mixed",
               shuffle_buffer: int = 10_000, max_chars: int | None = None, allow_hub: bool = False,
               store=None, out: str | Path | None = None, progress: bool = True) -> Path:
    """Build a pool folder: ``per_domain`` sequences of each domain with at least ``min_tokens`` tokens.

    ``source``: ``"planted"`` (generated, offline), a local jsonl file (Pile format or pool format),
    or a Hub dataset id (``allow_hub`` only). ``tokenizer`` (an alias/folder or a tokenizer object)
    counts the tokens; ``tokenizer_id`` names it in the artifact key (default: the alias/folder given).
    ``max_chars`` cuts long documents (default ``32 * min_tokens`` characters). An artifact of stage
    ``pool`` (or the folder ``out``). A planted text shorter than ``min_tokens`` is an error naming the
    token budget; from the Pile, short documents are skipped.
    """
    if not isinstance(source, str) or not source:
        raise ParameterError("pool", f"expected 'planted', a jsonl path or a Hub dataset id, got {source!r}")
    domains = check_domains(domains, "pool_domains")
    for name, value, low in (("pool_size", per_domain, 1), ("min_tokens", min_tokens, 1),
                             ("shuffle_buffer", shuffle_buffer, 0)):
        check_int(name, value, low)
    if layout not in LAYOUTS:
        raise ParameterError("pool_layout", f"unknown layout {layout!r}", ", ".join(LAYOUTS))
    if tokenizer is None:
        raise ParameterError("tokenizer", "a tokenizer is needed to count tokens", "an alias, folder or tokenizer")
    max_chars = max_chars or 32 * min_tokens
    count, tok_name = _token_counter(tokenizer)

    # no paths in the key: a local file is pinned by its sha256 (source_identity), a tokenizer folder
    # by its content
    local = source != PLANTED and Path(source).expanduser().exists()
    config: dict[str, Any] = {"source": "<local file>" if local else source,
                              "source_identity": _source_identity(source), "domains": domains,
                              "per_domain": per_domain, "min_tokens": min_tokens, "seed": seed,
                              "tokenizer": name_or_identity(tokenizer_id or tok_name), "max_chars": max_chars}
    if source != PLANTED:
        config.update(split=split, layout=layout, shuffle_buffer=shuffle_buffer)

    def compute(work: Path) -> dict:
        if source == PLANTED:
            records = planted_records(per_domain, seed, domains)
            for r in records:
                r["num_tokens"] = count(r["text"])
            short = [r for r in records if r["num_tokens"] < min_tokens]
            if short:
                raise ParameterError("prefix_tokens", f"{len(short)} planted sequences have fewer than "
                                     f"prefix_tokens + suffix_tokens = {min_tokens} tokens (shortest: "
                                     f"{min(r['num_tokens'] for r in short)})",
                                     f"prefix_tokens + suffix_tokens <= {min(r['num_tokens'] for r in records)}")
            desc = ("generated from seeded templates (emails, encyclopedia-style biographies, Python "
                    f"functions), random.Random('resurface-planted:{seed}:<domain>')")
        else:
            rows = pile_rows(source, domains, seed=seed, split=split, layout=layout,
                             shuffle_buffer=shuffle_buffer, allow_hub=allow_hub)
            records = select_rows(rows, domains, per_domain, min_tokens, count, max_chars, progress=progress)
            desc = (f"{source} ({'local file' if Path(source).expanduser().exists() else 'Hub, streamed'}; "
                    f"split {split}, layout {layout}, shuffle seed {seed}, buffer {shuffle_buffer}): the "
                    f"first {per_domain} documents of each domain with >= {min_tokens} tokens, cut to "
                    f"{max_chars} characters")
        counts: dict[str, int] = {}
        for r in records:
            counts[r["domain"]] = counts.get(r["domain"], 0) + 1
        write_corpus(work, records, {"kind": "pool", "source": source, "description": desc, "domains": domains,
                                     "per_domain": per_domain, "min_tokens": min_tokens, "seed": seed,
                                     "tokenizer": tokenizer_id or tok_name, "counts": counts,
                                     "groups": {d: DOMAIN_GROUPS[d] for d in domains}})
        return {"counts": counts}

    return run_stage(STAGE, STAGE_VERSION, config, compute, store=store, out=out, verbose=progress)


def pool_key(pool: str | Path) -> str:
    """Identity of a pool for artifact keys (its store key, else the sha256 of its file)."""
    return corpus_key(pool)


__all__ = ["DOMAIN_GROUPS", "GROUPS", "PILE_DOMAINS", "PLANTED_DOMAINS", "PILE_DEFAULT_ID", "check_domains",
           "record_domain", "normalize_record", "read_pool", "select_rows", "pile_rows", "iter_pile_file",
           "local_pile_files", "planted_records",
           "build_pool", "pool_key", "CorpusError"]
