"""``snellen reproduce NAME``: each seed paper's finding as one command. A finding module
exposes ``run(options: ReproduceOptions) -> Finding``, runs the experiment with its baseline
in the same run, resumes when started again on the same ``--out``, and is named in
:data:`FINDINGS`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

from snellen.registry import Registry
from snellen.reproduce.findings import (
    VERDICTS,
    Figure,
    Finding,
    ReproduceOptions,
    read_finding,
    write_finding,
)

__all__ = [
    "FINDINGS",
    "PRESETS",
    "VERDICTS",
    "Figure",
    "Finding",
    "ReproduceOptions",
    "load_finding_runner",
    "read_finding",
    "run_reproduce",
    "write_finding",
]

PRESETS = ("quick", "cpu", "gpu", "paper")


class FindingRunner(Protocol):
    def __call__(self, options: ReproduceOptions) -> Finding: ...


FINDINGS: Registry[FindingRunner] = Registry("finding")
FINDINGS.register(
    "bag-of-words",
    "snellen.reproduce.bag_of_words:run",
    help="ARO: contrastive models retrieve as well from shuffled captions (bags of words)",
)
FINDINGS.register(
    "negclip",
    "snellen.reproduce.negclip:run",
    help="ARO: NegCLIP's hard negatives lift relation/attribution/order over CLIP-FT",
)
FINDINGS.register(
    "lens",
    "snellen.reproduce.lens:run",
    help="LENS: a frozen LLM over vision text beats its blind and majority baselines",
)
FINDINGS.register(
    "vision",
    "snellen.reproduce.vision:run",
    help="Vision check-up: MoCo-v2 on LLM-drawn images against procedural sources",
)


def load_finding_runner(name: str) -> FindingRunner:
    """The ``run`` function of finding ``name``; an unknown name, or a finding whose module
    this build lacks, is an :class:`~snellen.errors.InputError` that says which."""
    from snellen.errors import InputError

    entry = FINDINGS.entry(name)  # an unknown name lists the known ones
    module = str(entry.target).partition(":")[0] if entry.lazy else ""
    try:
        return entry.load()
    except ModuleNotFoundError as exc:
        if module and exc.name == module:
            raise InputError(
                f"finding {entry.name!r}: its module {module} is not in this build of snellen"
            ) from None
        raise


def run_reproduce(
    name: str,
    out: str | Path | None = None,
    preset: str = "quick",
    *,
    command: str | None = None,
    **overrides: object,
) -> Finding:
    """Run finding ``name`` at ``preset`` into ``out`` (default ``runs/reproduce/NAME``),
    write ``findings.json`` and ``findings.html`` there, and return the :class:`Finding`.
    ``overrides`` are :class:`ReproduceOptions` fields (``seeds``, ``n``, ``epochs``,
    ``sources``, ``models``, ``max_minutes``, ``progress``, ``extra``); ``command`` is
    recorded as the command that produced the finding (default: the CLI equivalent of the
    preset). Started again on the same ``out``, a finding continues its interrupted work."""
    from dataclasses import fields

    from snellen.errors import InputError

    if preset not in PRESETS:
        raise InputError(f"--preset {preset!r}: choose one of {', '.join(PRESETS)}")
    known = {f.name for f in fields(ReproduceOptions)} - {"out", "preset"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise InputError(
            f"reproduce {name}: unknown option(s) {', '.join(unknown)}; known: "
            + ", ".join(sorted(known))
        )
    runner = load_finding_runner(name)
    canonical = FINDINGS.canonical(name)
    target = Path(out) if out is not None else Path("runs/reproduce") / canonical
    options = ReproduceOptions(out=target, preset=preset, **overrides)  # type: ignore[arg-type]
    target.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    finding = runner(options)
    if not finding.seconds:
        finding.seconds = time.perf_counter() - start
    if command:
        finding.command = command
    write_finding(finding, target)
    return finding
