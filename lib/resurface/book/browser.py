"""Look at the built book the way a reader does: serve ``_build/html`` on localhost, open pages in
headless Chromium (selenium), collect what loaded, and take screenshots for the README.

Used by ``tests/test_browser.py`` and ``scripts/screenshots.py``. Chromium and chromedriver are the
Debian packages ``chromium`` and ``chromium-driver`` (``make setup`` installs them when it can).
"""

from __future__ import annotations

import contextlib
import functools
import re
import shutil
import tempfile
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urldefrag, urlsplit

import yaml

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run")
FIGURE_PAGE = re.compile(r"(^|/)_generated/fig\d\d_[^/]*\.html$")
# Browser errors that are not ours and do no harm, each with its cause. Sphinx 7.4.7's HTML builder
# re-adds inline scripts registered after ``Builder.init`` under the name '' instead of None, so
# sphinx-thebe's inline ``const THEBE_JS_URL = ...`` is emitted twice; the second copy throws, the
# first has already defined the same constants.
KNOWN_UPSTREAM_ERRORS = ("Uncaught SyntaxError: Identifier 'THEBE_JS_URL' has already been declared",)


def find_chromium() -> tuple[str | None, str | None]:
    """Paths of the ``chromium`` binary and ``chromedriver`` (None where missing)."""
    def find(name: str) -> str | None:
        found = shutil.which(name)
        if found:
            return found
        p = Path("/usr/bin") / name
        return str(p) if p.exists() else None

    return find("chromium"), find("chromedriver")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(html_dir: Path) -> Iterator[str]:
    """Serve ``html_dir`` on a free localhost port in a thread; yield its base URL (ending in ``/``)."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def headless_chromium(width: int = 1280, height: int = 900, page_timeout_s: float = 30):
    """A selenium Chrome driver on headless Chromium with a fresh profile, browser log captured."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = find_chromium()
    if not binary or not driver_path:
        raise FileNotFoundError("chromium and chromedriver are needed (Debian: apt-get install chromium "
                                "chromium-driver)")
    profile = tempfile.mkdtemp(prefix="resurface-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        driver.set_page_load_timeout(page_timeout_s)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def toc_pages(toc: Path) -> list[str]:
    """The HTML pages (relative paths) of every file ``_toc.yml`` lists, root first."""
    data = yaml.safe_load(Path(toc).read_text())
    files: list[str] = [data["root"]]

    def walk(node) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in data.items() if k != "root"})
    return [re.sub(r"\.(md|ipynb|rst)$", "", f) + ".html" for f in files]


def built_pages(html_dir: Path) -> list[str]:
    """Content pages in a built book (relative paths), leaving out Sphinx's own pages and assets."""
    html_dir = Path(html_dir)
    skip = {"index.html", "genindex.html", "search.html"}
    return sorted(str(p.relative_to(html_dir)) for p in html_dir.rglob("*.html")
                  if not p.relative_to(html_dir).parts[0].startswith("_") and
                  str(p.relative_to(html_dir)) not in skip)


def is_figure_page(page: str) -> bool:
    """Pages rendered from an executed figure notebook (``book/_generated/figNN_*.html``)."""
    return bool(FIGURE_PAGE.search(page))


@dataclass
class PageReport:
    """What the browser saw on one page."""

    url: str
    title: str
    images: list[dict] = field(default_factory=list)  # {"src", "complete", "naturalWidth"}
    links: list[str] = field(default_factory=list)  # absolute hrefs of every <a>
    log: list[dict] = field(default_factory=list)  # browser log entries while the page loaded


_IMAGES_JS = """
const imgs = Array.from(document.images);
imgs.forEach(i => { if (i.loading === 'lazy') i.loading = 'eager'; });
return imgs.map(i => ({src: i.currentSrc || i.src, complete: i.complete, naturalWidth: i.naturalWidth}));
"""


def visit(driver, url: str, image_timeout_s: float = 15) -> PageReport:
    """Open ``url``, wait until every image finished loading (or failed), and report the page."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")  # drop entries from earlier pages
    driver.get(url)
    with contextlib.suppress(TimeoutException):
        WebDriverWait(driver, image_timeout_s).until(
            lambda d: all(i["complete"] for i in d.execute_script(_IMAGES_JS)))
    return PageReport(url=driver.current_url, title=driver.title,
                      images=driver.execute_script(_IMAGES_JS),
                      links=driver.execute_script(
                          "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"),
                      log=driver.get_log("browser"))


def severe_errors_from(log: list[dict], base: str) -> list[str]:
    """SEVERE browser-log messages that come from ``base`` (errors caused by blocked external
    resources, whose messages start with the external URL, are left out; so are the browser's own
    ``/favicon.ico`` request and ``KNOWN_UPSTREAM_ERRORS``)."""
    host = urlsplit(base).netloc
    out = []
    for entry in log:
        if entry.get("level") != "SEVERE":
            continue
        msg = entry.get("message", "")
        first = msg.split(" ", 1)[0]
        if first.startswith(("http://", "https://")) and urlsplit(first).netloc != host:
            continue
        if urlsplit(first).path == "/favicon.ico" or any(k in msg for k in KNOWN_UPSTREAM_ERRORS):
            continue
        out.append(msg)
    return out


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs) -> None:
        for name, value in attrs:
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value or "")


class LinkChecker:
    """Fetches same-host link targets once each and checks that they answer 200 and that the
    anchor (``#fragment``) exists on the target page."""

    def __init__(self, base: str) -> None:
        self.host = urlsplit(base).netloc
        self._status: dict[str, int] = {}
        self._anchors: dict[str, set[str]] = {}

    def is_internal(self, url: str) -> bool:
        return urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc == self.host

    def _fetch(self, url: str) -> None:
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                self._status[url] = r.status
                body = r.read()
                kind = r.headers.get_content_type()
        except urllib.error.HTTPError as e:
            self._status[url] = e.code
            return
        if kind == "text/html":
            parser = _Anchors()
            parser.feed(body.decode("utf-8", errors="replace"))
            self._anchors[url] = parser.ids

    def problems(self, links: list[str]) -> list[str]:
        """One line per broken internal link: not 200, or a missing anchor."""
        out = []
        for link in links:
            if not self.is_internal(link):
                continue
            target, fragment = urldefrag(link)
            if target not in self._status:
                self._fetch(target)
            if self._status[target] != 200:
                out.append(f"{link}: HTTP {self._status[target]}")
            elif fragment and target in self._anchors and unquote(fragment) not in self._anchors[target]:
                out.append(f"{link}: no element with id {unquote(fragment)!r} on {target}")
        return out


def save_screenshot(driver, url: str, path: Path, max_bytes: int = 300_000,
                    scroll_to: str | None = None) -> Path:
    """Screenshot ``url`` (the browser window) to ``path`` as a 256-colour PNG under ``max_bytes``,
    first scrolling the first element matching the CSS selector ``scroll_to`` (if any) into view; a
    selector written ``last:SELECTOR`` scrolls to the last match instead (e.g. ``last:main table``, a
    figure page's verdict table)."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    visit(driver, url)
    if scroll_to:
        last = scroll_to.startswith("last:")
        driver.execute_script("const all = document.querySelectorAll(arguments[0]);"
                              "const e = arguments[1] ? all[all.length - 1] : all[0];"
                              "if (e) e.scrollIntoView({block: 'center'});",
                              scroll_to[5:] if last else scroll_to, last)
    driver.save_screenshot(str(path))
    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=256)
    small.save(path, optimize=True)
    if path.stat().st_size > max_bytes:
        raise ValueError(f"{path} is {path.stat().st_size} bytes, over {max_bytes}; use a smaller window")
    return path
