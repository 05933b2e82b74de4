"""The image sources ``snellen dataset build`` knows, looked up by name.

``transcripts:FILE[,FILE...]``, ``jsonl:FILE``, ``run:DIR`` (LLM programs, expanded with
parametric variants), ``vad-shapes``, ``dead-leaves[:VARIANT]``, ``fractals``, ``spectrum``,
``wmm``, ``shaders:DIR`` and ``mix:NAME=W,...``. :func:`load_source` turns such a name into
a :class:`~snellen.imagesets.base.Source`.
"""

from __future__ import annotations

import bisect
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from snellen.errors import InputError
from snellen.imagesets import procedural
from snellen.imagesets.base import Planned, Source, slot_rng
from snellen.registry import Registry
from snellen.render.base import RenderJob

log = logging.getLogger(__name__)

# procedural ---------------------------------------------------------------------------------


@dataclass
class ProceduralSource(Source):
    """Images drawn by a numpy generator in the calling process."""

    kind: str = "dead-leaves"
    variant: str = ""

    def plan(self, index: int, seed: int, size: int, attempt: int = 0) -> Planned:
        rng = slot_rng(seed, index, attempt, self.spec)
        if self.kind == "dead-leaves":
            pixels, params = procedural.dead_leaves(rng, size, self.variant or "squares")
        else:
            pixels, params = GENERATORS[self.kind](rng, size)
        meta = {"source": self.spec, "program_id": f"{self.kind}/{index}", "concept": None}
        return Planned({**meta, "params": params}, pixels=pixels)


GENERATORS: dict[str, Callable[[np.random.Generator, int], tuple[np.ndarray, dict[str, Any]]]] = {
    "fractals": procedural.fractal,
    "spectrum": procedural.spectrum,
    "wmm": procedural.wmm,
}


# programs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Program:
    """One drawing program with where it came from."""

    id: str
    language: str
    code: str
    concept: str | None = None
    model: str | None = None


@dataclass
class ProgramSource(Source):
    """LLM (or reference) programs, rendered confined. Slot ``i`` draws program
    ``i mod P``; its ``i div P``-th visit is a parametric variant (the program's named
    numeric constants scaled by random factors, as in the check-up's parametric task;
    visit 0 is the program as written). A program without constants repeats as written."""

    programs: list[Program] = field(default_factory=list)
    #: programs left out, by reason (e.g. a language that cannot be told from the code)
    skipped: dict[str, int] = field(default_factory=dict)
    variants: bool = True
    spread: float = 0.5
    timeout: float = 20.0

    def __post_init__(self) -> None:
        if not self.programs:
            raise InputError(f"{self.spec}: no programs with code were found")

    def needs_renderer(self) -> bool:
        return True

    def identity(self) -> str:
        import hashlib

        digest = hashlib.sha256()
        for p in self.programs:
            digest.update(json.dumps([p.id, p.language, p.code]).encode())
        settings = f"variants={self.variants},spread={self.spread}"
        return f"{self.spec.partition(':')[0]}:programs={digest.hexdigest()[:16]},{settings}"

    def plan(self, index: int, seed: int, size: int, attempt: int = 0) -> Planned:
        from snellen.imagesets.variants import program_parameters
        from snellen.render.params import sample_value, with_values

        n = len(self.programs)
        slot = index + attempt * 7919
        program = self.programs[slot % n]
        visit = slot // n
        code, values = program.code, {}
        how, params = program_parameters(code, program.language) if self.variants else ("", [])
        # inline literals include positions and colours: jitter them less than named ones
        spread = self.spread if how == "named" else self.spread / 2
        if params and visit > 0:
            rng = random.Random(f"{seed}/{program.id}/{visit}")  # noqa: S311 - seeded sampling for reproducible data, not security
            values = {p.name: sample_value(p, rng, spread) for p in params}
            code = with_values(code, params, values)
        elif params:
            values = {p.name: p.value for p in params}
        meta = {
            "source": self.spec,
            "program_id": program.id,
            "concept": program.concept,
            "model": program.model,
            "language": program.language,
            "variant": visit if params else 0,
            "parameters": how,
            "params": values if how == "named" else {"changed": len(values)},
        }
        job = RenderJob(f"{index}", program.language, code, size=size, timeout=self.timeout)
        return Planned(meta, job=job)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.spec, "programs": len(self.programs), "variants": self.variants,
        }  # fmt: skip
        if self.skipped:
            out["skipped"] = dict(self.skipped)
        return out


def _transcript_programs(paths: list[Path]) -> tuple[list[Program], dict[str, int]]:
    """The programs of recorded transcripts, and how many replies were left out and why."""
    from snellen.llm.base import LLMConfigError
    from snellen.llm.replay import read_tsv
    from snellen.render.extract import detect_language, extract_code

    out = []
    skipped: dict[str, int] = {}
    for path in paths:
        if not path.is_file():
            raise InputError(f"transcripts:{path}: no such file; pass recorded transcript TSVs")
        try:
            recordings = read_tsv(path)
        except LLMConfigError as e:
            raise InputError(str(e)) from None
        for rec in recordings:
            found = extract_code(rec.text, None)
            if not found.code:
                why = found.method or "no program in the reply"
            elif not (language := found.language or detect_language(found.code)):
                why = "language of the program not recognised"
            else:
                pid = f"{path.stem}/{rec.line}"
                out.append(Program(pid, language, found.code, rec.concept, rec.model))
                continue
            skipped[why] = skipped.get(why, 0) + 1
    if skipped:
        log.warning("transcripts: left out %s", ", ".join(f"{n} ({w})" for w, n in skipped.items()))
    return out, skipped


def _jsonl_programs(path: Path) -> list[Program]:
    from snellen.render.programs import read_programs

    out = []
    for p in read_programs(path, "jsonl"):
        if not p.code or not p.language:
            continue
        out.append(Program(p.id, p.language, p.code))
    # concepts, when the records carry them
    concepts = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            rec = json.loads(line)
            concepts[str(rec.get("id", n))] = rec.get("concept")
    return [Program(p.id, p.language, p.code, concepts.get(p.id)) for p in out]


def _run_programs(path: Path) -> list[Program]:
    from snellen.store import Run

    run = Run(path)
    out = []
    for row in run.records("drawings"):
        if row.get("status") != "ok" or not row.get("program"):
            continue
        code = run.artifacts.get(row["program"]).decode("utf-8", errors="replace")
        concept = row.get("description") or row.get("concept_id")
        out.append(Program(str(row["key"]), row["language"], code, concept, row.get("model")))
    run.close()
    if not out:
        raise InputError(f"run:{path}: the run holds no rendered drawings; run a check-up first")
    return out


def _transcripts(arg: str | None) -> Source:
    if not arg:
        raise InputError("transcripts needs files: transcripts:FILE[,FILE...]")
    paths = [Path(p) for p in arg.split(",") if p]
    programs, skipped = _transcript_programs(paths)
    return ProgramSource(f"transcripts:{arg}", programs=programs, skipped=skipped, attempts=3)


def _jsonl(arg: str | None) -> Source:
    if not arg or not Path(arg).is_file():
        raise InputError(f"jsonl:{arg}: pass an existing JSONL file of {{id, language, code}}")
    return ProgramSource(f"jsonl:{arg}", programs=_jsonl_programs(Path(arg)), attempts=3)


def _run(arg: str | None) -> Source:
    if not arg or not Path(arg).is_dir():
        raise InputError(f"run:{arg}: pass a check-up run directory")
    return ProgramSource(f"run:{arg}", programs=_run_programs(Path(arg)), attempts=3)


@dataclass
class ShapesSource(Source):
    """The VAD shape concepts' reference SVG programs, one new concept per slot."""

    def needs_renderer(self) -> bool:
        return True

    def plan(self, index: int, seed: int, size: int, attempt: int = 0) -> Planned:
        from snellen.concepts.shapes.describe import describe
        from snellen.concepts.shapes.generate import programs_for
        from snellen.concepts.shapes.spec import sample_spec

        spec = sample_spec(random.Random(f"vad/{seed}/{index}/{attempt}"))  # noqa: S311 - seeded sampling for reproducible data, not security
        meta = {
            "source": self.spec,
            "program_id": f"shapes/{seed}/{index}",
            "concept": describe(spec),
            "params": spec,
            "language": "svg",
        }
        return Planned(meta, job=RenderJob(f"{index}", "svg", programs_for(spec)["svg"], size=size))


def _shapes(arg: str | None) -> Source:
    return ShapesSource("vad-shapes", attempts=3)


@dataclass
class ShaderSource(Source):
    """GLSL fragment shaders (Shadertoy's ``mainImage`` convention), rendered confined on
    the CPU (Mesa llvmpipe); each slot picks a shader and a random time and mouse."""

    shaders: list[Program] = field(default_factory=list)

    def needs_renderer(self) -> bool:
        return True

    def plan(self, index: int, seed: int, size: int, attempt: int = 0) -> Planned:
        from snellen.render.glsl import with_uniforms

        rng = slot_rng(seed, index, attempt, self.spec)
        shader = self.shaders[(index + attempt * 7919) % len(self.shaders)]
        t = round(float(rng.uniform(0, 20)), 4)
        mouse = [round(float(v), 4) for v in rng.uniform(0, 1, 2)]
        code = with_uniforms(shader.code, time=t, mouse=mouse)
        meta = {
            "source": self.spec,
            "program_id": shader.id,
            "concept": None,
            "params": {"time": t, "mouse": mouse},
            "language": "glsl",
        }
        return Planned(meta, job=RenderJob(f"{index}", "glsl", code, size=size))


def _shaders(arg: str | None) -> Source:
    root = Path(arg or "")
    files = (
        sorted(p for ext in ("*.frag", "*.glsl", "*.fs") for p in root.rglob(ext)) if arg else []
    )
    if not files:
        raise InputError(
            f"shaders:{arg}: no .frag/.glsl/.fs files; pass a directory of fragment shaders"
        )
    shaders = [
        Program(str(p.relative_to(root).with_suffix("")), "glsl", p.read_text()) for p in files
    ]
    return ShaderSource(f"shaders:{arg}", shaders=shaders, attempts=3)


def _dead_leaves(arg: str | None) -> Source:
    variant = arg or "squares"
    if variant not in procedural.DEAD_LEAVES_VARIANTS:
        raise InputError(
            f"dead-leaves:{variant}: unknown variant; choose one of "
            + ", ".join(procedural.DEAD_LEAVES_VARIANTS)
        )
    return ProceduralSource(f"dead-leaves:{variant}", kind="dead-leaves", variant=variant)


def _generator(kind: str) -> Callable[[str | None], Source]:
    def make(arg: str | None) -> Source:
        return ProceduralSource(kind, kind=kind)

    return make


# mixtures -----------------------------------------------------------------------------------


@dataclass
class MixSource(Source):
    """A weighted mixture: each slot picks a component by weight (a pure function of the
    seed and the slot) and asks it for its own slot of the same number."""

    parts: list[tuple[Source, float]] = field(default_factory=list)

    def needs_renderer(self) -> bool:
        return any(s.needs_renderer() for s, _ in self.parts)

    def plan(self, index: int, seed: int, size: int, attempt: int = 0) -> Planned:
        total = sum(w for _, w in self.parts)
        cum = np.cumsum([w / total for _, w in self.parts])
        u = float(slot_rng(seed, index, 0, "mix").random())
        source = self.parts[min(bisect.bisect_right(cum.tolist(), u), len(self.parts) - 1)][0]
        planned = source.plan(index, seed, size, attempt)
        planned.meta["mix"] = self.spec
        return planned

    def describe(self) -> dict[str, Any]:
        return {"source": self.spec, "parts": [[s.describe(), w] for s, w in self.parts]}

    def identity(self) -> str:
        return "mix:" + ",".join(f"{s.identity()}={w:g}" for s, w in self.parts)


def _mix(arg: str | None) -> Source:
    if not arg:
        raise InputError("mix needs parts: mix:NAME=W,NAME=W (e.g. mix:fractals=0.5,wmm=0.5)")
    parts = []
    # a part's name may itself hold commas (transcripts:a.tsv,b.tsv): split on ",NAME="
    for piece in _split_mix(arg):
        name, sep, weight = piece.rpartition("=")
        if not sep or not name:
            raise InputError(f"mix:{arg}: each part is NAME=WEIGHT, not {piece!r}")
        try:
            w = float(weight)
        except ValueError:
            raise InputError(f"mix:{arg}: weight {weight!r} is not a number") from None
        if w < 0:
            raise InputError(f"mix:{arg}: weights must be >= 0")
        parts.append((load_source(name), w))
    if sum(w for _, w in parts) <= 0:
        raise InputError(f"mix:{arg}: the weights add up to 0")
    return MixSource(f"mix:{arg}", parts=parts, attempts=max(s.attempts for s, _ in parts))


def _split_mix(arg: str) -> list[str]:
    pieces: list[str] = []
    current = ""
    for chunk in arg.split(","):
        current = f"{current},{chunk}" if current else chunk
        if "=" in current and _is_weight(current):
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def _is_weight(piece: str) -> bool:
    try:
        float(piece.rpartition("=")[2])
        return True
    except ValueError:
        return False


SOURCES: Registry[Callable[[str | None], Source]] = Registry("image source")
SOURCES.register("transcripts", _transcripts, help="recorded LLM transcripts (TSV), with variants")
SOURCES.register("jsonl", _jsonl, help="a JSONL file of {id, language, code[, concept]}")
SOURCES.register("run", _run, help="the drawings of a snellen check-up run")
SOURCES.register("vad-shapes", _shapes, help="reference SVG programs of VAD shape concepts")
SOURCES.register("dead-leaves", _dead_leaves, help="dead leaves: squares|oriented|mixed|textured")
SOURCES.register("fractals", _generator("fractals"), help="random IFS fractals (chaos game)")
SOURCES.register("spectrum", _generator("spectrum"), help="1/f^a spectrum noise in colour")
SOURCES.register("wmm", _generator("wmm"), help="wavelet-marginal-model noise")
SOURCES.register("shaders", _shaders, help="GLSL fragment shaders in a directory, on the CPU")
SOURCES.register("mix", _mix, help="a weighted mixture: mix:NAME=W,NAME=W")


def load_source(spec: str) -> Source:
    """The :class:`Source` named by ``spec`` (see the module docstring)."""
    factory, arg = SOURCES.resolve(spec)
    return factory(arg)
