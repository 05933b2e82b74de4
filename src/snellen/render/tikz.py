"""TikZ programs: pdflatex without shell escape and with paranoid file access, a preloaded
format when the document's preamble allows it, and in-process rasterisation (PyMuPDF).

A format (``mylatexformat``) holds a preamble already loaded, which halves the time of a
small picture. The leading ``\\documentclass``/``\\usepackage``/``\\usetikzlibrary`` lines of
a document are its dumpable head; a format is built for a head the second time it is seen
(the default head, used for bare ``tikzpicture`` snippets, at start-up). A document whose
format run fails is run again in full, so a format never changes the outcome.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time
from collections import Counter

from snellen.render import sandbox
from snellen.render.base import LanguageRenderer, RenderJob, RenderResult, Status
from snellen.render.image import canvas_too_large, truncate

DEFAULT_HEAD = r"""\documentclass[tikz,border=2pt]{standalone}
\usepackage{xcolor}
\usepackage{amsmath,amssymb}
\usetikzlibrary{arrows.meta,calc,shapes,positioning,patterns,decorations.pathmorphing,shadings,backgrounds,fit,intersections}
"""
# 40 pixels per centimetre (101.6 dpi): a 10 cm picture becomes 400 pixels.
DPI = 101.6
_HEAD_LINE = re.compile(
    r"^\s*(\\documentclass|\\usepackage|\\RequirePackage|\\usetikzlibrary|\\usepgfplotslibrary|%|$)"
)
_ERROR = re.compile(r"^! .*$", re.MULTILINE)
MAX_FORMATS = 16


def _tex_env(job_dir: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": job_dir,
        "TMPDIR": job_dir,
        "LANG": "C.UTF-8",
        # paranoid: no absolute paths, no "..", no dot files, for reading and for writing
        "openin_any": "p",
        "openout_any": "p",
        "shell_escape": "f",
        # never try to generate missing fonts with external programs
        "MKTEXPK": "0",
        "MKTEXTFM": "0",
        "MKTEXMF": "0",
        "MKTEXFMT": "0",
        "TEXMFVAR": job_dir,
        "TEXMFCONFIG": job_dir,
        "SOURCE_DATE_EPOCH": "0",
    }


def as_document(code: str) -> str:
    """A complete LaTeX document: ``code`` itself, or a bare picture wrapped in one."""
    if "\\documentclass" in code:
        return code
    body = code.strip()
    if "\\begin{tikzpicture}" not in body and "\\tikz" not in body:
        body = "\\begin{tikzpicture}\n" + body + "\n\\end{tikzpicture}"
    if "\\begin{document}" not in body:
        body = "\\begin{document}\n" + body + "\n\\end{document}"
    return DEFAULT_HEAD + body + "\n"


def split_head(doc: str) -> tuple[str, str]:
    """The dumpable head (class, packages, libraries) and the rest of the document."""
    lines = doc.splitlines(keepends=True)
    i = 0
    while i < len(lines) and _HEAD_LINE.match(lines[i]) and "\\begin{document}" not in lines[i]:
        i += 1
    head = "".join(lines[:i])
    if "\\documentclass" not in head:
        return "", doc
    return head, "".join(lines[i:])


def tex_errors(log: str) -> str:
    """The first errors of a TeX log with the line they point at."""
    out = []
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("! "):
            context = [ln for ln in lines[i + 1 : i + 6] if ln.startswith("l.")]
            out.append(line + (f" ({context[0]})" if context else ""))
            if len(out) >= 3:
                break
    return "\n".join(out) or log[-1500:]


class TikzRenderer(LanguageRenderer):
    language = "tikz"

    def __init__(self) -> None:
        self.workspace = ""
        self.formats: dict[str, str] = {}  # head hash -> format path (without .fmt)
        self.seen: Counter[str] = Counter()
        self.format_dir = ""

    def start(self, workspace: str) -> None:
        import pymupdf  # noqa: F401 - load the rasteriser once

        self.workspace = workspace
        self.format_dir = os.path.join(workspace, "tex-formats")
        os.makedirs(self.format_dir, exist_ok=True)
        self._build_format(DEFAULT_HEAD, timeout=60)

    def close(self) -> None:
        pass

    # -- formats -------------------------------------------------------------------------
    @staticmethod
    def _key(head: str) -> str:
        return hashlib.sha256(head.encode()).hexdigest()[:16]

    def _build_format(self, head: str, timeout: float) -> bool:
        key = self._key(head)
        if key in self.formats or len(self.formats) >= MAX_FORMATS:
            return key in self.formats
        d = self.format_dir
        src = os.path.join(d, f"{key}.tex")
        with open(src, "w") as f:
            f.write(head + "\\begin{document}\n\\end{document}\n")
        try:
            proc = subprocess.run(  # noqa: S603 - a fixed argument list, no shell; the program text goes in a file or on stdin
                ["pdflatex", "-ini", "-interaction=batchmode", "-halt-on-error", "-no-shell-escape",  # noqa: S607 - the tool is found on PATH, as scripts/setup.sh installs it
                 f"-jobname={key}", "&pdflatex", "mylatexformat.ltx", f"{key}.tex"],  # fmt: skip
                cwd=d, env=_tex_env(d), capture_output=True, timeout=timeout,
                preexec_fn=sandbox.rlimit_preexec(sandbox.Limits(cpu_seconds=int(timeout) + 1, memory=None, processes=None)),
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return False
        if proc.returncode == 0 and os.path.exists(os.path.join(d, f"{key}.fmt")):
            self.formats[key] = os.path.join(d, key)
            return True
        return False

    # -- running -------------------------------------------------------------------------
    def _pdflatex(self, tex: str, job: RenderJob, job_dir: str, fmt: str | None, budget: float):
        with open(os.path.join(job_dir, "program.tex"), "w") as f:
            f.write(tex)
        cmd = ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error"]
        if fmt:
            cmd.append(f"-fmt={fmt}")
        cmd.append("program.tex")
        limits = sandbox.Limits(
            cpu_seconds=max(1, int(budget) + 1),
            address_space=2 * sandbox.GiB,
            file_size=64 * sandbox.MiB,
            memory=None,
            processes=None,
        )
        return subprocess.run(  # noqa: S603 - a fixed argument list, no shell; the program text goes in a file or on stdin
            cmd, cwd=job_dir, env=_tex_env(job_dir), stdin=subprocess.DEVNULL,
            capture_output=True, timeout=max(budget, 0.1), preexec_fn=sandbox.rlimit_preexec(limits),
        )  # fmt: skip

    def render(self, job: RenderJob, job_dir: str) -> RenderResult:
        t0 = time.monotonic()
        result = RenderResult(job.id, job.language, Status.OK)
        doc = as_document(job.code)
        head, rest = split_head(doc)
        key = self._key(head) if head else ""
        if head:
            self.seen[key] += 1
            if key not in self.formats and self.seen[key] == 2:
                self._build_format(head, timeout=min(30.0, job.timeout))
        pdf = os.path.join(job_dir, "program.pdf")
        try:
            proc = None
            if key in self.formats:
                fmt_doc = head + "\\endofdump\n" + rest
                proc = self._pdflatex(fmt_doc, job, job_dir, self.formats[key], job.timeout)
                if proc.returncode != 0 or not os.path.exists(pdf):
                    proc = None  # let the full run decide
            if proc is None:
                budget = job.timeout - (time.monotonic() - t0)
                proc = self._pdflatex(doc, job, job_dir, None, budget)
        except subprocess.TimeoutExpired:
            result.status = Status.TIMEOUT
            result.reason = f"pdflatex gave no PDF within {job.timeout:g} s and was stopped"
            result.seconds = time.monotonic() - t0
            return result
        log = ""
        log_path = os.path.join(job_dir, "program.log")
        if os.path.exists(log_path):
            with open(log_path, encoding="latin-1") as f:
                log = f.read()
        if proc.returncode < 0:
            result.status = Status.TIMEOUT if proc.returncode in (-9, -24) else Status.KILLED
            result.reason = f"pdflatex was stopped by signal {-proc.returncode}"
        elif proc.returncode != 0 or not os.path.exists(pdf):
            result.status = Status.COMPILE_ERROR
            result.reason = truncate(tex_errors(log or proc.stdout.decode("latin-1")))
        else:
            self._rasterise(pdf, result)
        result.seconds = time.monotonic() - t0
        return result

    @staticmethod
    def _rasterise(pdf: str, result: RenderResult) -> None:
        import pymupdf as fitz

        with fitz.open(pdf) as doc:
            if doc.page_count == 0:
                result.status, result.reason = Status.BLANK, "the document has no page"
                return
            page = doc[0]
            zoom = DPI / 72
            w, h = page.rect.width * zoom, page.rect.height * zoom
            if reason := canvas_too_large(w, h):
                result.status, result.reason = Status.KILLED, reason
                return
            pix = page.get_pixmap(matrix=fitz.Matrix(zoom, zoom), alpha=False)
            result.png = pix.tobytes("png")
