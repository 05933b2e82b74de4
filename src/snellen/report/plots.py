"""The report's plots, drawn with matplotlib and inlined as SVG (text as paths: no font or
network is needed to view them)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["bar_chart", "line_chart", "stacked_bars"]

_COLOURS = ("#0969da", "#1a7f37", "#bf3989", "#9a6700", "#8250df", "#cf222e", "#57606a")
STATUS_COLOURS = {
    "ok": "#1a7f37", "blank": "#9a6700", "no_code": "#6e7781", "compile_error": "#cf222e",
    "runtime_error": "#fa4549", "timeout": "#8250df", "memory": "#a475f9", "killed": "#512a97",
}  # fmt: skip


def _figure(width: float = 6.0, height: float = 3.2) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def _svg(fig: object, plot_id: str, title: str) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.tight_layout()  # type: ignore[attr-defined]
    # no date and a fixed id salt: the same numbers give the same page, byte for byte
    with plt.rc_context({"svg.hashsalt": plot_id}):
        fig.savefig(buf, format="svg", metadata={"Date": None})  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    text = buf.getvalue()
    return (
        f'<div class="plot" id="{plot_id}">'
        + text[text.index("<svg") :]
        + f'<p class="note">{title}</p></div>'
    )


def bar_chart(
    groups: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    plot_id: str,
    title: str,
    ylabel: str,
    ylim: tuple[float, float] | None = None,
    chance: float | None = None,
    errors: Mapping[str, Sequence[float | None]] | None = None,
) -> str:
    """Grouped bars: one group per entry of ``groups``, one bar per series (None: no bar);
    ``errors`` (by series name, same shape) draws a +- error bar on a bar."""
    fig, ax = _figure(max(4.0, 1.0 + 0.5 * len(groups) * max(1, len(series))), 3.2)
    n = max(1, len(series))
    width = 0.8 / n
    for i, (name, values) in enumerate(series.items()):
        xs = [g + (i - (n - 1) / 2) * width for g in range(len(groups))]
        pts = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
        ax.bar([x for x, _ in pts], [v for _, v in pts], width, label=name,
               color=_COLOURS[i % len(_COLOURS)])  # fmt: skip
        err = (errors or {}).get(name)
        if err is not None:
            bars = [(x, v, e) for x, v, e in zip(xs, values, err, strict=True)
                    if v is not None and e is not None]  # fmt: skip
            ax.errorbar([x for x, _, _ in bars], [v for _, v, _ in bars],
                        yerr=[e for _, _, e in bars], fmt="none", ecolor="#1d232a", capsize=2,
                        lw=1)  # fmt: skip
    if chance is not None:
        ax.axhline(chance, color="#57606a", lw=1, ls=":", label="chance")
    crowded = len(groups) > 4 or max((len(g) for g in groups), default=0) > 12
    ax.set_xticks(range(len(groups)), groups, rotation=20 if crowded else 0, ha="right"
                  if crowded else "center")  # fmt: skip
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.grid(axis="y", alpha=0.3)
    if len(series) > 1 or chance is not None:
        ax.legend(fontsize=7, loc="best")
    return _svg(fig, plot_id, title)


def stacked_bars(
    groups: Sequence[str],
    stacks: Mapping[str, Sequence[float]],
    *,
    plot_id: str,
    title: str,
    ylabel: str,
    colours: Mapping[str, str] = STATUS_COLOURS,
) -> str:
    """One bar per group, stacked by the keys of ``stacks``."""
    fig, ax = _figure(max(4.0, 1.5 + 0.8 * len(groups)), 3.2)
    bottom = [0.0] * len(groups)
    for i, (name, values) in enumerate(stacks.items()):
        ax.bar(range(len(groups)), values, 0.6, bottom=bottom, label=name,
               color=colours.get(name, _COLOURS[i % len(_COLOURS)]))  # fmt: skip
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(fig, plot_id, title)


def line_chart(
    series: Mapping[str, Mapping[int, float | None]],
    *,
    plot_id: str,
    title: str,
    xlabel: str,
    ylabel: str,
    dashed: Sequence[str] = (),
    bold: Sequence[str] = (),
    ylim: tuple[float, float] | None = (0, 100),
) -> str:
    """One line per series over integer x values (None: no point)."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = _figure()
    for name, pts in series.items():
        xs = sorted(k for k, v in pts.items() if v is not None)
        if not xs:
            continue
        ax.plot(xs, [float(pts[x] or 0.0) for x in xs], "--" if name in dashed else "-",
                marker="o", lw=2.5 if name in bold else 1.2, label=name)  # fmt: skip
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return _svg(fig, plot_id, title)


def interval_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    *,
    plot_id: str,
    title: str,
    ylabel: str,
) -> str:
    """One bar per label with its (asymmetric) confidence interval as an error bar; a label
    without a value gets no bar."""
    fig, ax = _figure(max(4.0, 1.5 + 0.9 * len(labels)), 3.0)
    for i, (v, lo, hi) in enumerate(zip(values, lows, highs, strict=True)):
        if v is None:
            continue
        ax.bar([i], [v], 0.6, color=_COLOURS[i % len(_COLOURS)])
        if lo is not None and hi is not None:
            ax.errorbar([i], [v], yerr=[[max(0.0, v - lo)], [max(0.0, hi - v)]], fmt="none",
                        ecolor="#1d232a", capsize=4, lw=1.2)  # fmt: skip
    crowded = len(labels) > 4 or max((len(x) for x in labels), default=0) > 14
    ax.set_xticks(range(len(labels)), labels, rotation=20 if crowded else 0,
                  ha="right" if crowded else "center")  # fmt: skip
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title, fontsize=9)
    return _svg(fig, plot_id, title)
