"""Rebuild ``src/snellen/concepts/data/objects.txt``, the 1,000 object names of the
``objects`` concept set.

Sources (give local copies of the files on the command line):

1. ADE20K-Full: the 847 ADE20K classes of the ADE20K-Full semantic segmentation benchmark,
   as listed in ``ADE20K_SEM_SEG_FULL_CATEGORIES`` (MaskFormer / Mask2Former,
   ``mask2former/data/datasets/register_ade20k_full.py``). Kept in the order of that list,
   whose first 150 entries are the SceneParsing-150 classes in ADE20K's frequency order.
2. LVIS v1: ``LVIS_CATEGORIES`` (``detectron2/data/datasets/lvis_v1_categories.py``) ranked by
   the number of training images each category appears in
   (``LVIS_CATEGORY_IMAGE_COUNT``, ``detectron2/data/datasets/lvis_v1_category_image_count.py``),
   most frequent first; used to complete the list to 1,000 names.

Each name is the first synonym, lower-cased, with underscores as spaces and any
parenthetical qualifier dropped; repeated names (ignoring hyphens) are kept once, first
occurrence wins.

    python scripts/build_objects_list.py ADE_FULL.py LVIS_CATEGORIES.py LVIS_IMAGE_COUNT.py
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "snellen" / "concepts" / "data" / "objects.txt"
TARGET = 1000


def literal(path: str, name: str) -> list[dict]:
    """The value of the module-level assignment ``name = [...]`` in a Python source file."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{path}: no assignment to {name}")


def clean(name: str) -> str:
    name = name.split(",")[0].replace("_", " ").lower()
    name = re.sub(r"\s*\([^)]*\)", "", name)
    return re.sub(r"\s+", " ", name).strip()


def main(ade_path: str, lvis_path: str, count_path: str) -> None:
    names: list[str] = []
    seen: set[str] = set()

    def add(raw: str) -> None:
        name = clean(raw)
        key = name.replace("-", " ")  # "flip flop" and "flip-flop" are one object
        if name and key not in seen:
            seen.add(key)
            names.append(name)

    ade = literal(ade_path, "ADE20K_SEM_SEG_FULL_CATEGORIES")
    for cat in sorted(ade, key=lambda c: c["trainId"]):
        add(cat["name"])
    n_ade = len(names)
    counts = {c["id"]: c["image_count"] for c in literal(count_path, "LVIS_CATEGORY_IMAGE_COUNT")}
    lvis = literal(lvis_path, "LVIS_CATEGORIES")
    for cat in sorted(lvis, key=lambda c: (-counts[c["id"]], c["id"])):
        if len(names) >= TARGET:
            break
        add(cat["synonyms"][0] if cat.get("synonyms") else cat["name"])
    header = [
        f"# {TARGET} object names. Names 1-{n_ade}: the ADE20K-Full classes (ADE20K_SEM_SEG_FULL_CATEGORIES",
        "# of MaskFormer/Mask2Former: 847 ADE20K classes in that list's order; first synonym, lower-cased, deduplicated).",
        f"# Names {n_ade + 1}-{TARGET}: LVIS v1 categories not already listed, most training images first",
        "# (detectron2's LVIS_CATEGORIES and LVIS_CATEGORY_IMAGE_COUNT). Built by scripts/build_objects_list.py.",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(header + names) + "\n", encoding="utf-8")
    print(f"wrote {len(names)} names ({n_ade} from ADE20K-Full) to {OUT}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
