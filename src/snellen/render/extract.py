"""Finding the program in a language model's reply.

Real replies hold one fenced block, or many partial blocks written step by step (each
redefining ``draw()``, or each adding a function), or unfenced code, sometimes cut off
mid-block, and transcripts store them with literal ``\\n`` escapes. :func:`extract_code`
copes with all of these and says how it found the code:

* one block (or one complete block among many): taken as it is;
* Processing/Java blocks: split into top-level items (functions, classes, global
  declarations) and merged in order, a later definition of a name replacing an earlier one;
  an item cut off by the end of the reply is dropped;
* Python blocks: the last complete program, otherwise the blocks concatenated;
* TikZ and SVG: the last complete picture or document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from snellen.languages import detection_order, part
from snellen.render.base import LANGUAGES

_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_TAGS = {
    "processing": "processing", "pde": "processing", "java": "processing", "p5": "processing",
    "arduino": "processing", "c": "processing", "cpp": "processing",
    "python": "python", "py": "python", "python3": "python",
    "tex": "tikz", "latex": "tikz", "tikz": "tikz",
    "svg": "svg", "xml": "svg", "html": "svg",
}  # fmt: skip


@dataclass(frozen=True)
class ExtractedCode:
    """The program found in a reply (``code`` is None when there is none)."""

    code: str | None
    language: str | None
    method: str  # how it was found: "single block", "merged 4 blocks", "unfenced", ...
    blocks: int = 0
    #: other assemblies of the reply to try when ``code`` does not compile, as (name, code):
    #: ("joined", the blocks of the language joined in order, duplicates removed)
    alternatives: tuple[tuple[str, str], ...] = ()

    def code_of(self, assembly: str) -> str | None:
        """The code of ``assembly`` ("" for ``code`` itself)."""
        return dict(self.alternatives).get(assembly, self.code) if assembly else self.code


def undo_literal_escapes(reply: str) -> str:
    """Undo literal ``\\n``/``\\t`` escapes when a reply has them instead of newlines (a
    heuristic for replies pasted as one line; the transcripts' exact escapes are
    :func:`snellen.transcripts.unescape`)."""
    if "\\n" in reply and reply.count("\n") < reply.count("\\n"):
        reply = reply.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\\t", "\t")
        reply = reply.replace('\\"', '"')
    return reply


def looks_like_svg(code: str) -> bool:
    return re.search(r"<svg[\s>]", code) is not None


def looks_like_tikz(code: str) -> bool:
    return re.search(r"\\begin\{tikzpicture\}|\\documentclass|\\tikz\b|\\draw\b", code) is not None


def looks_like_turtle(code: str) -> bool:
    pattern = r"^\s*(import|from)\s+turtle\b|\bturtle\.\w+\("
    return re.search(pattern, code, re.MULTILINE) is not None


def looks_like_matplotlib(code: str) -> bool:
    pattern = r"^\s*(import|from)\s+(matplotlib|pylab)\b|\bplt\.\w+\("
    return re.search(pattern, code, re.MULTILINE) is not None


def looks_like_processing(code: str) -> bool:
    calls = re.search(
        r"\bvoid\s+(setup|draw|settings)\s*\(|\bsize\s*\(\s*\d+\s*,\s*\d+|"
        r"\b(ellipse|rect|line|background|fill|stroke|vertex|arc|triangle|quad)\s*\(",
        code,
    )
    return calls is not None and re.search(r";\s*$", code, re.MULTILINE) is not None


def detect_language(code: str) -> str | None:
    """Guess the language of a program (None when it does not look like one): each language's
    record names its detector (:mod:`snellen.languages`); the most specific are asked
    first (``detect_order``), since a Python program may draw SVG text and a TikZ one may
    hold a ``;``."""
    for name in detection_order():
        looks = part(name, "detect")
        if looks is not None and looks(code):
            return name
    return None


def _python_flavour(code: str) -> str:
    return "turtle" if detect_language(code) == "turtle" else "matplotlib"


# -- Processing / Java -------------------------------------------------------------------
_FUNC = re.compile(r"^[\w<>\[\],.\s]*?\b(\w+)\s*\([^;{}]*\)\s*(?:throws[\w\s,.]+)?\{", re.DOTALL)
_CLASS = re.compile(r"\b(?:class|interface|enum)\s+(\w+)")
_VAR = re.compile(r"(\w+)\s*(?:\[\s*\])*\s*(?:=|;|,)")


def _strip_for_scan(code: str) -> str:
    """Blank out comments, strings and char literals (same length) so braces can be counted."""
    out = list(code)
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        if code.startswith("//", i):
            j = code.find("\n", i)
            j = n if j < 0 else j
        elif code.startswith("/*", i):
            j = code.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c in "\"'":
            j = i + 1
            while j < n and code[j] != c and code[j] != "\n":
                j += 2 if code[j] == "\\" else 1
            j = min(j + 1, n)
        else:
            i += 1
            continue
        for k in range(i, j):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return "".join(out)


def java_items(code: str) -> tuple[list[tuple[str, str]], bool]:
    """Top-level items of Java-like code as (key, text), and whether the code ended
    inside an unfinished item (cut off)."""
    scan = _strip_for_scan(code)
    items: list[tuple[str, str]] = []
    depth, start, paren = 0, 0, 0
    for i, c in enumerate(scan):
        if c == "(":
            paren += 1
        elif c == ")":
            paren = max(0, paren - 1)
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                items.append(_keyed(code[start : i + 1], scan[start : i + 1]))
                start = i + 1
            depth = max(depth, 0)
        elif c == ";" and depth == 0 and paren == 0:
            items.append(_keyed(code[start : i + 1], scan[start : i + 1]))
            start = i + 1
    tail = scan[start:].strip()
    return [it for it in items if it[1].strip()], bool(tail)


def _keyed(text: str, scan: str) -> tuple[str, str]:
    head = scan.strip()
    if m := _CLASS.search(head.split("{", 1)[0]):
        return f"class:{m.group(1)}", text
    if (
        "{" in head
        and (m := _FUNC.match(head))
        and m.group(1) not in ("if", "for", "while", "switch")
    ):
        return f"func:{m.group(1)}", text
    if m := _VAR.search(head):
        return f"var:{m.group(1)}", text
    return f"stmt:{head}", text


def merge_java(blocks: list[str]) -> tuple[str, str]:
    """Merge Processing blocks: later definitions replace earlier ones, in first-seen order."""
    merged: dict[str, str] = {}
    for block in blocks:
        items, _cut = java_items(block)
        for key, text in items:
            merged[key] = text  # dict keeps the first position, takes the latest text
    body = "".join(t if t.startswith("\n") else "\n" + t for t in merged.values())
    return body.strip() + "\n", f"merged {len(blocks)} blocks"


def _calls(code: str) -> set[str]:
    return set(re.findall(r"\b(\w+)\s*\(", _strip_for_scan(code)))


def _processing(blocks: list[str]) -> tuple[str, str]:
    if len(blocks) == 1:
        items, cut = java_items(blocks[0])
        if cut and items:
            return "".join(t for _, t in items).strip() + "\n", "single block (cut-off end dropped)"
        return blocks[0], "single block"
    defined_anywhere: set[str] = set()
    for b in blocks:
        defined_anywhere |= {k[5:] for k, _ in java_items(b)[0] if k.startswith("func:")}
    # the last block that is a whole sketch on its own
    for b in reversed(blocks):
        items, cut = java_items(b)
        names = {k[5:] for k, _ in items if k.startswith("func:")}
        entry = {"setup", "draw", "settings"} & defined_anywhere
        if cut or not names & entry or not entry <= names:
            continue
        if (_calls(b) & defined_anywhere) <= names:
            return b, f"last complete block of {len(blocks)}"
    return merge_java(blocks)


# -- Python ------------------------------------------------------------------------------
def _python(blocks: list[str]) -> tuple[str, str]:
    if len(blocks) == 1:
        return blocks[0], "single block"
    longest = max(len(b) for b in blocks)

    def lines(text: str) -> set[str]:
        return {
            ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")
        }

    for i in range(len(blocks) - 1, -1, -1):
        b = blocks[i]
        later = set().union(*(lines(x) for x in blocks[i + 1 :])) if i + 1 < len(blocks) else set()
        if later and len(later - lines(b)) > 0.5 * len(later):
            continue  # later blocks add code this one lacks
        if re.search(r"^\s*(import|from)\s", b, re.MULTILINE) and len(b) >= 0.5 * longest:
            try:
                compile(b, "<block>", "exec")
            except SyntaxError:
                continue
            defined = set(re.findall(r"^def\s+(\w+)", b, re.MULTILINE))
            elsewhere = set(re.findall(r"^def\s+(\w+)", "\n".join(blocks), re.MULTILINE))
            used = set(re.findall(r"\b(\w+)\s*\(", b))
            if (used & elsewhere) <= defined:
                return b, f"last complete block of {len(blocks)}"
    return "\n\n".join(blocks), f"concatenated {len(blocks)} blocks"


def _last_matching(blocks: list[str], pattern: str, what: str) -> tuple[str, str]:
    for b in reversed(blocks):
        if re.search(pattern, b, re.DOTALL):
            return b, f"last {what} of {len(blocks)} blocks" if len(blocks) > 1 else "single block"
    return blocks[-1], "last block"


def _unfenced(text: str, language: str | None) -> str | None:
    """Code written without fences: the span from the first to the last code-like line."""
    if language == "svg" or (language is None and "<svg" in text):
        m = re.search(r"<svg[\s>].*?(</svg>|\Z)", text, re.DOTALL)
        return m.group(0) if m else None
    if language == "tikz" or (language is None and "\\begin{" in text):
        m = re.search(r"\\documentclass.*?(\\end\{document\}|\Z)", text, re.DOTALL) or re.search(
            r"\\begin\{tikzpicture\}.*?(\\end\{tikzpicture\}|\Z)", text, re.DOTALL
        )
        return m.group(0) if m else None
    lines = text.splitlines()
    code_like = re.compile(
        r"^\s*($|//|/\*|\*|#|[{}()\]]|(import|from|def|class|void|int|float|color|for|if|else|"
        r"while|return|boolean|String|PVector|final|static)\b|\w+(\.\w+)*\s*(\(|=|\[)|\w+\s+\w+\s*[=;(])"
    )
    best: tuple[int, int] | None = None
    i = 0
    while i < len(lines):
        if lines[i].strip() and code_like.match(lines[i]):
            j = i
            while j + 1 < len(lines) and code_like.match(lines[j + 1]):
                j += 1
            if best is None or (j - i) > (best[1] - best[0]):
                best = (i, j)
            i = j + 1
        else:
            i += 1
    if best is None or best[1] - best[0] < 1:
        return None
    return "\n".join(lines[best[0] : best[1] + 1]).strip() + "\n"


def extract_code(reply: str, language: str | None = None) -> ExtractedCode:
    """The program in ``reply``, for ``language`` (one of LANGUAGES; detected when None)."""
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)}")
    text = undo_literal_escapes(reply or "")
    fenced = [(tag.lower(), body) for tag, body in _FENCE.findall(text) if body.strip()]
    if not fenced:
        code = _unfenced(text, language)
        if code is None:
            return ExtractedCode(None, language, "no code found")
        lang = language or detect_language(code)
        if lang is None:
            return ExtractedCode(None, None, "no code found (text does not look like a program)")
        return ExtractedCode(code, lang, "unfenced", 0)
    lang = language
    if lang is None:
        tags = [_TAGS.get(t) for t, _ in fenced if _TAGS.get(t)]
        detected = [detect_language(b) for _, b in fenced]
        guess = next((d for d in reversed(detected) if d), None)
        if guess is None and tags:
            guess = tags[-1] if tags[-1] != "python" else "matplotlib"
        if guess is None:
            return ExtractedCode(
                None, None, "code blocks found, but in no known language", len(fenced)
            )
        lang = guess
    # keep the blocks of the chosen language (untagged blocks count when they look like it)
    family = "python" if lang in ("matplotlib", "turtle") else lang

    def belongs(tag: str, body: str) -> bool:
        t = _TAGS.get(tag)
        d = detect_language(body)
        if family == "python":
            return (
                t == "python"
                or d in ("matplotlib", "turtle")
                or (not tag and d is None and "import" in body)
            )
        return t == family or d == lang or (not tag and d is None)

    blocks = [b for t, b in fenced if belongs(t, b)] or [b for _, b in fenced]
    if lang == "processing":
        code, how = _processing(blocks)
    elif family == "python":
        code, how = _python(blocks)
        if language is None:
            lang = _python_flavour(code)
    elif lang == "tikz":
        code, how = _last_matching(
            blocks, r"\\end\{tikzpicture\}|\\end\{document\}", "complete picture"
        )
    else:
        code, how = _last_matching(blocks, r"<svg.*</svg>", "complete SVG")
    return ExtractedCode(code, lang, how, len(fenced), _joined(blocks, code, lang))


def joined_blocks(blocks: list[str]) -> str:
    """The blocks in order, each once (a block repeated word for word is kept the first
    time), separated by blank lines."""
    seen: set[str] = set()
    kept = []
    for b in blocks:
        key = b.strip()
        if key and key not in seen:
            seen.add(key)
            kept.append(b.strip("\n"))
    return "\n\n".join(kept) + "\n"


def _joined(blocks: list[str], chosen: str, language: str) -> tuple[tuple[str, str], ...]:
    """The "joined" assembly when the reply has several blocks and joining them gives a
    program other than the chosen one (SVG and TikZ documents do not join)."""
    if len(blocks) < 2 or language in ("svg", "tikz"):
        return ()
    joined = joined_blocks(blocks)
    return () if joined.strip() == chosen.strip() else (("joined", joined),)
