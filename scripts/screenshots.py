"""Write the README's screenshots, ``docs/img/intro.png`` and ``docs/img/figure.png``, from a built book.

    python scripts/screenshots.py                      # from _build/html (after `make book`)
    python scripts/screenshots.py --html DIR --figure fig02
    python scripts/screenshots.py --build smoke        # build the book in a temporary folder first

Needs chromium and chromedriver (Debian packages ``chromium`` and ``chromium-driver``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from resurface.book import browser, runner
from resurface.paths import repo_root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, default=repo_root() / "_build" / "html", help="built book (HTML)")
    ap.add_argument("--build", metavar="PROFILE", help="build the book in this profile into a temporary "
                                                      "folder first (ignores --html)")
    ap.add_argument("--figure", help="figure page to show, e.g. fig02 (default: the first one built)")
    ap.add_argument("--out", type=Path, default=repo_root() / "docs" / "img")
    ap.add_argument("--scroll", default="main img", help="CSS selector the figure shot scrolls to (default: "
                    "the first image; 'last:main table' scrolls to a page's verdict table)")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=900)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="resurface-book-") as tmp:
        html = runner.make_book_copy(args.build, Path(tmp)) if args.build else args.html
        if not (html / "index.html").exists():
            sys.exit(f"no built book at {html}: run `make book` first, or pass --build smoke")
        root = browser.toc_pages(repo_root() / "_toc.yml")[0]
        figures = [p for p in browser.built_pages(html) if browser.is_figure_page(p)]
        if args.figure:
            figures = [p for p in figures if Path(p).name.startswith(args.figure + "_")]
        if not figures:
            sys.exit(f"no figure page{' ' + args.figure if args.figure else ''} in {html}: "
                     "the book's _toc.yml must list one")
        with browser.serve(html) as base, browser.headless_chromium(args.width, args.height) as driver:
            for name, page, scroll in (("intro.png", root, None), ("figure.png", figures[0], args.scroll)):
                path = browser.save_screenshot(driver, base + page, args.out / name, scroll_to=scroll)
                print(f"{path} ({path.stat().st_size // 1000} KB) <- {page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
