"""SVG programs, rasterised with resvg after every external reference is stripped.

resvg reads local files an SVG names by absolute path (images, nested SVGs, style sheets),
so the markup is cleaned first: no DOCTYPE or entities, no ``href`` that leaves the
document except ``data:`` images, no ``url(...)`` or ``@import`` that points outside it.
The worker's Landlock layer would stop such reads anyway; stripping keeps the output
independent of the machine it was rendered on.
"""

from __future__ import annotations

import re
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
        root = ET.fromstring(text)
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
    root = ET.fromstring(svg)
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
            else:
                result.png = svg_to_png(clean, background="white")
        except (SvgError, ET.ParseError, ValueError) as e:
            result.status, result.reason = Status.COMPILE_ERROR, str(e)
        except Exception as e:  # noqa: BLE001 - resvg reports any parse failure this way
            result.status, result.reason = Status.RUNTIME_ERROR, f"resvg: {e}"
        result.seconds = time.monotonic() - t0
        return result
