"""OCR with Tesseract (the ``tesseract`` program, installed by ``scripts/setup.sh``): the words
written in an image with their confidences."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from snellen.errors import InputError


def tesseract_path() -> str:
    path = shutil.which("tesseract")
    if path is None:
        raise InputError(
            "the OCR module needs the tesseract program: apt-get install tesseract-ocr "
            "tesseract-ocr-eng (scripts/setup.sh installs it)"
        )
    return path


def read_text(
    image: Image.Image, *, lang: str = "eng", min_conf: float = 30.0, timeout: float = 60.0
) -> tuple[list[str], list[float]]:
    """Words Tesseract reads in ``image`` (reading order) and their confidences (0..1);
    words under ``min_conf`` percent are dropped."""
    exe = tesseract_path()
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
    words, confs = [], []
    for row in csv.DictReader(io.StringIO(proc.stdout), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        try:
            conf = float(row.get("conf") or -1)
        except ValueError:
            continue
        if text and conf >= min_conf:
            words.append(text)
            confs.append(conf / 100.0)
    return words, confs
