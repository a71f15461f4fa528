"""The ``resurface`` command line: one subcommand per pipeline stage.

Argument parsing is kept free of heavy imports so that ``--help`` is instant; each subcommand
imports its stage module only when it runs. Every stage prints the artifact folder it wrote.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from resurface.errors import ResurfaceError

# subcommand -> (module, function, help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "models": ("resurface.cli_models", "run_models", "list model aliases, their source, size and status"),
    "sample": ("resurface.corpus.sampling", "cli", "sample an unconditional corpus from the prompt token"),
    "decontaminate": ("resurface.corpus.decontam", "cli", "drop samples sharing a word n-gram with a benchmark suite"),
    "subsets": ("resurface.corpus.subsets", "cli", "draw token-budget training subsets (with replacement)"),
    "train": ("resurface.train.training", "cli", "full fine-tune a student on a subset, evaluating every epoch"),
    "evaluate": ("resurface.evaluate.evaluation", "cli", "evaluate a model on a suite with lm-evaluation-harness"),
    "nll": ("resurface.measures.proxies", "cli_nll", "per-sample mean NLL of a corpus under a scorer model"),
    "similarity": ("resurface.measures.proxies", "cli_similarity", "max cosine similarity of samples to a suite's items"),
    "extract": ("resurface.measures.attacks", "cli", "prefix-completion extraction attack on a sequence pool"),
    "artifacts": ("resurface.cli_models", "run_artifacts", "list or garbage-collect the artifact store"),
    "figures": ("resurface.book.runner", "cli_figures", "execute figure notebooks with papermill"),
    "check": ("resurface.study.preflight", "cli",
              "preflight a profile's plan without GPU time: models, datasets, lm-eval tasks, packages, disk, GPU"),
    "book": ("resurface.book.runner", "cli_book", "run the figure notebooks and build the Jupyter Book"),
}


_TYPE_WORDS = {"invalid int value": "an integer", "invalid float value": "a number"}


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: what is wrong, then where the accepted values are."""

    def error(self, message: str) -> NoReturn:
        if "choose from" not in message:  # argparse already lists the accepted choices
            accepted = next((v for k, v in _TYPE_WORDS.items() if k in message), None)
            message += f" (accepted: {accepted})" if accepted else f" (see `{self.prog} --help`)"
        self.exit(2, f"{self.prog}: error: {message}\n")

    commands: dict[str, "_Parser"]  # the subcommand parsers (set by build_parser on the top-level one)

    def accepted_options(self) -> list[str]:
        """The long option strings this (sub)command accepts."""
        return [o for a in self._actions for o in a.option_strings if o.startswith("--")]


def _common(p: argparse.ArgumentParser, out: bool = True) -> None:
    if out:
        p.add_argument("--out", help="write the artifact here instead of the store (a folder)")
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda [auto]")
    p.add_argument("--dtype", default="auto", help="auto (bf16 on CUDA, fp32 on CPU), float32, bfloat16")
    p.add_argument("--allow-hub", action="store_true",
                   help="allow Hub ids (the paper profile); offline aliases never need it")


def build_parser() -> _Parser:
    parser = _Parser(
        prog="resurface",
        description="Reproduce arXiv 2605.31126 ('Not All Synthetic Data Is Yours to Learn From'): "
                    "sample -> decontaminate -> subsets -> train (+evaluate) -> proxies/attacks -> figures.")
    parser.add_argument("--version", action="version", version=f"resurface {__import__('resurface').__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, _, help_) in COMMANDS.items():
        sub.add_parser(name, help=help_, description=help_)
    p = parser.commands = sub.choices

    p["models"].add_argument("--json", action="store_true", help="print JSON instead of a table")

    s = p["sample"]
    s.add_argument("--model", required=True, help="alias, Hub id or local folder")
    s.add_argument("--temperature", type=float, required=True, help="sampling temperature (> 0)")
    s.add_argument("--num-samples", type=int, required=True)
    s.add_argument("--max-new-tokens", type=int, required=True)
    s.add_argument("--min-new-tokens", type=int, default=0, help="EOS is blocked before this many tokens")
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--engine", default="hf", choices=["hf", "vllm"], help="vllm needs the [vllm] extra")
    _common(s)

    d = p["decontaminate"]
    d.add_argument("--corpus", required=True, help="corpus folder (corpus.jsonl + meta.json)")
    d.add_argument("--suite", required=True, help="suite whose benchmark texts are fingerprinted")
    d.add_argument("--ngram", type=int, default=8)
    d.add_argument("--allow-hub", action="store_true", help="paper suites read benchmark data from the Hub")
    d.add_argument("--out")

    b = p["subsets"]
    b.add_argument("--corpus", required=True)
    b.add_argument("--num-subsets", type=int, required=True)
    b.add_argument("--tokens-per-subset", type=int, required=True)
    b.add_argument("--seed", type=int, default=42)
    b.add_argument("--out")

    t = p["train"]
    t.add_argument("--student", required=True)
    t.add_argument("--data", required=True, help="a subset folder (or corpus folder)")
    t.add_argument("--epochs", type=int, required=True)
    t.add_argument("--lr", type=float, required=True)
    t.add_argument("--eval-suite", action="append", default=None,
                   help="suite evaluated at epoch 0 and every epoch end (repeatable); none: skip")
    t.add_argument("--eval-limit", type=int, default=None, help="at most this many items per task")
    t.add_argument("--run-name", default=None, help="label of the run in results.csv (default: artifact key)")
    t.add_argument("--block-size", type=int, default=2048)
    t.add_argument("--batch-size", type=int, default=8, help="per-device micro-batch (sequences)")
    t.add_argument("--effective-batch", type=int, default=64, help="sequences per optimizer step")
    t.add_argument("--warmup-ratio", type=float, default=0.1)
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--seed", type=int, default=42)
    t.add_argument("--save-checkpoints", action="store_true", help="keep a checkpoint per epoch")
    t.add_argument("--eval-engine", default="hf", choices=["hf", "vllm", "hf-process"],
                   help="hf: in this process; vllm: a checkpoint per epoch scored by lm-eval's vLLM backend in "
                        "its own process (falls back to hf without vllm); hf-process: the same with hf [hf]")
    _common(t)

    e = p["evaluate"]
    e.add_argument("--model", required=True)
    e.add_argument("--suite", required=True)
    e.add_argument("--limit", type=int, default=None, help="at most this many items per task")
    e.add_argument("--seed", type=int, default=42)
    e.add_argument("--engine", default="hf", choices=["hf", "vllm"], help="vllm needs the [vllm] extra")
    _common(e)

    n = p["nll"]
    n.add_argument("--model", required=True, help="the scorer: alias, Hub id or local folder")
    n.add_argument("--corpus", required=True, help="corpus folder (corpus.jsonl + meta.json)")
    n.add_argument("--max-tokens", type=int, default=1024, help="score at most this many tokens of a sample")
    n.add_argument("--max-samples", type=int, default=None,
                   help="score a seeded random subset of this many samples (default: all)")
    n.add_argument("--batch-size", type=int, default=16, help="samples per forward pass (at most)")
    n.add_argument("--seed", type=int, default=42, help="seed of the --max-samples subset")
    _common(n)

    m = p["similarity"]
    m.add_argument("--embedder", required=True, help="sentence-transformers alias (minilm), Hub id or folder")
    m.add_argument("--corpus", required=True, help="corpus folder (corpus.jsonl + meta.json)")
    m.add_argument("--suite", required=True, help="suite whose benchmark items are compared with")
    m.add_argument("--max-tokens", type=int, default=None,
                   help="truncate texts to this many word pieces (default: the embedder's own limit)")
    m.add_argument("--max-samples", type=int, default=None,
                   help="score a seeded random subset of this many samples (default: all)")
    m.add_argument("--batch-size", type=int, default=32, help="texts per embedding batch")
    m.add_argument("--seed", type=int, default=42, help="seed of the --max-samples subset")
    _common(m)

    x = p["extract"]
    x.add_argument("--model", required=True)
    x.add_argument("--pool", required=True,
                   help="pool folder or jsonl file: {text, domain[, group]} or the Pile's {text, meta.pile_set_name}")
    x.add_argument("--prefix-tokens", type=int, default=32, help="prompt length in tokens (Pythia protocol: 32)")
    x.add_argument("--suffix-tokens", type=int, default=32,
                   help="greedy continuation that must match exactly (Pythia protocol: 32)")
    x.add_argument("--domain", action="append", default=None, help="only this domain (repeatable)")
    x.add_argument("--batch-size", type=int, default=32, help="sequences per forward pass")
    _common(x)

    a = p["artifacts"]
    a.add_argument("action", choices=["ls", "gc"], help="ls: list; gc: remove partial/corrupt folders")
    a.add_argument("--stage", action="append", help="with gc: also remove these whole stages")
    a.add_argument("--dry-run", action="store_true")

    for name in ("figures", "book"):
        f = p[name]
        f.add_argument("--profile", default="course", choices=["smoke", "course", "paper"])
        f.add_argument("--only", default=None, help="comma-separated figures, e.g. fig02,fig09")
        f.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                       help="override a notebook parameter (YAML value), e.g. -p epochs 2")
        f.add_argument("--rerun", action="store_true",
                       help="execute every page, even one whose notebook, parameters, library and packages "
                            "are unchanged since it last ran (env RESURFACE_RERUN=1 does the same)")
    c = p["check"]
    c.add_argument("--profile", default="paper", choices=["smoke", "course", "paper"])
    c.add_argument("--only", default=None, help="comma-separated figures, e.g. fig07,fig08 (default: all)")
    c.add_argument("--fixtures", default=None,
                   help="answer from recorded schemas in this folder instead of the Hub (tests/fixtures/preflight)")
    p["figures"].add_argument("--check", action="store_true",
                              help="run the preflight (`resurface check`) for these figures and exit (no GPU time)")
    p["figures"].add_argument("--fixtures", default=None,
                              help="with --check: answer from recorded schemas in this folder instead of the Hub "
                                   "(tests/fixtures/preflight)")
    p["figures"].add_argument("--estimate", action="store_true",
                              help="print the estimated H100 GPU-hours of each figure and exit (runs nothing)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        sub = parser.commands[args.command] if args.command else parser
        print(f"{sub.prog}: error: unknown argument(s) {' '.join(unknown)} "
              f"(accepted: {', '.join(sub.accepted_options())})", file=sys.stderr)
        return 2
    if not args.command:
        parser.print_help()
        return 0
    module, func, _ = COMMANDS[args.command]
    if args.command == "figures" and getattr(args, "fixtures", None) and not getattr(args, "check", False):
        print("resurface figures: error: --fixtures answers the preflight's questions: use it with --check",
              file=sys.stderr)
        return 2
    if args.command == "figures" and getattr(args, "check", False):
        module, func = COMMANDS["check"][:2]
    try:
        return int(getattr(importlib.import_module(module), func)(args) or 0)
    except ResurfaceError as exc:
        print(f"resurface {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
