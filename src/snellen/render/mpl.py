"""matplotlib programs, drawn with the Agg backend at the figure's own size."""

from __future__ import annotations

import contextlib
import io
import os
from typing import Any, cast

from snellen.render.base import RenderJob, Status
from snellen.render.image import canvas_too_large, to_png
from snellen.render.pyexec import ForkingRenderer, ProgramFailure

# Modules drawing programs commonly import; loading them once in the worker makes every
# forked program start warm.
_WARM_MODULES = (
    "math", "random", "colorsys", "itertools", "collections", "numpy",
    "matplotlib.pyplot", "matplotlib.patches", "matplotlib.path", "matplotlib.collections",
    "matplotlib.lines", "matplotlib.colors", "matplotlib.transforms", "matplotlib.patheffects",
    "matplotlib.cm", "matplotlib.text", "mpl_toolkits.mplot3d",
)  # fmt: skip


class MatplotlibRenderer(ForkingRenderer):
    language = "matplotlib"

    def warm(self) -> None:
        os.environ.setdefault("MPLBACKEND", "Agg")
        import importlib

        import matplotlib

        matplotlib.use("Agg", force=True)
        for name in _WARM_MODULES:
            try:
                importlib.import_module(name)
            except ImportError:
                continue
        import matplotlib.pyplot as plt

        # a first drawing loads fonts and caches glyphs before any program runs
        fig = plt.figure(figsize=(1, 1))
        fig.text(0.5, 0.5, "warm", family="DejaVu Sans")
        fig.savefig(io.BytesIO(), format="png")
        plt.close("all")

    def draw(self, code: Any, job: RenderJob, job_dir: str) -> bytes:
        import matplotlib.pyplot as plt

        # programs often close the figure after saving it: keep it to render it ourselves
        plt.close = lambda *args, **kwargs: None
        plt.show = lambda *args, **kwargs: None
        namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        with contextlib.suppress(SystemExit):  # a program may end itself with exit()
            exec(code, namespace)  # noqa: S102 - running the model's program is the job; this is the confined child
        if not plt.get_fignums():
            raise ProgramFailure(Status.BLANK, "the program created no matplotlib figure")
        fig = plt.gcf()
        w, h = (fig.get_size_inches() * fig.dpi).tolist()
        if reason := canvas_too_large(w, h):
            raise ProgramFailure(Status.KILLED, reason)
        return _png(fig)


def _png(fig: Any) -> bytes:
    """The figure as ``savefig`` writes it at its own dpi. With the default save settings
    that is the Agg canvas as drawn, encoded here directly with :func:`to_png` (RGB when
    nothing is transparent): the same pixels, without matplotlib's slower PNG writer."""
    import matplotlib
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    rc = matplotlib.rcParams
    plain = (
        isinstance(fig.canvas, FigureCanvasAgg)
        and rc["savefig.bbox"] in (None, "standard")
        and rc["savefig.facecolor"] == "auto"
        and rc["savefig.edgecolor"] == "auto"
        and not rc["savefig.transparent"]
        and rc["savefig.dpi"] == "figure"
    )
    if not plain:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=fig.dpi)
        return buf.getvalue()
    fig.canvas.draw()
    image = Image.fromarray(np.asarray(fig.canvas.buffer_rgba()))
    alpha = cast("tuple[tuple[int, int], ...]", image.getextrema())[3]
    if alpha[0] == 255:
        image = image.convert("RGB")
    return to_png(image)
