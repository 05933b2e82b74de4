"""The tour that ``make demo`` runs: the three systems of snellen in one sitting, offline.

1. the check-up rows (:func:`snellen.checkup.demo.run_demo`): the bundled model drawing
   live, beside recorded GPT-4 / GPT-3.5 drawings, in ``OUT/report.html``;
2. findings run now at ``--preset quick`` (:data:`LIVE`: bag of words, LENS), each in
   ``OUT/reproduce/NAME/``;
3. findings of the longer presets from shipped results (:data:`SHIPPED`: NegCLIP, the vision
   study), copied from ``snellen/data/findings/NAME/`` to ``OUT/shipped/NAME/`` with their
   page, each labelled with the command, preset, machine and date that produced it;

and ``OUT/index.html``, one page linking every part. Every part is resumable: the check-up
runs and the findings continue where a killed demo stopped.
"""

from __future__ import annotations

import html
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from snellen.errors import InputError
from snellen.reproduce import FINDINGS, read_finding, run_reproduce, write_finding
from snellen.reproduce.findings import Finding

log = logging.getLogger(__name__)

__all__ = ["LIVE", "SHIPPED", "TourPart", "TourResult", "run_tour", "shipped_findings_dir"]

# run now at --preset quick
LIVE: tuple[str, ...] = ("bag-of-words", "lens")
# shown from the results shipped in snellen/data/findings/NAME
SHIPPED: tuple[str, ...] = ("negclip", "vision")


@dataclass
class TourPart:
    """One part of the tour as the index lists it."""

    title: str
    page: str  # relative to the tour's directory
    kind: str  # "check-up" | "run now" | "shipped" | "missing"
    finding: Finding | None = None
    seconds: float = 0.0
    note: str = ""


@dataclass
class TourResult:
    out: Path
    index: Path
    parts: list[TourPart] = field(default_factory=list)
    seconds: float = 0.0


def shipped_findings_dir() -> Path:
    """Where snellen ships the findings of its longer presets."""
    from snellen.data import ROOT

    return ROOT / "findings"


def _copy_shipped(name: str, target: Path) -> Finding | None:
    source = shipped_findings_dir() / name
    if not (source / "findings.json").is_file():
        return None
    finding = read_finding(source)
    target.mkdir(parents=True, exist_ok=True)
    for fig in finding.figures:
        shutil.copyfile(source / fig.path, target / fig.path)
    write_finding(finding, target)  # the page is drawn again here, from the shipped record
    return finding


def run_tour(
    out: str | Path = "runs/demo",
    *,
    seed: int = 0,
    workers: int | None = None,
    progress: bool = True,
    checkup: bool = True,
    live: tuple[str, ...] = LIVE,
    shipped: tuple[str, ...] = SHIPPED,
) -> TourResult:
    """Run the tour into ``out`` and write ``out/index.html``; see the module doc.
    ``checkup=False`` leaves the check-up rows out; ``live`` and ``shipped`` choose the
    findings (names of :data:`~snellen.reproduce.FINDINGS`)."""
    from snellen.checkup.demo import run_demo

    for name in (*live, *shipped):
        FINDINGS.canonical(name)  # an unknown name fails before any work
    t0 = time.perf_counter()
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    result = TourResult(root, root / "index.html")
    if checkup:
        t = time.perf_counter()
        demo = run_demo(root, seed=seed, workers=workers, progress=progress)
        rendered = sum(r.rendered for r in demo.runs.values())
        drawings = sum(r.drawings for r in demo.runs.values())
        result.parts.append(
            TourPart(
                "Vision check-up: the bundled model live beside recorded GPT-4 / GPT-3.5",
                "report.html",
                "check-up",
                seconds=time.perf_counter() - t,
                note=f"{len(demo.runs)} check-up runs, {rendered} of {drawings} drawings rendered",
            )  # fmt: skip
        )
    for name in live:
        t = time.perf_counter()
        target = root / "reproduce" / name
        log.info("demo: reproduce %s --preset quick", name)
        try:
            finding = run_reproduce(
                name, out=target, preset="quick", progress=progress,
                command=f"snellen reproduce {name} --preset quick --out {target}",
            )  # fmt: skip
        except InputError as exc:
            if "is not in this build" not in str(exc):
                raise
            result.parts.append(TourPart(name, "", "missing", note=str(exc)))
            continue
        result.parts.append(
            TourPart(
                f"{name}: {finding.verdict}",
                f"reproduce/{name}/findings.html",
                "run now",
                finding,
                seconds=time.perf_counter() - t,
            )  # fmt: skip
        )
    for name in shipped:
        kept = _copy_shipped(name, root / "shipped" / name)
        if kept is None:
            result.parts.append(
                TourPart(
                    name, "", "missing", note=f"no shipped result in snellen/data/findings/{name}"
                )
            )
            continue
        result.parts.append(
            TourPart(f"{name}: {kept.verdict}", f"shipped/{name}/findings.html", "shipped", kept)
        )
    result.seconds = time.perf_counter() - t0
    result.index.write_text(render_index(result), encoding="utf-8")
    return result


def render_index(result: TourResult) -> str:
    """The tour's index page: one row per part, linked, with what produced it."""
    e = html.escape
    rows = []
    for i, part in enumerate(result.parts):
        f = part.finding
        link = f'<a href="{e(part.page)}">{e(part.title)}</a>' if part.page else e(part.title)
        if f is not None:
            made = (
                f"<code>{e(f.command)}</code><br>preset <b>{e(f.preset)}</b>; {e(f.machine)}; "
                f"{e(f.date)}; {f.seconds:.0f} s"
            )
            what = f"{e(f.claim)}<br><i>{e(f.verdict)}</i>: {e(f.reason)}"
        else:
            made = (
                f"<code>snellen demo</code>; {part.seconds:.0f} s"
                if part.kind == "check-up"
                else ""
            )
            what = e(part.note)
        rows.append(
            f'<tr id="part-{i}" class="{e(part.kind.replace(" ", "-"))}"><td>{link}</td>'
            f"<td>{e(part.kind)}</td><td>{what}</td><td>{made}</td></tr>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>snellen demo</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}}
table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:6px 10px;vertical-align:top}}
th{{background:#f3f3f3}} .missing{{color:#888}} code{{font-size:0.85em}}
</style></head><body>
<h1>snellen demo</h1>
<p>The three systems of snellen, offline: a vision check-up of language models drawing with
code; findings of the seed papers reproduced now at the quick preset; and the findings of
the longer presets, shipped with snellen, each labelled with the command, preset, machine
and date that produced it. The tour took {result.seconds:.0f} s.</p>
<table id="parts"><tr><th>part</th><th>how</th><th>what it shows</th><th>produced by</th></tr>
{"".join(rows)}
</table></body></html>
"""
