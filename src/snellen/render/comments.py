"""Removing comments from drawing programs.

A recognition question shows the model a program and asks what it draws. Comments such as
``// cylinder body`` (the VAD reference programs have them, and so do most model-written
programs) name the answer; the question is about reading the drawing commands, so they are
removed first. Strings are left alone, and a program the scanner cannot read is returned
unchanged.
"""

from __future__ import annotations

import io
import re
import tokenize


def strip_c_like(code: str) -> str:
    """Processing / Java: ``//`` and ``/* */`` comments outside string and char literals."""
    out: list[str] = []
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        if c in "\"'":
            j = i + 1
            while j < n and code[j] != c and code[j] != "\n":
                j += 2 if code[j] == "\\" else 1
            out.append(code[i : j + 1])
            i = j + 1
        elif code.startswith("//", i):
            while i < n and code[i] != "\n":
                i += 1
        elif code.startswith("/*", i):
            end = code.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def strip_python(code: str) -> str:
    """``#`` comments, found by Python's own tokenizer (so ``"#fff"`` stays)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return code
    lines = code.splitlines(keepends=True)
    # Cut each comment from its line, last first so earlier offsets stay valid.
    for tok in reversed([t for t in tokens if t.type == tokenize.COMMENT]):
        row, col = tok.start
        line = lines[row - 1]
        lines[row - 1] = line[:col].rstrip() + ("\n" if line.endswith("\n") else "")
    return "".join(lines)


def strip_tex(code: str) -> str:
    """``%`` comments (an escaped ``\\%`` is a percent sign, not a comment)."""
    return re.sub(r"(?<!\\)%.*", "", code)


def strip_svg(code: str) -> str:
    """``<!-- -->`` comments, and the ``<title>`` / ``<desc>`` elements that caption a drawing."""
    code = re.sub(r"<!--.*?-->", "", code, flags=re.DOTALL)
    return re.sub(r"<(title|desc)\b[^>]*>.*?</\1\s*>", "", code, flags=re.DOTALL | re.IGNORECASE)


def strip_comments(code: str, language: str) -> str:
    """``code`` without its comments, with the blank lines they leave collapsed (a language
    whose record names no comment stripper is returned unchanged)."""
    from snellen.languages import part

    strip = part(language, "comments")
    if strip is None:
        return code
    text = strip(code)
    lines = [ln.rstrip() for ln in text.splitlines()]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    return "\n".join(out).strip("\n") + "\n"
