"""Rendering a collection of programs into a run directory (what ``snellen render`` does).

Inputs: a directory of program files (language from the extension), a JSONL file of
``{id, language, code}`` records, or a transcript TSV of model replies (the code is
extracted first). Each finished program is one ``render`` record in the run store, so a
killed run resumes where it stopped; ``results.parquet`` is exported at the end.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snellen.errors import InputError
from snellen.languages import canonical as check_language
from snellen.languages import read_suffixes
from snellen.render.base import LANGUAGES, RenderJob, RenderResult, Status
from snellen.render.extract import detect_language, extract_code
from snellen.transcripts import read_transcript

FORMATS = ("dir", "jsonl", "transcripts")
EXTENSIONS = read_suffixes()  # file suffix -> language (None: decided by the imports)
KIND = "render"


@dataclass(frozen=True)
class Program:
    """One program to render, with where it came from."""

    id: str
    language: str | None
    code: str | None  # None: no code could be extracted
    source: str
    note: str = ""
    # other assemblies of a reply, tried when ``code`` does not compile (see RenderJob)
    fallbacks: tuple[tuple[str, str], ...] = ()


def safe_name(program_id: str) -> str:
    """A file name for an id: path separators and odd characters become ``_``."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", program_id).strip("._") or "program"
    if len(name) > 150:
        import hashlib

        name = name[:130] + "-" + hashlib.sha256(program_id.encode()).hexdigest()[:16]
    return name


def guess_format(path: Path) -> str:
    if path.is_dir():
        return "dir"
    if path.suffix in (".jsonl", ".json"):
        return "jsonl"
    if path.suffix in (".tsv", ".txt"):
        return "transcripts"
    raise InputError(f"{path}: cannot tell the input format; pass --format ({', '.join(FORMATS)})")


def _python_language(code: str) -> str:
    return "turtle" if detect_language(code) == "turtle" else "matplotlib"


def read_dir(path: Path, language: str | None) -> Iterator[Program]:
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in EXTENSIONS)
    if not files:
        raise InputError(
            f"{path}: no program files (expected {', '.join(sorted(EXTENSIONS))}); "
            "pass a directory of programs, a .jsonl file or a transcript .tsv"
        )
    for p in files:
        code = p.read_text(errors="replace")
        lang = language or EXTENSIONS[p.suffix] or _python_language(code)
        yield Program(str(p.relative_to(path).with_suffix("")), lang, code, str(p))


def read_jsonl(path: Path, language: str | None) -> Iterator[Program]:
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(
                    f"{path}:{n}: not valid JSON ({e.msg}); each line must be an object"
                ) from None
            if not isinstance(rec, dict) or "code" not in rec:
                raise InputError(f'{path}:{n}: expected an object with "id", "language" and "code"')
            lang = language or rec.get("language")
            if lang:
                try:
                    lang = check_language(str(lang))
                except InputError as e:
                    raise InputError(f"{path}:{n}: {e}") from None
            pid = str(rec.get("id", n))
            yield Program(pid, lang, rec["code"], f"{path}:{n}")


def read_transcripts(path: Path, language: str | None) -> Iterator[Program]:
    lang = language or "processing"
    for row in read_transcript(path):
        # the reply as written: extract_code undoes its literal escapes itself
        found = extract_code(row.raw_reply, lang)
        yield Program(
            f"{path.stem}/{row.line}", lang, found.code, f"{path}:{row.line}", found.method,
            found.alternatives,
        )  # fmt: skip


def read_programs(
    path: str | os.PathLike[str], fmt: str | None = None, language: str | None = None
) -> Iterator[Program]:
    """The programs in ``path`` (see the module docstring for the formats)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or directory")
    if language is not None:
        language = check_language(language)
    fmt = fmt or guess_format(p)
    readers = {"dir": read_dir, "jsonl": read_jsonl, "transcripts": read_transcripts}
    if fmt not in readers:
        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "dir" and not p.is_dir():
        raise InputError(f"{p}: --format dir needs a directory")
    return readers[fmt](p, language)


def _record(
    result: RenderResult,
    image_path: str | None,
    square_path: str | None,
    note: str,
    ref: str | None,
) -> dict[str, Any]:
    return {
        "id": result.id,
        "language": result.language,
        "status": result.status.value,
        "reason": result.reason,
        "seconds": round(result.seconds, 4),
        "width": result.width,
        "height": result.height,
        "image_path": image_path,
        "square_path": square_path,
        "image_ref": ref,
        "extraction": note,
        "assembly": result.assembly or "extracted",
    }


def render_programs(
    input: str | os.PathLike[str],
    out: str | os.PathLike[str],
    lang: str | None = None,
    workers: int | None = None,
    timeout: float = 20.0,
    size: int | None = None,
    format: str | None = None,
    progress: bool = False,
    backend: Any = None,
) -> Any:
    """Render every program in ``input`` into the run directory ``out``; returns the results
    as a pandas DataFrame (also written to ``out/results.parquet``). Resumable: programs
    already recorded in ``out`` are not rendered again."""
    import pandas as pd

    from snellen.render.pool import LocalPool
    from snellen.store import Run

    fmt = format or guess_format(Path(input))
    config = {
        "input": str(Path(input).resolve()),
        "format": fmt,
        "lang": lang,
        "timeout": timeout,
        "size": size,
    }
    programs = list(read_programs(input, fmt, lang))
    if not programs:
        raise InputError(
            f"{input}: holds no programs to render (an empty {fmt} input); pass a transcript "
            "TSV with model replies, a .jsonl of {id, language, code} records or a folder of "
            "program files"
        )
    run = Run.open(out, command="render", config=config)
    images = Path(out) / "images"
    images.mkdir(exist_ok=True)
    done = set(run.keys(KIND))
    seen: set[str] = set()
    for prog in programs:
        if prog.id in seen:
            raise InputError(f"{prog.source}: id {prog.id!r} appears twice; ids must be unique")
        seen.add(prog.id)
    notes = {p.id: p.note for p in programs}
    todo = [p for p in programs if p.id not in done]

    def save(result: RenderResult) -> None:
        image_path = square_path = ref = None
        if result.png is not None:
            ref = run.artifacts.put(result.png, ".png")
            target = images / f"{safe_name(result.id)}.png"
            target.write_bytes(result.png)
            image_path = str(target.relative_to(out))
        if result.square_png is not None:
            target = images / f"{safe_name(result.id)}.square.png"
            target.write_bytes(result.square_png)
            square_path = str(target.relative_to(out))
        run.put(
            KIND, result.id, _record(result, image_path, square_path, notes.get(result.id, ""), ref)
        )

    jobs = []
    for p in todo:
        if p.code is None or not p.code.strip() or p.language is None:
            why = p.note or "no program found"
            save(RenderResult(p.id, p.language or "", Status.NO_CODE, reason=why))
            continue
        jobs.append(
            RenderJob(p.id, p.language, p.code, size=size, timeout=timeout, fallbacks=p.fallbacks)
        )
    pool = backend or LocalPool(workers)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=len(programs), initial=len(programs) - len(jobs), unit="program", desc="render"
        )
    try:
        for result in pool.map(jobs):
            save(result)
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(result.status.value)
    finally:
        if bar is not None:
            bar.close()
        if backend is None:
            pool.close()
    run.update_manifest(sandbox=getattr(pool, "sandbox", {}), languages=list(LANGUAGES))
    frame = pd.DataFrame([r for r in run.records(KIND)])
    if len(frame):
        order = {p.id: i for i, p in enumerate(programs)}
        frame = frame.sort_values("id", key=lambda s: s.map(order)).reset_index(drop=True)
    frame.to_parquet(Path(out) / "results.parquet", index=False)
    run.finish()
    return frame
