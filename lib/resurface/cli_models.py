"""``resurface models`` and ``resurface artifacts``: listing commands."""

from __future__ import annotations

import json

from resurface.artifacts import Store
from resurface.models import describe_models


def print_table(rows: list[dict], columns: list[str] | None = None) -> None:
    """Print rows of dicts as an aligned text table."""
    if not rows:
        print("(none)")
        return
    columns = columns or list(rows[0])
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    print("  ".join("-" * widths[c] for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns))


def run_models(args) -> int:
    rows = describe_models()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(rows, ["alias", "kind", "source", "size", "status", "role"])
    return 0


def run_artifacts(args) -> int:
    store = Store()
    if args.action == "ls":
        print(f"store: {store.root}")
        print_table(store.ls(), ["stage", "key", "status", "bytes", "modified", "config"])
    else:
        removed = store.gc(stages=args.stage, dry_run=args.dry_run)
        for p in removed:
            print(("would remove " if args.dry_run else "removed ") + str(p))
        print(f"{len(removed)} folder(s)")
    return 0
