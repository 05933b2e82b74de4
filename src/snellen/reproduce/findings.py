"""The one record every ``snellen reproduce NAME`` writes: a paper's claim, the experiment's
rows (flat records, one per source or model and probe or dataset), a verdict with its reason,
and the figures drawn for it. ``DIR/findings.json`` holds it; ``DIR/findings.html`` shows it.

The page formats what the finding computed: it never recomputes a number.
"""

from __future__ import annotations

import base64
import html
import json
import os
import platform
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from snellen.errors import InputError

__all__ = [
    "VERDICTS",
    "Figure",
    "Finding",
    "Interval",
    "ReproduceOptions",
    "checked_counts",
    "checked_settings",
    "interval",
    "machine_description",
    "read_finding",
    "write_finding",
]

# What a finding may conclude. "undecided at this preset" always carries the reason (too few
# seeds, a loss that did not move, intervals that overlap...).
VERDICTS = ("holds", "holds in kind", "does not hold", "undecided at this preset")

Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class ReproduceOptions:
    """What ``snellen reproduce`` passes to a finding: the preset and the user's overrides
    (``None`` leaves the preset's value). ``extra`` carries finding-specific ``KEY=VALUE``
    options given with ``--set``."""

    out: Path
    preset: str = "quick"
    seeds: int | None = None
    n: int | None = None
    epochs: int | None = None
    sources: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None
    max_minutes: float | None = None
    progress: bool = True
    extra: dict[str, str] = field(default_factory=dict)


def checked_counts(
    options: ReproduceOptions, *, min_n: int = 1, n_unit: str = ""
) -> dict[str, int]:
    """The ``--seeds``, ``--n`` and ``--epochs`` the user gave (those not given left out),
    each checked the same way for every finding: at least 1 seed and 1 epoch, at least
    ``min_n`` cases (``n_unit`` says of what). A value under its floor is an error that names
    the option, the value and the floor."""
    floors = {
        "seeds": (1, "(2 or more for a verdict)"),
        "n": (min_n, n_unit),
        "epochs": (1, ""),
    }
    out: dict[str, int] = {}
    for key, (floor, unit) in floors.items():
        value = getattr(options, key)
        if value is None:
            continue
        if value < floor:
            raise InputError(f"--{key} {value}: give at least {floor}{' ' + unit if unit else ''}")
        out[key] = value
    return out


def checked_settings(finding: str, extra: dict[str, str], known: dict[str, type]) -> dict[str, Any]:
    """The ``--set KEY=VALUE`` options of a finding, typed by ``known`` (key -> ``int``,
    ``float``, ``bool`` or ``str``); a key the finding does not know, or a value not of its
    type, is an error that names it and what to give instead."""
    out: dict[str, Any] = {}
    for key, text in extra.items():
        kind = known.get(key)
        if kind is None:
            raise InputError(f"--set {key}: reproduce {finding} knows {', '.join(known)}")
        if kind is bool:
            if text.lower() not in ("0", "1", "true", "false", "yes", "no"):
                raise InputError(f"--set {key}={text}: give true or false (1/0, yes/no)")
            out[key] = text.lower() in ("1", "true", "yes")
        elif kind in (int, float):
            try:
                out[key] = kind(text)
            except ValueError:
                what = "a whole number" if kind is int else "a number"
                raise InputError(f"--set {key}={text}: give {what}") from None
        else:
            out[key] = text
    return out


@dataclass(frozen=True)
class Figure:
    """A PNG the finding drew, relative to its output directory."""

    path: str
    title: str
    caption: str = ""


@dataclass
class Finding:
    """One reproduced claim. ``rows`` are flat records (scalars only) so that pandas opens
    them as a table; ``config`` records the resolved preset (every number that shaped the
    run)."""

    name: str
    claim: str
    paper: str
    preset: str
    verdict: str
    reason: str
    seconds: float
    rows: list[dict[str, Scalar]]
    command: str = ""
    config: dict[str, Scalar] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    machine: str = field(default_factory=lambda: machine_description())
    date: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {', '.join(VERDICTS)}")
        for i, row in enumerate(self.rows):
            for key, value in row.items():
                if not isinstance(value, str | int | float | bool | type(None)):
                    raise TypeError(
                        f"finding {self.name}: row {i} column {key!r} is "
                        f"{type(value).__name__}; rows hold scalars only"
                    )


@dataclass(frozen=True)
class Interval:
    """Mean, sample standard deviation and a two-sided 95% Student-t interval of the mean
    over ``n`` values (seeds); with one value the interval is the value itself and ``sd``
    is 0 (a verdict must not rest on it)."""

    mean: float
    sd: float
    low: float
    high: float
    n: int


def interval(values: list[float] | tuple[float, ...]) -> Interval:
    """The :class:`Interval` of ``values`` (at least one)."""
    import statistics

    from scipy import stats

    if not values:
        raise ValueError("an interval needs at least one value")
    n = len(values)
    mean = statistics.fmean(values)
    if n == 1:
        return Interval(mean, 0.0, mean, mean, 1)
    sd = statistics.stdev(values)
    half = float(stats.t.ppf(0.975, n - 1)) * sd / n**0.5
    return Interval(mean, sd, mean - half, mean + half, n)


def machine_description() -> str:
    """A line naming the machine a finding ran on (CPU count, and the GPU when torch sees
    one)."""
    cores = os.cpu_count() or 0
    text = f"{platform.machine()} {cores} cores, {platform.system()}"
    try:
        import torch

        if torch.cuda.is_available():
            text += f", {torch.cuda.get_device_name(0)}"
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return text


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write_finding(finding: Finding, out: Path) -> Path:
    """Write ``out/findings.json`` and ``out/findings.html``; returns the JSON's path."""
    out = Path(out)
    data = asdict(finding)
    path = out / "findings.json"
    _atomic_write(path, json.dumps(data, indent=2, allow_nan=False) + "\n")
    _atomic_write(out / "findings.html", render_html(finding, out))
    return path


def read_finding(path: Path) -> Finding:
    """Read a ``findings.json`` (or the directory holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "findings.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{path}: no findings here; run `snellen reproduce NAME --out {path.parent}`"
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not a findings file ({exc})") from None
    data["figures"] = [Figure(**f) for f in data.get("figures", [])]
    return Finding(**data)


def _fmt(value: Scalar) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
    return "" if value is None else str(value)


def render_html(finding: Finding, out: Path) -> str:
    """A self-contained page: the claim, the verdict, the table of rows, and the figures
    (embedded)."""
    e = html.escape
    columns: list[str] = []
    for row in finding.rows:
        columns += [k for k in row if k not in columns]
    head = "".join(f"<th>{e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(_fmt(row.get(c)))}</td>" for c in columns) + "</tr>"
        for row in finding.rows
    )
    figures = []
    for fig in finding.figures:
        path = Path(out) / fig.path
        if not path.is_file():
            figures.append(f"<p class=missing>missing figure: {e(fig.path)}</p>")
            continue
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        figures.append(
            f"<figure><figcaption><b>{e(fig.title)}</b> {e(fig.caption)}</figcaption>"
            f'<img alt="{e(fig.title)}" src="data:image/png;base64,{data}"></figure>'
        )
    config = "".join(
        f"<tr><th>{e(k)}</th><td>{e(_fmt(v))}</td></tr>" for k, v in finding.config.items()
    )
    notes = "".join(f"<li>{e(n)}</li>" for n in finding.notes)
    verdict_class = finding.verdict.replace(" ", "-")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>snellen reproduce {e(finding.name)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}}
table{{border-collapse:collapse;margin:1em 0;font-size:0.9em}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
th{{background:#f3f3f3}} .wide{{overflow-x:auto}}
.verdict{{font-size:1.2em;padding:0.5em 1em;border-radius:6px;display:inline-block}}
.holds,.holds-in-kind{{background:#d9f2d9}} .does-not-hold{{background:#f6d5d5}}
.undecided-at-this-preset{{background:#f4ecc8}}
figure{{display:inline-block;margin:1em;vertical-align:top}} img{{max-width:560px}}
</style></head><body>
<h1>snellen reproduce {e(finding.name)}</h1>
<p><b>Claim</b> ({e(finding.paper)}): {e(finding.claim)}</p>
<p class="verdict {verdict_class}" id="verdict"><b>{e(finding.verdict)}</b>: {e(finding.reason)}</p>
<p>Preset <code>{e(finding.preset)}</code>; command <code>{e(finding.command)}</code>;
{e(finding.machine)}; {e(finding.date)}; {finding.seconds:.0f} s.</p>
<h2>Rows</h2><div class="wide"><table id="rows"><tr>{head}</tr>{body}</table></div>
{"<h2>Notes</h2><ul>" + notes + "</ul>" if notes else ""}
<h2>Figures</h2>{"".join(figures) or "<p>none</p>"}
<h2>Configuration</h2><table>{config}</table>
</body></html>
"""
