"""Open the built documentation in headless Chromium and check what a reader would see.

Usage (``nox -s docs`` runs it after the build)::

    python tests/docs/check_built_pages.py docs/_build/html --screenshots docs/_build/screenshots

Each page is served over HTTP from ``127.0.0.1``, on a port the system picks. Chromium loads
it once, writes a screenshot (1280 x 2000) and prints the DOM after the page's scripts
ran. A page fails when:

- its screenshot is blank (almost every pixel one colour), or its main text is almost empty;
- an ``<img>`` points at a file the build does not have, or any file the page loads is
  missing (the server answered 404);
- its text shows markup that was not rendered: a Markdown fence with a directive, a MyST role,
  a colon fence, or a reST directive or directive option.

Only the standard library is used. Exit status: 0 if every page passed, 1 if one failed, 2 if
Chromium or the built pages are missing.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import dataclasses
import functools
import html.parser
import http.server
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import zlib
from collections.abc import Sequence
from pathlib import Path

#: The pages checked, relative to the HTML directory; every reference page is added to them.
PAGES = (
    "index.html",
    "tutorial/index.html",
    "howto/index.html",
    "howto/migrate-from-pytest-asyncio.html",
    "concepts/performance.html",
)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
WINDOW = (1280, 2000)
#: A screenshot is blank when this share of its pixels (or more) has one colour.
BLANK_SHARE = 0.995
#: The least number of characters of text a page's main content has.
MIN_TEXT = 200
#: Markup that shows on a page only when it was not rendered.
RAW_MARKUP = (
    ("a Markdown fence", re.compile(r"```")),
    ("a MyST directive or role", re.compile(r"\{[a-z][\w:-]*\}`")),
    ("a MyST directive", re.compile(r"\{(?:literalinclude|eval-rst|toctree|include|image)\}")),
    ("a colon fence", re.compile(r":::")),
    ("a reST directive", re.compile(r"^\s*\.\. [a-z][\w:-]*::", re.MULTILINE)),
    ("a directive option", re.compile(r"^\s*:[a-z][\w-]*:(?:\s|$)", re.MULTILINE)),
)
IGNORED_MISSING = ("/favicon.ico",)


class CheckError(Exception):
    """The check cannot run at all (no browser, no pages)."""


# --- the browser ----------------------------------------------------------------------------------


def find_chromium(explicit: str | None = None) -> str:
    """Return the Chromium executable to use: ``explicit``, ``$CHROMIUM``, or one on PATH."""
    for candidate in (explicit, os.environ.get("CHROMIUM"), *CHROMIUM_NAMES):
        if candidate and (found := shutil.which(candidate)):
            return found
    raise CheckError(
        "Chromium was not found (looked for "
        + ", ".join(CHROMIUM_NAMES)
        + "). Install it, e.g. `apt-get install -y chromium` on Debian or Ubuntu, or name it "
        "with --chromium PATH or the CHROMIUM environment variable."
    )


def load_page(chromium: str, url: str, screenshot: Path, profile: Path) -> str:
    """Load ``url`` once: write its screenshot to ``screenshot`` and return its DOM."""
    width, height = WINDOW
    argv = [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        f"--screenshot={screenshot}",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not screenshot.is_file():
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise CheckError(f"Chromium failed on {url} (exit status {done.returncode}):\n{tail}")
    return done.stdout


# --- the server ---------------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the built pages; records every answer instead of logging it."""

    answers: list[tuple[str, int]]

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.answers.append((urllib.parse.urlsplit(self.path).path, int(code)))

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclasses.dataclass
class Server:
    """An HTTP server on 127.0.0.1 in a thread; ``answers`` lists (path, status) pairs."""

    root: Path
    answers: list[tuple[str, int]] = dataclasses.field(default_factory=list)

    @property
    def base(self) -> str:
        """Return the address of the built pages, ending in ``/``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def __enter__(self) -> Server:
        handler = type("Handler", (_Handler,), {"answers": self.answers})
        factory = functools.partial(handler, directory=str(self.root))
        # Port 0: the system picks a free port for this listening socket.
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


# --- screenshots ---------------------------------------------------------------------------------


def _add_bytes(a: int, b: int, high: int, low: int) -> int:
    """Add two rows packed into ints byte by byte, modulo 256 (no carry between bytes)."""
    return ((a & low) + (b & low)) ^ ((a ^ b) & high)


def _unfilter(kind: int, row: bytes, prev: bytes, bpp: int) -> bytes:
    """Undo one PNG row filter (PNG specification, section 9)."""
    if kind == 0:
        return row
    size = len(row)
    if kind in (1, 2):  # Sub and Up: byte-wise additions, done on whole rows at once
        high = int.from_bytes(b"\x80" * size, "little")
        low = int.from_bytes(b"\x7f" * size, "little")
        mask = (1 << (8 * size)) - 1
        value = int.from_bytes(row, "little")
        if kind == 2:
            value = _add_bytes(value, int.from_bytes(prev, "little"), high, low)
        else:  # a prefix sum over every bpp-th byte, in log2(width) steps
            shift = bpp
            while shift < size:
                value = _add_bytes(value, (value << (8 * shift)) & mask, high, low)
                shift *= 2
        return value.to_bytes(size, "little")
    out = bytearray(row)
    if kind == 3:  # Average
        for i in range(size):
            left = out[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + ((left + prev[i]) >> 1)) & 0xFF
        return bytes(out)
    if kind == 4:  # Paeth
        for i in range(size):
            a = out[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out[i] = (out[i] + predictor) & 0xFF
        return bytes(out)
    raise ValueError(f"unknown PNG filter type {kind}")


def png_rows(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """Decode an 8-bit, non-interlaced PNG: return width, height, bytes per pixel and rows."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, bytearray(), b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG (bit depth {depth}, colour type {colour})")
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    rows: list[bytes] = []
    prev = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        prev = _unfilter(raw[start], raw[start + 1 : start + 1 + stride], prev, channels)
        rows.append(prev)
    return width, height, channels, rows


def dominant_share(data: bytes, step: int = 4) -> float:
    """Return the share of a PNG's pixels that have its most common colour (on a sample grid)."""
    width, _height, channels, rows = png_rows(data)
    counts: collections.Counter[bytes] = collections.Counter()
    for row in rows[::step]:
        counts.update(row[x : x + channels] for x in range(0, width * channels, step * channels))
    return counts.most_common(1)[0][1] / sum(counts.values())


# --- the DOM -------------------------------------------------------------------------------------

_SKIPPED = {"script", "style", "noscript", "template", "head", "svg"}
_BLOCKS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
    "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
}  # fmt: skip


class _Page(html.parser.HTMLParser):
    """Collects a page's image sources, its visible text and the text of its main content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[str] = []
        self._text: list[str] = []
        self._main: list[str] = []
        self._skip = 0
        self._main_depth = 0
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.images.append(values.get("src") or "")
        if tag in ("br", "img", "hr", "meta", "link", "input"):
            self._block(tag)
            return  # void elements have no end tag
        self._depth += 1
        if tag in _SKIPPED:
            self._skip += 1
        if not self._main_depth and (tag == "main" or values.get("role") == "main"):
            self._main_depth = self._depth
        self._block(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("br", "img", "hr", "meta", "link", "input"):
            return
        if tag in _SKIPPED and self._skip:
            self._skip -= 1
        if self._main_depth == self._depth:
            self._main_depth = 0
        self._depth -= 1
        self._block(tag)

    def _block(self, tag: str) -> None:
        """Start a new line at the edges of block elements, as a browser does."""
        if tag in _BLOCKS:
            self._text.append("\n")
            if self._main_depth:
                self._main.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self._text.append(data)
        if self._main_depth:
            self._main.append(data)

    @property
    def text(self) -> str:
        """Return the visible text, one block a line."""
        return "".join(self._text)

    @property
    def main_text(self) -> str:
        """Return the text of the page's main content, whitespace collapsed."""
        return " ".join("".join(self._main).split())


def parse_page(dom: str) -> _Page:
    """Parse a DOM as Chromium prints it."""
    page = _Page()
    page.feed(dom)
    page.close()
    return page


def raw_markup(text: str) -> list[str]:
    """Return one message per line of ``text`` that shows unrendered markup."""
    found = []
    for what, pattern in RAW_MARKUP:
        for match in pattern.finditer(text):
            start = text.rfind("\n", 0, match.start()) + 1
            end = text.find("\n", match.end())
            line = text[start : end if end >= 0 else None].strip()
            found.append(f"shows {what}: {line[:100]!r}")
    return found


def missing_images(page_url: str, sources: Sequence[str], root: Path) -> list[str]:
    """Return one message per image source that is not a file of the built pages."""
    problems = []
    base = urllib.parse.urlsplit(page_url)
    for source in sources:
        if source.startswith("data:"):
            continue
        target = urllib.parse.urlsplit(urllib.parse.urljoin(page_url, source))
        if not source or target.netloc != base.netloc:
            problems.append(f"image {source!r} is not part of the built pages")
            continue
        path = root / urllib.parse.unquote(target.path).lstrip("/")
        if not path.is_file():
            problems.append(f"image {source!r} does not exist ({path})")
    return problems


# --- putting it together -------------------------------------------------------------------------


def pages_to_check(root: Path) -> list[str]:
    """Return the pages to check: :data:`PAGES` and every page under ``reference/``."""
    reference = sorted(p.relative_to(root).as_posix() for p in (root / "reference").glob("*.html"))
    return list(dict.fromkeys([*PAGES, *reference]))


def screenshot_name(page: str) -> str:
    """Return the screenshot's name: ``tutorial/index.html`` becomes ``tutorial-index.png``."""
    return page.removesuffix(".html").replace("/", "-") + ".png"


def check_page(chromium: str, root: Path, page: str, screenshots: Path) -> list[str]:
    """Load one page, served on its own port, and return what is wrong with it."""
    if not (root / page).is_file():
        return ["the build has no such page"]
    screenshot = screenshots / screenshot_name(page)
    screenshot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile, Server(root) as server:
        url = server.base + page
        dom = load_page(chromium, url, screenshot, Path(profile))
    problems = []
    share = dominant_share(screenshot.read_bytes())
    if share >= BLANK_SHARE:
        problems.append(f"the screenshot is blank ({share:.1%} of it is one colour): {screenshot}")
    parsed = parse_page(dom)
    if len(parsed.main_text) < MIN_TEXT:
        problems.append(f"its main content has only {len(parsed.main_text)} characters of text")
    problems += missing_images(url, parsed.images, root)
    for path, status in server.answers:
        if status == 404 and path not in IGNORED_MISSING:
            problems.append(f"it loads {path}, which does not exist (404)")
    return problems + raw_markup(parsed.text)


def main(argv: Sequence[str] | None = None) -> int:
    """Check the pages; print one line per page; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("html", type=Path, help="the built HTML pages (docs/_build/html)")
    parser.add_argument(
        "--screenshots", type=Path, help="where to write them (default: next to html/)"
    )
    parser.add_argument("--chromium", help="the Chromium executable (default: found on PATH)")
    parser.add_argument("pages", nargs="*", help="pages to check (default: the usual set)")
    args = parser.parse_intermixed_args(argv)
    root: Path = args.html.resolve()
    screenshots: Path = (args.screenshots or root.parent / "screenshots").resolve()
    try:
        if not (root / "index.html").is_file():
            raise CheckError(f"{root} has no index.html: build the docs first (nox -s docs)")
        chromium = find_chromium(args.chromium)
        screenshots.mkdir(parents=True, exist_ok=True)
        pages = args.pages or pages_to_check(root)
        # One browser per page, a few at a time: each waits mostly for its page to load.
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            results = pool.map(lambda page: check_page(chromium, root, page, screenshots), pages)
            failed = 0
            for page, problems in zip(pages, results, strict=True):
                print(f"{'FAILED' if problems else 'ok':6} {page}")
                for problem in problems:
                    print(f"         {problem}")
                failed += bool(problems)
    except CheckError as exc:
        print(f"check_built_pages: {exc}", file=sys.stderr)
        return 2
    print(f"{len(pages) - failed} of {len(pages)} pages passed; screenshots in {screenshots}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
