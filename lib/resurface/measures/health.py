"""Is a model the book trained or planted still a healthy language model? Its NLL on held-out English.

A planted base (Figures 7-8) or a model with a buried skill (Figure 13) is built from a real student by
training; that training can damage the model's general language modelling, and then "capability kept"
or "resurfacing" would be measured on a damaged model. This module scores general text that no stage
trains on — the held-out share of the Python standard-library docstrings, which no replay pool draws
from (:func:`resurface.corpus.replay.is_held_out`), and none of the run's replay texts — under each model and
its base, and reports the mean NLL per token and the paired difference with its 95% interval over
texts (texts as a sample of general English).
"""

from __future__ import annotations

import hashlib
import math
import random
from pathlib import Path

import pandas as pd

from resurface.artifacts import Store, run_stage
from resurface.corpus.files import read_corpus, write_corpus
from resurface.corpus.replay import stdlib_documents
from resurface.errors import ParameterError, check_int
from resurface.measures.proxies import nll, read_nll

HELDOUT_STAGE, HELDOUT_VERSION = "heldout-english", 2
HEALTH_MARGIN_REL = 0.10  # a planted model stays within +10% of its base's NLL per token
HEALTH_TEXTS = 32
HEALTH_MAX_TOKENS = 128


def heldout_english(P: dict, replay: str | Path | None, store: Store | None = None,
                    n: int = HEALTH_TEXTS, min_chars: int = 400) -> Path:
    """A corpus folder of ``n`` stdlib docstrings of the held-out share (seeded by ``P['seed']``), none of
    them in ``replay``."""
    check_int("n", n, 2, "an integer >= 2 (texts for an interval)")
    excluded = sorted({r["text"].strip() for r in read_corpus(replay)}) if replay is not None else []
    config = {"source": "python-stdlib-docstrings", "n": n, "min_chars": min_chars, "seed": P["seed"],
              "excluded": hashlib.sha256("\x1e".join(excluded).encode()).hexdigest()[:16]}

    def compute(work: Path) -> dict:
        skip = set(excluded)
        docs = [d for d in stdlib_documents(min_chars, split="heldout") if d["text"] not in skip]
        if len(docs) < n:
            raise ParameterError("n", f"only {len(docs)} held-out docstrings of at least {min_chars} characters "
                                 "are left outside the replay pool", f"an n <= {len(docs)}, or a smaller min_chars")
        chosen = random.Random(P["seed"]).sample(docs, n)
        write_corpus(work, [{"text": d["text"], "num_tokens": 0, "source": d["source"]} for d in chosen],
                     {"model": "python-stdlib", "role": "held-out general English"})
        return {"summary": {"texts": n}}

    return Path(run_stage(HELDOUT_STAGE, HELDOUT_VERSION, config, compute, store=store, verbose=False))


def general_nll(P: dict, models: dict[str, str], base: str, heldout: str | Path,
                store: Store | None = None) -> pd.DataFrame:
    """Mean NLL per token of the held-out texts under ``base`` and each of ``models`` (label -> alias or
    folder), and per model the paired difference to the base with its 95% t interval over texts and
    whether it stays within :data:`HEALTH_MARGIN_REL` of the base."""
    from scipy import stats as st

    def scores(model: str) -> pd.DataFrame:
        folder = nll(heldout, model, max_tokens=HEALTH_MAX_TOKENS, device=P["device"], dtype=P["dtype"],
                     allow_hub=bool(P.get("allow_hub", False)), store=store, progress=False)
        return read_nll(folder).set_index("index")

    b = scores(base)
    base_mean = _per_token(b)
    rows = [{"model": "base", "what": base, "nll_per_token": base_mean, "delta": 0.0, "lo": 0.0, "hi": 0.0,
             "relative": 0.0, "within_margin": True}]
    for label, model in models.items():
        m = scores(model)
        d = (m["mean_nll"] - b["mean_nll"]).dropna()
        mean = float(d.mean())
        half = float(st.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else math.inf
        rel = _per_token(m) / base_mean - 1.0
        rows.append({"model": label, "what": model, "nll_per_token": _per_token(m), "delta": mean,
                     "lo": mean - half, "hi": mean + half, "relative": rel,
                     "within_margin": bool(rel <= HEALTH_MARGIN_REL)})
    return pd.DataFrame(rows)


def _per_token(df: pd.DataFrame) -> float:
    """Token-weighted mean NLL per token over texts."""
    ok = df.dropna(subset=["mean_nll"])
    return float((ok["mean_nll"] * ok["num_tokens"]).sum() / ok["num_tokens"].sum())

