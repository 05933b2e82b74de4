"""OCR with Tesseract (the ``tesseract`` program, installed by ``scripts/setup.sh``): the words
written in an image with their confidences. The executable is found and its TSV read by
:mod:`snellen.metrics.ocr`, as for the text-gaming check."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from snellen.errors import InputError
from snellen.metrics.ocr import tesseract, tsv_words

_MISSING = (
    "the OCR module needs the tesseract program: apt-get install tesseract-ocr "
    "tesseract-ocr-eng (scripts/setup.sh installs it)"
)


def read_text(
    image: Image.Image, *, lang: str = "eng", min_conf: float = 30.0, timeout: float = 60.0
) -> tuple[list[str], list[float]]:
    """Words Tesseract reads in ``image`` (reading order) and their confidences (0..1);
    words under ``min_conf`` percent are dropped."""
    exe = tesseract(_MISSING)
    with tempfile.TemporaryDirectory(prefix="snellen-ocr-") as tmp:
        path = Path(tmp) / "image.png"
        im = image.convert("RGB")
        if max(im.size) < 600:  # Tesseract reads small renders better upscaled
            scale = 600 / max(im.size)
            im = im.resize(
                (round(im.width * scale), round(im.height * scale)), Image.Resampling.BICUBIC
            )
        im.save(path)
        proc = subprocess.run(  # noqa: S603 - tesseract on an image file; no shell
            [exe, str(path), "stdout", "-l", lang, "--psm", "3", "tsv"],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    if proc.returncode != 0:
        raise InputError(f"tesseract failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
    words = list(tsv_words(proc.stdout, min_conf))
    return [w.text for w in words], [w.confidence / 100.0 for w in words]
