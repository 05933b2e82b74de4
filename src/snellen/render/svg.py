"""SVG programs, rasterised with resvg after every external reference is stripped.

resvg reads local files an SVG names by absolute path (images, nested SVGs, style sheets),
so the markup is cleaned first: no DOCTYPE or entities, no ``href`` that leaves the
document except ``data:`` images, no ``url(...)`` or ``@import`` that points outside it.
The worker's Landlock layer would stop such reads anyway; stripping keeps the output
independent of the machine it was rendered on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

from snellen.render.base import LanguageRenderer, RenderJob, RenderResult, Status
from snellen.render.image import canvas_too_large

_XLINK = "{http://www.w3.org/1999/xlink}href"
_DOCTYPE = re.compile(r"<!DOCTYPE(?:[^\[>]|\[[^\]]*\])*>", re.IGNORECASE | re.DOTALL)
_ENTITY = re.compile(r"<!ENTITY[^>]*>", re.IGNORECASE | re.DOTALL)
_ENTITY_REF = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)[A-Za-z_][\w.-]*;")
_CSS_IMPORT = re.compile(r"@import[^;]*;?", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(?!#)(?!data:)[^)]*\)", re.IGNORECASE)
_SVG_NS = "http://www.w3.org/2000/svg"

# resvg silently drops text in a family it cannot find: every family list ends in DejaVu.
FONT_FALLBACKS = {
    "serif": "DejaVu Serif",
    "sans-serif": "DejaVu Sans",
    "monospace": "DejaVu Sans Mono",
    "cursive": "DejaVu Sans",
    "fantasy": "DejaVu Sans",
}
_FAMILY_ATTR = re.compile(r"(font-family\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^;\"'>]+)", re.IGNORECASE)


def _with_fallback(families: str) -> str:
    quote = ""
    if families[:1] in "\"'" and families[-1:] == families[:1]:
        quote, families = families[0], families[1:-1]
    names = [f.strip() for f in families.split(",") if f.strip()]
    generic = next((FONT_FALLBACKS[n.lower()] for n in names if n.lower() in FONT_FALLBACKS), None)
    fallback = generic or "DejaVu Sans"
    if fallback not in names:
        names.append(fallback)
    inner = ", ".join(names) if not quote else ", ".join(n.replace(quote, "") for n in names)
    return f"{quote}{inner}{quote}"


def add_font_fallbacks(svg: str) -> str:
    return _FAMILY_ATTR.sub(lambda m: m.group(1) + _with_fallback(m.group(2).strip()), svg)


class SvgError(ValueError):
    pass


def sanitize(svg: str) -> str:
    """Return ``svg`` with DOCTYPE, entities and every external reference removed."""
    text = _ENTITY.sub("", _DOCTYPE.sub("", svg))
    # references to entities the removed DOCTYPE declared would not parse: drop them
    text = _ENTITY_REF.sub("", text)
    start = text.find("<svg")
    if start < 0:
        raise SvgError("no <svg> element found")
    # drop anything before the root that is not the XML declaration or a comment
    head = text[:start]
    head = "".join(re.findall(r"<\?xml[^>]*\?>|<!--.*?-->", head, re.DOTALL))
    text = head + text[start:]
    end = text.rfind("</svg>")
    if end >= 0:
        text = text[: end + len("</svg>")]
    try:
        root = ET.fromstring(text)  # noqa: S314 - ElementTree resolves no external entities and expat limits entity expansion
    except ET.ParseError as e:
        raise SvgError(f"invalid SVG markup: {e}") from None
    if not root.tag.endswith("svg"):
        raise SvgError(f"the root element is <{root.tag}>, not <svg>")
    for el in root.iter():
        for attr in list(el.attrib):
            value = el.attrib[attr]
            if attr in ("href", _XLINK) or attr.endswith("}href"):
                if not (value.startswith("#") or value.startswith("data:image/")):
                    del el.attrib[attr]
            elif attr == "style" or "url(" in value:
                el.attrib[attr] = _CSS_URL.sub("none", _CSS_IMPORT.sub("", value))
        if el.tag.endswith("style") and el.text:
            el.text = _CSS_URL.sub("none", _CSS_IMPORT.sub("", el.text))
    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return ET.tostring(root, encoding="unicode")


_LENGTH = re.compile(r"^\s*([0-9.eE+-]+)\s*(px|pt|pc|mm|cm|in|)?\s*$")
_UNIT = {"": 1, "px": 1, "pt": 96 / 72, "pc": 16, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96}


def natural_size(svg: str) -> tuple[float, float]:
    """Width and height in pixels as resvg will size the image (100x100 by default)."""
    root = ET.fromstring(svg)  # noqa: S314 - ElementTree resolves no external entities and expat limits entity expansion
    vb = [float(x) for x in re.split(r"[\s,]+", root.get("viewBox", "").strip()) if x] or None

    def length(name: str, index: int) -> float:
        m = _LENGTH.match(root.get(name, ""))
        if m:
            return float(m.group(1)) * _UNIT[m.group(2) or ""]
        if vb and len(vb) == 4:
            return vb[index]
        return 100.0

    return length("width", 2), length("height", 3)


def svg_to_png(svg: str, background: str | None = None) -> bytes:
    import resvg_py

    return bytes(
        resvg_py.svg_to_bytes(
            svg_string=add_font_fallbacks(svg),
            background=background,
            font_family="DejaVu Sans",
            serif_family="DejaVu Serif",
            sans_serif_family="DejaVu Sans",
            monospace_family="DejaVu Sans Mono",
            cursive_family="DejaVu Sans",
            fantasy_family="DejaVu Sans",
        )
    )


# Engines: resvg in the worker's process, or a fresh rsvg-convert process. resvg costs less
# for a few primitives (no process to start) and more for many: measured crossover near 20
# shapes (benchmarks/render.py --svg-engines; docs/render.md, "SVG engines").
ENGINES = ("auto", "resvg", "rsvg-convert")
RSVG_MIN_PRIMITIVES = 20
_SHAPE = re.compile(r"<(?:[\w-]+:)?(?:rect|circle|ellipse|line|polyline|polygon|path)\b")
_PATH_DATA = re.compile(r"\sd\s*=\s*(\"[^\"]*\"|'[^']*')")
_PATH_COMMAND = re.compile(r"[MLHVCSQTAZmlhvcsqtaz]")


def primitives(svg: str) -> int:
    """How much an SVG draws: its shape elements, plus a quarter of its path commands."""
    commands = sum(len(_PATH_COMMAND.findall(m.group(1))) for m in _PATH_DATA.finditer(svg))
    return len(_SHAPE.findall(svg)) + commands // 4


def choose_engine(svg: str, engine: str | None = None) -> str:
    """``resvg`` or ``rsvg-convert`` for ``svg``: ``engine`` when given, else the
    ``SNELLEN_SVG_ENGINE`` setting, else (``auto``) rsvg-convert from
    :data:`RSVG_MIN_PRIMITIVES` primitives on, when it is installed and draws the same
    picture: no text (the two lay out glyphs differently; resvg's fonts are pinned to
    DejaVu) and a width and height in pixels (the two size a bare viewBox differently)."""
    choice = (engine or os.environ.get("SNELLEN_SVG_ENGINE") or "auto").strip().lower()
    if choice not in ENGINES:
        raise ValueError(f"unknown SVG engine {choice!r}; choose one of {', '.join(ENGINES)}")
    if choice == "auto":
        same = "<text" not in svg and _pixel_size(svg)
        many = same and primitives(svg) >= RSVG_MIN_PRIMITIVES
        choice = "rsvg-convert" if many and shutil.which("rsvg-convert") else "resvg"
    return choice


_PIXELS = re.compile(r"^\s*\d+(\.\d+)?\s*(px)?\s*$")


def _pixel_size(svg: str) -> bool:
    try:
        root = ET.fromstring(svg)  # noqa: S314 - ElementTree resolves no external entities and expat limits entity expansion
    except ET.ParseError:
        return False
    return all(_PIXELS.match(root.get(k, "")) for k in ("width", "height"))


def rsvg_convert_png(svg: str, work_dir: str | os.PathLike[str]) -> bytes:
    """``svg`` rasterised by a cold ``rsvg-convert`` process on white (run where the caller
    runs: inside a worker, that is inside its sandbox)."""
    path = os.path.join(work_dir, "in.svg")
    out = os.path.join(work_dir, "out.png")
    with open(path, "w") as f:
        f.write(svg)
    proc = subprocess.run(  # noqa: S603 - a fixed argument list, no shell; the program text goes in a file or on stdin
        ["rsvg-convert", "--background-color", "white", "-o", out, path],  # noqa: S607 - the tool is found on PATH, as scripts/setup.sh installs it
        capture_output=True, timeout=60,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SvgError(f"rsvg-convert: {proc.stderr.decode(errors='replace').strip()[:500]}")
    with open(out, "rb") as f:
        return f.read()


class SvgRenderer(LanguageRenderer):
    language = "svg"

    def start(self, workspace: str) -> None:
        import resvg_py  # noqa: F401 - load the library (and its font database) once

        svg_to_png(
            '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><text>a</text></svg>'
        )

    def render(self, job: RenderJob, job_dir: str) -> RenderResult:
        t0 = time.monotonic()
        result = RenderResult(job.id, job.language, Status.OK)
        try:
            clean = sanitize(job.code)
            w, h = natural_size(clean)
            if reason := canvas_too_large(w, h):
                result.status, result.reason = Status.KILLED, reason
            elif choose_engine(clean) == "rsvg-convert":
                try:
                    result.png = rsvg_convert_png(clean, job_dir)
                except (SvgError, OSError, subprocess.SubprocessError):
                    result.png = svg_to_png(clean, background="white")  # resvg decides
            else:
                result.png = svg_to_png(clean, background="white")
        except (SvgError, ET.ParseError, ValueError) as e:
            result.status, result.reason = Status.COMPILE_ERROR, str(e)
        except Exception as e:  # noqa: BLE001 - resvg reports any parse failure this way
            result.status, result.reason = Status.RUNTIME_ERROR, f"resvg: {e}"
        result.seconds = time.monotonic() - t0
        return result
