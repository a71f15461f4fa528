"""The built book, as a reader's browser sees it: the smoke-profile book is built into a temporary
folder, served on localhost and every page listed in ``_toc.yml`` is opened in headless Chromium.
Pages must load, images must decode, internal links and anchors must resolve, and our pages must
log no SEVERE browser errors."""

import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from resurface.book import browser

CHROMIUM, CHROMEDRIVER = browser.find_chromium()
NO_CHROMIUM = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                 reason="needs chromium and chromedriver (Debian: apt-get install chromium "
                                        "chromium-driver; `make setup` installs them where it can)")


def browser_test(f):
    """Mark a test ``browser`` and ``slow``, skipped only where chromium or chromedriver is missing."""
    for mark in (NO_CHROMIUM, pytest.mark.slow, pytest.mark.browser):
        f = mark(f)
    return f


@pytest.fixture(scope="session")
def built(ci_book):
    """The smoke book as the publishing workflow builds it (conftest.ci_book): the same build the
    publishing tests check for launch and download buttons."""
    return ci_book


@pytest.fixture(scope="session")
def pages(built):
    return browser.toc_pages(built["toc"])


@pytest.fixture(scope="session")
def seen(built, pages, tmp_path_factory):
    """Open every page once; keep the reports, the link check and screenshots of the introduction
    and of the first figure page (if the toc lists one)."""
    shots = tmp_path_factory.mktemp("screenshots")
    with browser.serve(built["html"]) as base, browser.headless_chromium() as driver:
        reports = {page: browser.visit(driver, base + page) for page in [*pages, "index.html"]}
        checker = browser.LinkChecker(base)
        broken = {page: checker.problems(r.links) for page, r in reports.items()}
        status = {page: urllib.request.urlopen(base + page, timeout=10).status for page in pages}
        figures = [p for p in pages if browser.is_figure_page(p)]
        saved = [browser.save_screenshot(driver, base + pages[0], shots / "intro.png")]
        if figures:
            saved.append(browser.save_screenshot(driver, base + figures[0], shots / "figure.png",
                                                  scroll_to="main img"))
    return {"base": base, "reports": reports, "broken": broken, "status": status, "shots": saved}


@browser_test
def test_the_book_has_exactly_the_toc_pages(built, pages):
    assert pages[0].endswith("intro.html"), pages
    assert sorted(pages) == browser.built_pages(built["html"])


@browser_test
def test_every_page_loads(seen, pages):
    for page in pages:
        r = seen["reports"][page]
        assert seen["status"][page] == 200, page
        assert r.url == seen["base"] + page, (page, r.url)
        assert r.title and "404" not in r.title and "not found" not in r.title.lower(), (page, r.title)
    assert seen["reports"]["index.html"].url == seen["base"] + pages[0], "index.html redirects to the root"


@browser_test
def test_every_image_loaded_and_figure_pages_have_one(seen, pages):
    for page in pages:
        images = seen["reports"][page].images
        bad = [i["src"] for i in images if not i["complete"] or not i["naturalWidth"]]
        assert not bad, f"{page}: images that did not load: {bad}"
        if browser.is_figure_page(page):
            assert images, f"{page}: a figure page without an image"


@browser_test
def test_every_internal_link_and_anchor_resolves(seen):
    internal = [l for r in seen["reports"].values() for l in r.links if l.startswith(seen["base"])]
    assert internal, "no internal links found: the link check checked nothing"
    assert any("#" in l for l in internal), "no anchors among the internal links"
    assert {p: b for p, b in seen["broken"].items() if b} == {}


@browser_test
def test_our_pages_log_no_severe_browser_errors(seen):
    errors = {p: browser.severe_errors_from(r.log, seen["base"]) for p, r in seen["reports"].items()}
    assert {p: e for p, e in errors.items() if e} == {}


@browser_test
def test_screenshots_are_small_pngs(seen, pages):
    expected = 2 if any(browser.is_figure_page(p) for p in pages) else 1
    assert len(seen["shots"]) == expected
    for path in seen["shots"]:
        assert 5_000 < Path(path).stat().st_size < 300_000, path
        with Image.open(path) as img:
            assert img.format == "PNG" and img.size[0] >= 800, (path, img.size)


def test_severe_error_filter_keeps_ours_and_drops_blocked_external_resources():
    base = "http://127.0.0.1:8000/"
    log = [
        {"level": "SEVERE", "message": "https://cdn.example.org/x.js - Failed to load resource: "
                                       "net::ERR_NAME_NOT_RESOLVED"},
        {"level": "SEVERE", "message": "http://127.0.0.1:8000/favicon.ico - Failed to load resource: 404"},
        {"level": "SEVERE", "message": f"{base}book/intro.html 61:12 Uncaught SyntaxError: Identifier "
                                       "'THEBE_JS_URL' has already been declared"},
        {"level": "WARNING", "message": f"{base}_static/a.js 1:1 deprecated"},
        {"level": "SEVERE", "message": f"{base}_static/a.js 3:7 Uncaught TypeError: x is undefined"},
        {"level": "SEVERE", "message": f"{base}_images/f.png - Failed to load resource: 404"},
    ]
    assert browser.severe_errors_from(log, base) == [log[4]["message"], log[5]["message"]]


def test_toc_pages_follow_the_toc_and_spot_figure_pages(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/intro\nparts:\n  - caption: Figures\n    chapters:\n"
                   "      - file: book/_generated/fig02_self_training\n        sections:\n"
                   "          - file: book/notes.md\n  - caption: More\n    chapters:\n"
                   "      - file: book/methods\n")
    pages = browser.toc_pages(toc)
    assert pages == ["book/intro.html", "book/_generated/fig02_self_training.html", "book/notes.html",
                     "book/methods.html"]
    assert [browser.is_figure_page(p) for p in pages] == [False, True, False, False]


@pytest.mark.slow
def test_figure_pages_show_no_logs(built, pages):
    """Store messages, progress bars and warnings go to stderr, which the book leaves out: a published
    page shows neither logs nor the builder's local paths."""
    figures = [p for p in pages if browser.is_figure_page(p)]
    assert figures
    for page in figures:
        html = (Path(built["html"]) / page).read_text(encoding="utf-8")
        assert "output stderr" not in html and "[store]" not in html and "[resurface]" not in html, page


@pytest.mark.slow
def test_figure_pages_fold_their_code_and_end_with_verdict_rows(built, pages):
    """The setup code is folded (the figure comes first), the settings that differ from the paper sit
    in a collapsible block, and every figure page ends with its computed verdict rows."""
    figures = [p for p in pages if browser.is_figure_page(p)]
    for page in figures:
        html = (Path(built["html"]) / page).read_text(encoding="utf-8")
        assert "tag_hide-input" in html and "tag_hide-cell" in html, page
        assert "<details>" in html and "Settings that differ from the paper" in html, page
        assert "Estimate [95% CI]" in html and "MDE" in html, page
        assert html.rfind("Estimate [95% CI]") > html.find("<img"), page  # the figure comes first
