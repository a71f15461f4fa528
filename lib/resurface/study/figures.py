"""The figure registry: one record per figure of the book, read by everything that lists figures.

The preflight (what a figure needs from the Hub and the store), the cost estimate (which plan prices it),
the claim register's titles, Figure 1's overview and verdict table, the profiles (which parameter files a
figure reads) and the runner (which notebook, in which order) all ask this module, so adding a figure is
one :class:`Figure` record here plus its notebook and parameter files (README, "Adding a figure").
An unknown figure is a :class:`~resurface.errors.ParameterError` everywhere.
"""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from resurface.errors import ParameterError
from resurface.paths import notebooks_dir

#: the book's parts (``_toc.yml`` captions), by the key a record's ``finding`` names
FINDINGS = {
    "overview": "Overview",
    "relational": "Finding 1: synthetic utility is relational",
    "proxies": "Finding 2: intrinsic proxies do not predict utility",
    "memorization": "Finding 3: capability stays, memorisation falls",
    "beyond": "Beyond the paper: compatibility, a buried skill and the dose",
}

#: how a transfer figure picks its training conditions (:func:`resurface.study.experiments.figure_conditions`)
CONDITION_RECIPES = ("self-main", "self-second", "source-swap", "cross-second")

#: the cost plans of :func:`resurface.book.costs.figure_plan`
COST_PLANS = ("transfer", "similarity", "nll", "nll-proxy-table", "memorization", "relational", "resurfacing",
              "dose", "overview")


@dataclass(frozen=True)
class Figure:
    """One figure: what it is, where its notebook and parameters live, what it needs and what it claims.

    ``needs`` is what the preflight checks, by parameter name: ``models`` (parameters naming models;
    ``sources`` is a role -> model mapping), ``students`` (parameters naming the models it trains;
    default the main student), ``suites`` (parameters naming evaluation suites) and the flags ``sample``,
    ``replay``, ``pool``, ``embed``, ``train``. ``reuses`` names the figures whose runs it reads from the
    store (they run before it, so on a warm store it recomputes none of them). ``verdicts`` is ``"module:function"``, a callable
    ``(P, store=None) -> list[DataFrame]`` giving the verdict tables of every figure that names it
    (called once for all of them).
    """

    number: int
    slug: str
    title: str
    finding: str
    cost: str
    needs: Mapping[str, Any] = field(default_factory=dict)
    conditions: str | None = None  # a CONDITION_RECIPES entry for a transfer figure
    utility: bool = False  # its training corpora enter the proxy table and Figure 1's panel A
    shared_params: str | None = None  # a parameter file read between _common.yaml and figNN.yaml
    scorer: str | None = None  # the parameter naming the model that scores likelihoods (NLL figures)
    reuses: tuple[str, ...] = ()
    verdicts: str | None = None  # its claims are the register's under ``label`` (resurface.evidence.claims)

    def __post_init__(self) -> None:
        if not isinstance(self.number, int) or self.number < 1:
            raise ParameterError("number", f"got {self.number!r}", "an integer >= 1")
        if self.finding not in FINDINGS:
            raise ParameterError("finding", f"got {self.finding!r}", ", ".join(FINDINGS))
        if self.cost not in COST_PLANS:
            raise ParameterError("cost", f"got {self.cost!r}", ", ".join(COST_PLANS))
        if self.conditions is not None and self.conditions not in CONDITION_RECIPES:
            raise ParameterError("conditions", f"got {self.conditions!r}", ", ".join(CONDITION_RECIPES))
        if self.verdicts is not None and ":" not in self.verdicts:
            raise ParameterError("verdicts", f"got {self.verdicts!r}", "None or 'module:function'")

    @property
    def id(self) -> str:
        """``fig02``: the prefix of its notebook, parameter file and page."""
        return f"fig{self.number:02d}"

    @property
    def label(self) -> str:
        """``Fig 2``: how the claim register and the verdict rows name the figure."""
        return f"Fig {self.number}"

    @property
    def notebook(self) -> str:
        return f"{self.id}_{self.slug}.ipynb"

    @property
    def param_file(self) -> str:
        return f"{self.id}.yaml"

    @property
    def param_files(self) -> tuple[str, ...]:
        """The files read after ``_common.yaml``, in order (a later file's value wins)."""
        return ((self.shared_params,) if self.shared_params else ()) + (self.param_file,)

    @property
    def page(self) -> str:
        """The ``_toc.yml`` entry of its executed page."""
        return f"book/_generated/{self.id}_{self.slug}"


_TRANSFER = {"sample": True, "replay": True, "train": True, "suites": ("eval_suite", "eval_suite_few_shot")}
_MEMORIZATION = {"models": ("memorization_model",), "students": ("memorization_model",), "sample": True,
                 "pool": True, "train": True, "suites": ("eval_suite",)}

_RECORDS = (
    Figure(1, "overview", "The three findings at a glance", "overview", "overview",
           {"models": ("student", "second_student"), **_TRANSFER},
           reuses=("fig02", "fig03", "fig04", "fig05", "fig06", "fig07", "fig08", "fig09", "fig10", "fig11", "fig12",
                   "fig13", "fig14")),
    Figure(2, "self_training", "Self-training the main student on its own BOS samples", "relational", "transfer",
           {"models": ("student",), **_TRANSFER}, conditions="self-main", utility=True,
           verdicts="resurface.evidence.contrasts:transfer_verdicts"),
    Figure(3, "second_family", "The same protocol for the second model family", "relational", "transfer",
           {"models": ("second_student",), "students": ("second_student",), **_TRANSFER},
           conditions="self-second", utility=True, verdicts="resurface.evidence.contrasts:transfer_verdicts"),
    Figure(4, "similarity", "Benchmark proximity does not explain the gains", "proxies", "similarity",
           {"models": ("student", "embedder"), "sample": True, "embed": True, "train": True,
            "suites": ("eval_suite",)}, reuses=("fig02",), verdicts="resurface.evidence.proxytables:page_verdicts"),
    Figure(5, "source_swap", "Swapping the source of the synthetic corpus", "relational", "transfer",
           {"models": ("student", "sources"), "sample": True, "train": True, "suites": ("eval_suite",)},
           conditions="source-swap", utility=True, reuses=("fig02",), verdicts="resurface.evidence.contrasts:transfer_verdicts"),
    Figure(6, "nll_main", "Likelihood under the student does not predict utility", "proxies", "nll",
           {"models": ("student", "second_student"), "sample": True}, scorer="student", reuses=("fig02", "fig03"),
           verdicts="resurface.evidence.proxytables:page_verdicts"),
    Figure(7, "memorization_capability", "Self-training keeps capability while memorization is under way",
           "memorization", "memorization", _MEMORIZATION, shared_params="_memorization.yaml",
           verdicts="resurface.evidence.contrasts:memorization_verdicts"),
    Figure(8, "extraction", "Capability and verbatim memorization move apart", "memorization", "memorization",
           _MEMORIZATION, shared_params="_memorization.yaml", reuses=("fig07",),
           verdicts="resurface.evidence.contrasts:memorization_verdicts"),
    Figure(9, "few_shot", "The few-shot view of Figure 2", "relational", "transfer",
           {"models": ("student",), **_TRANSFER}, conditions="self-main", reuses=("fig02",),
           verdicts="resurface.evidence.contrasts:transfer_verdicts"),
    Figure(10, "cross_student", "The second family trained on the main student's samples", "relational",
           "transfer", {"models": ("student", "second_student"), "students": ("second_student",), "sample": True,
                        "train": True, "suites": ("eval_suite",)},
           conditions="cross-second", utility=True, reuses=("fig02",), verdicts="resurface.evidence.contrasts:transfer_verdicts"),
    Figure(11, "nll_second", "The NLL proxy with the second family as scorer, and the proxies against Δ",
           "proxies", "nll-proxy-table", {"models": ("student", "second_student"), "sample": True},
           scorer="second_student", reuses=("fig02", "fig03", "fig04", "fig05", "fig10"),
           verdicts="resurface.evidence.proxytables:page_verdicts"),
    Figure(12, "relational", "Does a relational measure of compatibility predict which corpora help?", "beyond",
           "relational", {"models": ("student", "second_student"), **_TRANSFER}, reuses=("fig02", "fig05"),
           verdicts="resurface.evidence.relational:page_verdicts"),
    Figure(13, "resurfacing", "Does a model's own text resurface a skill that was planted and then buried?",
           "beyond", "resurfacing", {"models": ("student", "skill_cross_source"), "sample": True, "replay": True,
                                     "train": True},
           verdicts="resurface.evidence.resurfacing:page_verdicts"),
    Figure(14, "dose", "How the dose decides what self-training does", "beyond", "dose",
           {"models": ("student", "second_student"), "students": ("student", "second_student"), **_TRANSFER},
           reuses=("fig02", "fig03"), verdicts="resurface.evidence.dose:page_verdicts"),
)

_REGISTRY: dict[str, Figure] = {}


def register(record: Figure) -> Figure:
    """Add ``record`` to the registry; a figure number already registered is an error."""
    if record.id in _REGISTRY:
        raise ParameterError("number", f"{record.id} is already registered", "a number no other figure has")
    _REGISTRY[record.id] = record
    return record


def unregister(fig: str) -> None:
    """Remove a figure (tests that register a fake one)."""
    get(fig)
    del _REGISTRY[fig]


@contextlib.contextmanager
def registered(record: Figure) -> Iterator[Figure]:
    """``record`` registered for the duration of a ``with`` block."""
    register(record)
    try:
        yield record
    finally:
        _REGISTRY.pop(record.id, None)


for _record in _RECORDS:
    register(_record)


def ids() -> list[str]:
    """Every figure, in figure order."""
    return sorted(_REGISTRY)


def records() -> list[Figure]:
    return [_REGISTRY[f] for f in ids()]


def get(fig: str) -> Figure:
    """The record of ``fig`` (``"fig02"``); an unknown figure is a ParameterError listing the known ones."""
    try:
        return _REGISTRY[fig]
    except (KeyError, TypeError):
        raise ParameterError("figure", f"unknown figure {fig!r}", ", ".join(ids())) from None


def run_order() -> list[str]:
    """The order ``make book`` runs the notebooks in: figure order, the overview (made from the other
    figures' runs) last."""
    return sorted(ids(), key=lambda f: (get(f).finding == "overview", f))


def notebooks() -> dict[str, Path]:
    """``{"fig02": notebooks/fig02_<slug>.ipynb, ...}`` in :func:`run_order`."""
    return {f: notebooks_dir() / get(f).notebook for f in run_order()}


def transfer() -> tuple[str, ...]:
    """The transfer figures: those whose runs are a list of training conditions."""
    return tuple(f for f in ids() if get(f).conditions is not None)


def utility() -> tuple[str, ...]:
    """The figures whose training corpora the proxy table ranks (and Figure 1's panel A summarises)."""
    return tuple(f for f in ids() if get(f).utility)


def label(fig: str) -> str:
    """``"fig02"`` -> ``"Fig 2"`` (an unknown figure is an error)."""
    return get(fig).label


def verdict_sources() -> list[tuple[str, list[str]]]:
    """Each distinct ``verdicts`` callable with the figures it covers, in the order of their first figure."""
    out: dict[str, list[str]] = {}
    for f in ids():
        if get(f).verdicts:
            out.setdefault(get(f).verdicts, []).append(f)
    return list(out.items())


def resolve(ref: str) -> Callable:
    """The callable a ``"module:function"`` reference names."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)
