"""The browser check of the built docs (tools/check_built_pages.py) finds what it should."""

from __future__ import annotations

import random
import shutil
import struct
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import pytest

from tools import check_built_pages as check

# --- PNG ------------------------------------------------------------------------------------------


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _filtered(kind: int, row: bytes, prev: bytes, bpp: int) -> bytes:
    """Apply PNG filter ``kind`` to one row: the reference the decoder is checked against."""
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        predictor = (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]
        out.append((x - predictor) % 256)
    return bytes(out)


def make_png(
    rows: list[bytes], width: int, channels: int = 3, kinds: tuple[int, ...] = (0,)
) -> bytes:
    """Encode rows as an 8-bit PNG, cycling through the filter types ``kinds``."""
    raw, prev = bytearray(), bytes(width * channels)
    for y, row in enumerate(rows):
        kind = kinds[y % len(kinds)]
        raw += bytes([kind]) + _filtered(kind, row, prev, channels)
        prev = row

    def chunk(name: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(name + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + name + body + struct.pack(">I", crc)

    colour = {3: 2, 4: 6}[channels]
    header = struct.pack(">IIBBBBB", width, len(rows), 8, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw)))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4])
def test_png_rows_undo_every_filter(kind: int, channels: int) -> None:
    rng = random.Random(kind * 10 + channels)
    width, height = 37, 6
    rows = [bytes(rng.randrange(256) for _ in range(width * channels)) for _ in range(height)]
    decoded = check.png_rows(make_png(rows, width, channels, kinds=(kind, 0)))
    assert decoded == (width, height, channels, rows)


def test_blank_and_busy_screenshots() -> None:
    width = 64
    white = [b"\xff" * (width * 3)] * 64
    assert check.dominant_share(make_png(white, width, kinds=(1, 2, 4))) == 1.0
    half = [b"\xff" * (width * 3 // 2) + b"\x20" * (width * 3 // 2)] * 64
    assert check.dominant_share(make_png(half, width)) == pytest.approx(0.5)


# --- the DOM --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "```{literalinclude} examples/test_echo.py",
        "See {doc}`/howto/index` for more.",
        ":::{note}",
        ".. automodule:: pytest_aioloop",
        "   :caption: test_echo.py",
        "```python",
    ],
)
def test_raw_markup_is_found(text: str) -> None:
    assert check.raw_markup(f"A paragraph.\n{text}\nAnother one.")


@pytest.mark.parametrize(
    "text",
    [
        "test_echo.py::test_echo_server PASSED",
        "Use --asyncio-mode=auto, or asyncio_mode = auto in the ini file.",
        "Parameters:\ntimeout (float | None) - Seconds after which ...",
        "from 0.21 to 1.x ... and more",
        "IPv6 loopback ::1 and the wildcard ::",
    ],
)
def test_rendered_text_passes(text: str) -> None:
    assert check.raw_markup(text) == []


def test_parse_page_skips_scripts_and_finds_main_text() -> None:
    page = check.parse_page(
        "<html><head><title>t</title><script>var x = '```';</script></head><body>"
        "<nav>menu</nav><article role='main'><h1>Title</h1><p>Body <b>text</b>.</p>"
        "<img src='_images/a.png'><br/></article><footer>foot</footer></body></html>"
    )
    assert page.main_text == "Title Body text."
    assert page.images == ["_images/a.png"]
    assert "```" not in page.text
    assert "menu" in page.text
    assert "foot" in page.text


def test_missing_images(tmp_path: Path) -> None:
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "a.png").write_bytes(b"")
    base = "http://127.0.0.1:8000/"
    assert check.missing_images(base + "index.html", ["_images/a.png", "data:,x"], tmp_path) == []
    assert check.missing_images(base + "tutorial/index.html", ["../_images/a.png"], tmp_path) == []
    problems = check.missing_images(
        base + "index.html", ["_images/b.png", "https://example.com/c.png", ""], tmp_path
    )
    assert len(problems) == 3
    assert "does not exist" in problems[0]
    assert "not part of the built pages" in problems[1]


def test_server_records_missing_files(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>hello</p>")
    with check.Server(tmp_path) as server:
        assert server.base.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.base + "index.html") as answer:
            assert answer.read() == b"<p>hello</p>"
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(server.base + "nothing.png")
    assert server.answers == [("/index.html", 200), ("/nothing.png", 404)]


def test_pages_to_check_include_every_reference_page(tmp_path: Path) -> None:
    (tmp_path / "reference").mkdir()
    for name in ("index", "zeta", "alpha"):
        (tmp_path / "reference" / f"{name}.html").write_text("")
    pages = check.pages_to_check(tmp_path)
    assert pages[: len(check.PAGES)] == list(check.PAGES)
    assert pages[len(check.PAGES) :] == [
        "reference/alpha.html",
        "reference/index.html",
        "reference/zeta.html",
    ]
    assert check.screenshot_name("tutorial/index.html") == "tutorial-index.png"


# --- the command ----------------------------------------------------------------------------------


def test_missing_chromium_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "index.html").write_text("<p>hello</p>")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("CHROMIUM", raising=False)
    assert check.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Chromium was not found" in err
    assert "apt-get install -y chromium" in err


def test_unbuilt_docs_are_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main([str(tmp_path)]) == 2
    assert "build the docs first" in capsys.readouterr().err


GOOD = """<!DOCTYPE html><html><head><title>good</title></head><body>
<article role="main"><h1>A page</h1><p>{text}</p><img src="picture.png" alt="a picture"></article>
</body></html>"""
BROKEN = """<!DOCTYPE html><html><head><title>broken</title></head><body>
<article role="main"><h1>A page</h1><p>{text}</p><img src="missing.png" alt="gone">
<pre>.. automodule:: pytest_aioloop</pre></article></body></html>"""


@pytest.mark.skipif(
    not any(shutil.which(name) for name in check.CHROMIUM_NAMES), reason="needs Chromium"
)
def test_pages_in_the_browser(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "Some words on a page, enough of them to count as content. " * 20
    width = 40
    picture = [bytes([x * 6 % 256, 90, 200]) * 1 for x in range(width)]
    (tmp_path / "picture.png").write_bytes(make_png([b"".join(picture)] * 30, width))
    (tmp_path / "index.html").write_text(GOOD.format(text=text))
    (tmp_path / "broken.html").write_text(BROKEN.format(text=text))
    (tmp_path / "blank.html").write_text("<!DOCTYPE html><html><body></body></html>")
    shots = tmp_path / "shots"
    argv = [str(tmp_path), "--screenshots", str(shots), "index.html", "broken.html", "blank.html"]
    assert check.main(argv) == 1
    out = capsys.readouterr().out
    assert "ok     index.html" in out
    assert "FAILED broken.html" in out
    assert "image 'missing.png' does not exist" in out
    assert "it loads /missing.png, which does not exist (404)" in out
    assert "shows a reST directive: '.. automodule:: pytest_aioloop'" in out
    assert "FAILED blank.html" in out
    assert "the screenshot is blank (100.0% of it is one colour)" in out
    assert "1 of 3 pages passed" in out
    assert sorted(p.name for p in shots.iterdir()) == ["blank.png", "broken.png", "index.png"]
