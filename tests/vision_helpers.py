"""Small inputs the vision-from-text tests write themselves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SVG_REPLY = (
    'Here is the drawing:\\n```svg\\n<svg xmlns="http://www.w3.org/2000/svg" width="40" '
    'height="40"><rect width="40" height="40" fill="white"/><circle cx="20" cy="20" '
    'r="12" fill="red"/></svg>\\n```'
)
MPL_REPLY = (
    "```python\\nimport matplotlib.pyplot as plt\\nfig, ax = plt.subplots(figsize=(2, 2))\\n"
    "ax.add_patch(plt.Rectangle((0.2, 0.3), 0.5, 0.4, color='blue'))  # a box\\n"
    "ax.set_xlim(0, 1)\\nax.set_ylim(0, 1)\\nax.axis('off')\\nplt.show()\\n```"
)


def write_transcript(path: Path) -> Path:
    """A two-row transcript TSV in the recorded format (nine columns, model in the fourth)."""
    rows = [
        ["Draw an image: there is a line at the top and a ball in the middle.", SVG_REPLY,
         "0", "gpt-4-0314", "", "", "", "", ""],
        ["Draw an image: there is a line at the top and a box in the middle.", MPL_REPLY,
         "0", "gpt-4-0314", "", "", "", "", ""],
    ]  # fmt: skip
    path.write_text("".join("\t".join(r) + "\n" for r in rows))
    return path


PLASMA = """void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 uv = fragCoord / iResolution.xy;
    float v = sin(uv.x * 10.0 + iTime) + sin(uv.y * 12.0 - iTime * 0.7);
    fragColor = vec4(0.5 + 0.5 * cos(v + vec3(0.0, 2.0, 4.0)), 1.0);
}
"""


def snellen(*args: str, **kw: object) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.Popen(
        [sys.executable, "-m", "snellen", *args], env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def run_snellen(*args: str, timeout: float = 300) -> str:
    proc = snellen(*args)
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return out
